import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../src/bench/args.js';
import { computeRatios, fitLine, secondsPerGiB } from '../src/bench/ratios.js';
import { RESULTS_END, RESULTS_START, replaceResults, resultsMarkdown } from '../src/bench/report-md.js';
import { escapeXml, renderSvg, resultsSvg } from '../src/bench/report-svg.js';
import {
  ratiosTable,
  renderMarkdown,
  renderText,
  resultsTable,
  scalingTable,
  type Table,
} from '../src/bench/report-table.js';
import type { BenchResults, Row } from '../src/bench/types.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

function row(over: Partial<Row>): Row {
  return {
    backend: 'fs',
    cache: 'warm',
    scenario: 'full-push',
    tool: 'ckpt',
    workload: 'main',
    runs: 3,
    failures: 0,
    medianWallMs: 1000,
    minWallMs: 900,
    maxWallMs: 1100,
    peakRssBytes: 150 * MiB,
    logicalBytes: 3 * GiB,
    ...over,
  };
}

const fsRows: Row[] = [
  row({ scenario: 'full-push', medianWallMs: 4000, medianOpMs: 3600, peakRssBytes: 180 * MiB }),
  row({ scenario: 'unchanged-push', medianWallMs: 500 }),
  row({ scenario: 'next-push', medianWallMs: 1500, bytesStored: 300 * MiB, oracleBytes: 129 * MiB }),
  row({ scenario: 'fresh-pull', medianWallMs: 3000 }),
  row({ scenario: 'pull-over-previous', medianWallMs: 1000 }),
  row({ scenario: 'full-push', tool: 'cp -r', medianWallMs: 2000 }),
  row({ scenario: 'fresh-pull', tool: 'cp -r', medianWallMs: 1000 }),
  row({ scenario: 'full-push', workload: '0.5GiB', logicalBytes: GiB / 2, medianWallMs: 700 }),
];

function byLabel(rows: Row[]) {
  return Object.fromEntries(computeRatios(rows).map((r) => [r.label, r]));
}

describe('computeRatios', () => {
  it('checks the filesystem targets of issue 6 against cp -r', () => {
    const r = byLabel(fsRows);
    expect(r['full push / cp -r']).toMatchObject({ value: 2, target: '≤ 2.5', pass: true });
    expect(r['fresh pull / cp -r']).toMatchObject({ value: 3, target: '≤ 2', pass: false });
    expect(r['unchanged re-push / cp -r']).toMatchObject({ value: 0.25, target: '≤ 0.5', pass: true });
    expect(r['next-version push / cp -r']).toMatchObject({ value: 0.75 });
    expect(r['next-version push / cp -r']!.target).toBeUndefined();
    expect(r['next version stored / oracle']!.value).toBeCloseTo(300 / 129);
    expect(r['next version stored / oracle']!.pass).toBe(false);
    expect(r['peak RSS of any ckpt operation']).toMatchObject({ value: 180, unit: 'MiB', pass: true });
  });

  it('sets each encrypted operation against the plain one, and reports the encrypted peak RSS apart', () => {
    const encrypted = (over: Partial<Row>) => row({ tool: 'ckpt (encrypted)', ...over });
    const r = byLabel([
      ...fsRows,
      encrypted({ scenario: 'full-push', medianWallMs: 4400, peakRssBytes: 205 * MiB }),
      encrypted({ scenario: 'fresh-pull', medianWallMs: 3300 }),
    ]);
    expect(r['full push: encrypted / plain']).toMatchObject({ value: 1.1, target: '≤ 1.15', pass: true });
    expect(r['fresh pull: encrypted / plain']).toMatchObject({ value: 1.1, pass: true });
    expect(r['next-version push: encrypted / plain']).toBeUndefined();
    expect(r['peak RSS of any ckpt operation']).toMatchObject({ value: 180, pass: true });
    expect(r['peak RSS of any encrypted ckpt operation']).toMatchObject({ value: 205, unit: 'MiB' });
    expect(r['peak RSS of any encrypted ckpt operation']!.target).toBeUndefined();
    expect(byLabel(fsRows)['peak RSS of any encrypted ckpt operation']).toBeUndefined();
  });

  it('measures the spread of time per GiB across workload sizes, by engine time where known', () => {
    const r = byLabel(fsRows);
    // 0.5 GiB in 0.7 s (wall only) = 1.4 s/GiB; 3 GiB in 3.6 s of engine time = 1.2 s/GiB
    expect(secondsPerGiB(fsRows[0]!)).toBeCloseTo(1.2);
    expect(r['full push: s/GiB (engine time) spread over sizes']!.value).toBeCloseTo(1.4 / 1.2);
    // two sizes: a line fits any two points, so flatness beyond the fixed cost is not judged
    expect(r['full push: s/GiB beyond the fixed cost, spread over sizes']).toBeUndefined();
  });

  it('fits a line through the sizes: the fixed cost, and the spread of the cost per GiB beyond it', () => {
    expect(
      fitLine([
        [1, 3],
        [2, 5],
        [4, 9],
      ]),
    ).toEqual({ fixed: 1, perGiB: 2 });
    const sized = (gib: number, opMs: number, over: Partial<Row> = {}) =>
      row({ workload: `${gib}GiB`, logicalBytes: gib * GiB, medianOpMs: opMs, ...over });
    // 0.2 s + 1 s/GiB: flat once the fixed cost is out, though 0.5 GiB costs 1.4 s/GiB
    const linear = byLabel([sized(0.5, 700), sized(2, 2200), sized(8, 8200)]);
    expect(linear['full push: s/GiB (engine time) spread over sizes']!.value).toBeCloseTo(1.4 / 1.025);
    expect(linear['full push: fixed cost (fitted)']).toMatchObject({ unit: 's' });
    expect(linear['full push: fixed cost (fitted)']!.value).toBeCloseTo(0.2);
    expect(linear['full push: s/GiB beyond the fixed cost, spread over sizes']).toMatchObject({ pass: true });
    expect(linear['full push: s/GiB beyond the fixed cost, spread over sizes']!.value).toBeCloseTo(1);
    // the largest size costs twice as much per GiB: no line fits, and the spread says so
    const steep = byLabel([sized(0.5, 700), sized(2, 2200), sized(8, 16_200)]);
    expect(steep['full push: s/GiB beyond the fixed cost, spread over sizes']!.value).toBeGreaterThan(1.25);
    expect(steep['full push: s/GiB beyond the fixed cost, spread over sizes']!.pass).toBe(false);
    // cp -r's own time per GiB over the sizes it ran, for comparison
    const withCopy = byLabel([
      sized(0.5, 700),
      sized(2, 2200),
      sized(8, 8200),
      sized(0.5, 0, { tool: 'cp -r', medianWallMs: 500, medianOpMs: undefined }),
      sized(2, 0, { tool: 'cp -r', medianWallMs: 1500, medianOpMs: undefined }),
    ]);
    expect(withCopy['full push: cp -r s/GiB spread over sizes']!.value).toBeCloseTo(1 / 0.75);
    expect(withCopy['full push: cp -r s/GiB spread over sizes']!.target).toBeUndefined();
  });

  it('compares s3 with every tool that ran and with the raw SDK ceiling', () => {
    const s3 = (over: Partial<Row>) => row({ backend: 's3', ...over });
    const r = byLabel([
      s3({ scenario: 'full-push', medianWallMs: 20_000, bytesSent: 1.5 * GiB }),
      s3({ scenario: 'next-push', medianWallMs: 5000 }),
      s3({ scenario: 'fresh-pull', medianWallMs: 10_000, bytesReceived: 1.5 * GiB }),
      s3({ scenario: 'full-push', tool: 'aws s3 sync', medianWallMs: 40_000 }),
      s3({ scenario: 'next-push', tool: 'aws s3 sync', medianWallMs: 40_000 }),
      s3({ scenario: 'fresh-pull', tool: 'aws s3 sync', medianWallMs: 8000 }),
      s3({ scenario: 'raw-put', tool: 'sdk', medianWallMs: 30_000 }),
      s3({ scenario: 'raw-get', tool: 'sdk', medianWallMs: 10_000 }),
    ]);
    expect(r['full push / aws s3 sync']).toMatchObject({ value: 0.5, target: '< 1', pass: true });
    expect(r['fresh pull / aws s3 sync']).toMatchObject({ value: 1.25, pass: false });
    expect(r['next-version push / aws s3 sync']).toMatchObject({ value: 0.125, target: '≤ 0.2', pass: true });
    expect(r['full push / rclone copy']).toBeUndefined();
    // ckpt: 1.5 GiB in 20 s; raw: 3 GiB in 30 s
    expect(r['push wire MiB/s / raw SDK put']!.value).toBeCloseTo(0.75);
    expect(r['full push / raw SDK put of the same checkpoint']!.value).toBeCloseTo(20 / 30);
    expect(r['push wire MiB/s / raw SDK put']).toMatchObject({ target: '≥ 0.8', pass: false });
    expect(r['pull wire MiB/s / raw SDK get']!.value).toBeCloseTo(0.5);
    expect(r['peak RSS of any ckpt operation']!.target).toBeUndefined();
  });

  it('holds Azure and GCS to issues 21 and 22: faster than each peer, a next version 10× faster', () => {
    const on = (backend: Row['backend']) => (over: Partial<Row>) => row({ backend, ...over });
    const rows = (backend: Row['backend'], tools: Row['tool'][]) => {
      const make = on(backend);
      return [
        make({ scenario: 'full-push', medianWallMs: 10_000 }),
        make({ scenario: 'next-push', medianWallMs: 2000 }),
        make({ scenario: 'fresh-pull', medianWallMs: 6000 }),
        ...tools.flatMap((tool) => [
          make({ scenario: 'full-push', tool, medianWallMs: 20_000 }),
          make({ scenario: 'next-push', tool, medianWallMs: 19_000 }),
          make({ scenario: 'fresh-pull', tool, medianWallMs: 5000 }),
        ]),
      ];
    };
    const ratios = computeRatios([
      ...rows('azure', ['azcopy copy', 'rclone copy']),
      ...rows('gcs', ['rclone copy']),
    ]);
    const of = (backend: string, label: string) =>
      ratios.find((r) => r.backend === backend && r.label === label);
    for (const [backend, tool] of [
      ['azure', 'azcopy copy'],
      ['azure', 'rclone copy'],
      ['gcs', 'rclone copy'],
    ]) {
      expect(of(backend!, `full push / ${tool}`)).toMatchObject({ value: 0.5, target: '< 1', pass: true });
      expect(of(backend!, `fresh pull / ${tool}`)).toMatchObject({ value: 1.2, target: '< 1', pass: false });
      expect(of(backend!, `next-version push / ${tool}`)!.value).toBeCloseTo(2 / 19);
      expect(of(backend!, `next-version push / ${tool}`)).toMatchObject({ target: '≤ 0.1', pass: false });
    }
    expect(of('gcs', 'full push / azcopy copy')).toBeUndefined();
  });

  it('has no verdict when a figure is missing', () => {
    const r = byLabel([row({ scenario: 'full-push' }), row({ scenario: 'full-push', tool: 'cp -r' })]);
    expect(r['fresh pull / cp -r']!.value).toBeNaN();
    expect(r['fresh pull / cp -r']!.pass).toBeUndefined();
  });
});

describe('tables', () => {
  it('puts cache modes side by side in the ratios table', () => {
    const warm = computeRatios(fsRows);
    const cold = computeRatios(
      fsRows.map((r) => ({ ...r, cache: 'cold' as const, medianWallMs: r.medianWallMs * 2 })),
    );
    const t = ratiosTable([...warm, ...cold]);
    expect(t.headers).toEqual(['backend', 'measure', 'target', 'warm', 'cold']);
    expect(t.cells).toHaveLength(warm.length);
    expect(t.cells[0]).toEqual(['fs', 'full push / cp -r', '≤ 2.5', '2.00× ✓', '2.00× ✓']);
    expect(t.cells.find((c) => c[1] === 'peak RSS of any ckpt operation')).toEqual([
      'fs',
      'peak RSS of any ckpt operation',
      '≤ 200 MiB',
      '180 MiB ✓',
      '180 MiB ✓',
    ]);
  });

  const table: Table = {
    headers: ['name', 'n'],
    right: [1],
    cells: [
      ['a|b', '1'],
      ['long name', '123'],
    ],
  };

  it('renders aligned text', () => {
    expect(renderText(table).split('\n')).toEqual([
      'name         n',
      '---------  ---',
      'a|b          1',
      'long name  123',
    ]);
  });

  it('renders markdown with escaped pipes and right-aligned numbers', () => {
    expect(renderMarkdown(table).split('\n')).toEqual([
      '| name | n |',
      '|---|---:|',
      '| a\\|b | 1 |',
      '| long name | 123 |',
    ]);
  });

  it('gives every result row all its columns', () => {
    const t = resultsTable(fsRows);
    expect(t.cells).toHaveLength(fsRows.length);
    for (const cells of t.cells) expect(cells).toHaveLength(t.headers.length);
    expect(t.cells[2]).toContain('300.0 MiB / 129.0 MiB');
    expect(t.cells[0]![6]).toBe('4.00'); // median wall seconds
    expect(t.cells[0]!.at(-1)).toBe('-'); // no server behind the filesystem store
    const served = resultsTable([row({ backend: 'azure', medianServerCores: 0.934 })]);
    expect(served.headers.at(-1)).toBe('server cores');
    expect(served.cells[0]!.at(-1)).toBe('0.93');
  });

  it('gives scaling per GiB: engine time, marginal time from the next smaller size, cp -r, CPU user and sys', () => {
    const t = scalingTable([
      row({
        workload: '2GiB',
        logicalBytes: 2 * GiB,
        medianOpMs: 2500,
        medianCpuUserMs: 3000,
        medianCpuSystemMs: 1000,
      }),
      row({ workload: '0.5GiB', logicalBytes: GiB / 2, medianOpMs: 1000 }),
      row({ workload: 'small-files', logicalBytes: 100 * MiB, medianOpMs: 900 }),
      row({ scenario: 'fresh-pull', workload: '2GiB', logicalBytes: 2 * GiB, medianOpMs: 800 }),
      row({ tool: 'cp -r', workload: '2GiB', logicalBytes: 2 * GiB, medianWallMs: 1200 }),
    ]);
    const column = (name: string) => t.cells.map((cells) => cells[t.headers.indexOf(name)]);
    // by operation, then size, the small files last
    expect(t.cells.map((cells) => `${cells[2]} ${cells[3]}`)).toEqual([
      'fresh pull 2GiB',
      'full push 0.5GiB',
      'full push 2GiB',
      'full push small-files',
    ]);
    expect(column('s/GiB (engine)')).toEqual(['0.40', '2.00', '1.25', '9.22']);
    // (2.5 s - 1 s) / 1.5 GiB; none across operations or against the small files
    expect(column('marginal s/GiB')).toEqual(['-', '-', '1.00', '-']);
    // cp -r's wall time per GiB on the same workload, operation and cache, where it ran
    expect(column('cp -r s/GiB')).toEqual(['-', '-', '0.60', '-']);
    expect(column('CPU user s/GiB')).toEqual(['-', '-', '1.50', '-']);
    expect(column('CPU sys s/GiB')).toEqual(['-', '-', '0.50', '-']);
  });
});

function results(rows: Row[]): BenchResults {
  return {
    schema: 'ckpt-bench/1',
    date: '2026-11-28T12:00:00.000Z',
    args: parseBenchArgs([]),
    machine: {
      cpus: 2,
      cpuModel: 'Test CPU',
      memoryBytes: 24 * GiB,
      disk: '/dev/vda ext4 252G 60G',
      node: 'v20.20.2',
      kernel: 'Linux 6.1',
      loadAverageStart: [5, 4, 3],
      loadAverageEnd: [6, 5, 4],
      dropCaches: true,
      tools: { cp: 'cp (GNU coreutils) 9.1' },
    },
    workloads: [{ name: `v0-${3 * GiB}`, files: 256, bytes: 3 * GiB, zeroBytes: 1.35 * GiB }],
    measurements: [],
    rows,
    ratios: computeRatios(rows),
    durationMs: 60_000,
  };
}

describe('svg', () => {
  it('escapes text', () => {
    expect(escapeXml(`a<b>&"c'`)).toBe('a&#60;b&#62;&#38;&#34;c&#39;');
  });

  it('draws one bar per value, scaled to the longest of its group', () => {
    const svg = renderSvg('t <1>', [
      {
        title: 'p',
        scale: 'group',
        groups: [
          {
            label: 'g',
            bars: [
              { name: 'ckpt', value: 2, text: '2 s' },
              { name: 'cp -r', value: 4, text: '4 s' },
            ],
          },
        ],
      },
    ]);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('t &#60;1&#62;');
    const bars = svg.matchAll(/<rect x="230" y="[\d.]+" width="([\d.]+)" height="13"/g);
    const widths = [...bars].map((m) => Number(m[1]));
    expect(widths).toEqual([280, 560]);
  });

  it('renders a whole result set with balanced tags', () => {
    const svg = resultsSvg(results(fsRows));
    expect(svg).toContain('fs: full push');
    expect(svg).toContain('s/GiB');
    const opened = (svg.match(/<(rect|text|svg|title)\b(?:[^>]*[^/>])?>/g) ?? []).length;
    const closed = (svg.match(/<\/(rect|text|svg|title)>/g) ?? []).length;
    expect(opened).toBe(closed);
    expect(svg).not.toMatch(/NaN|undefined/);
  });
});

describe('markdown', () => {
  it('describes the machine, the targets and every row', () => {
    const md = resultsMarkdown(results(fsRows), 'bench/bench.svg');
    expect(md).toContain('2 × Test CPU, 24.00 GiB RAM');
    expect(md).toContain('3.00 GiB in 256 files, 45 % zero pages');
    expect(md).toContain('| backend | measure | target | warm |');
    expect(md).toContain('| fs | full push / cp -r | ≤ 2.5 | 2.00× ✓ |');
    expect(md).toContain('| fs | fresh pull / cp -r | ≤ 2 | 3.00× ✗ |');
    expect(md).toContain('| fs | next-version push / cp -r |  | 0.75× |');
    expect(md).toContain(
      '![ckpt against cp -r, aws s3 sync, rclone copy, s5cmd sync, restic and azcopy copy](bench/bench.svg)',
    );
    expect(md).toContain('#### Scaling');
  });

  it('replaces only the text between the markers', () => {
    const doc = `# B\nintro\n${RESULTS_START}\nold\n${RESULTS_END}\n## History\n| keep |\n`;
    const next = replaceResults(doc, 'new results\n');
    expect(next).toBe(
      `# B\nintro\n${RESULTS_START}\n\nnew results\n\n${RESULTS_END}\n## History\n| keep |\n`,
    );
    expect(replaceResults(next, 'newer')).toContain(`${RESULTS_START}\n\nnewer\n\n${RESULTS_END}`);
    expect(() => replaceResults('# no markers', 'x')).toThrow(/markers/);
  });
});
