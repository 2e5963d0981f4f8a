import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeCheckpoint, readTree } from '@ckpt/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { ckpt, FIXTURES, filesBySize, lines, start, tempDir } from './helpers.js';

/** Parses stdout as the one JSON object `--json` promises. */
function json(run: { stdout: string }) {
  expect(lines(run.stdout)).toHaveLength(1);
  return JSON.parse(run.stdout);
}

describe('with the sync engine', () => {
  let cwd: string;
  let source: string;
  beforeAll(async () => {
    cwd = await tempDir();
    source = await makeCheckpoint(path.join(cwd, 'llama'));
  });

  it('push then pull elsewhere restores the directory exactly (default store), with one-line summaries', async () => {
    const push = await ckpt(['push', 'llama', '--model', 'llama-8b'], { cwd });
    expect(push).toMatchObject({ code: 0, stderr: '' });
    expect(lines(push.stdout)).toHaveLength(1);
    expect(push.stdout).toMatch(
      /^pushed llama-8b generation \S+: 27 files, 7\.\d+ MiB; transferred .*, reused \d+ of \d+ chunks; .*\/s$/m,
    );
    expect(existsSync(path.join(cwd, '.ckpt-store'))).toBe(true);

    const other = await tempDir();
    const pull = await ckpt(['pull', 'llama-8b', 'restored', '--store', path.join(cwd, '.ckpt-store')], {
      cwd: other,
    });
    expect(pull).toMatchObject({ code: 0, stderr: '' });
    expect(pull.stdout).toMatch(/^pulled llama-8b generation \S+ into restored: 27 files/);
    expect(await readTree(path.join(other, 'restored'))).toEqual(await readTree(source));
  });

  it('a second push of the same directory says it is unchanged and writes nothing', async () => {
    const first = json(await ckpt(['push', 'llama', '-m', 'twice', '--json'], { cwd }));
    expect(first.created).toBe(true);
    expect(json(await ckpt(['push', 'llama', '-m', 'twice', '--json'], { cwd })).created).toBe(false);
    const again = await ckpt(['push', 'llama', '-m', 'twice'], { cwd });
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(again.stdout).toMatch(
      new RegExp(
        `^twice is unchanged since generation ${first.generation}: nothing written; 27 files, .*transferred 0 B`,
      ),
    );
  });

  it('--json: push and pull print exactly one object with the transfer counters', async () => {
    const push = await ckpt(['push', 'llama', '-m', 'json-model', '--label', 'host=a', '--json'], { cwd });
    expect(push.code).toBe(0);
    const pushed = json(push);
    const files = Object.values(await readTree(source)).flatMap((entry) =>
      entry.type === 'file' ? [entry] : [],
    );
    expect(pushed).toMatchObject({
      model: 'json-model',
      generation: expect.any(String),
      files: files.length,
      bytes: files.reduce((sum, file) => sum + file.size, 0),
      bytesTransferred: expect.any(Number),
      durationMs: expect.any(Number),
    });
    const pull = await ckpt(['pull', 'json-model', 'out-json', '--json'], { cwd });
    expect(pull.code).toBe(0);
    expect(json(pull)).toMatchObject({
      model: 'json-model',
      generation: pushed.generation,
      files: files.length,
      bytes: pushed.bytes,
      bytesTransferred: expect.any(Number),
      durationMs: expect.any(Number),
      dir: path.join(cwd, 'out-json'),
    });
  });

  it('ls lists models and generations (table, and one JSON object)', async () => {
    await ckpt(['push', 'llama', '-m', 'listed', '--label', 'host=h1'], { cwd });
    const table = await ckpt(['ls'], { cwd });
    expect(table.code).toBe(0);
    expect(lines(table.stdout)[0]).toMatch(/^MODEL +GENERATIONS +LATEST +CREATED +FILES +SIZE$/);
    expect(table.stdout).toMatch(/^listed +1 +\S+ +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +27 +7\.\d+ MiB$/m);

    const models = json(await ckpt(['ls', '--json'], { cwd }));
    expect(models.models.map((m: { model: string }) => m.model)).toContain('listed');

    const generations = json(await ckpt(['ls', 'listed', '--json'], { cwd }));
    expect(generations).toMatchObject({
      model: 'listed',
      generations: [{ model: 'listed', files: 27, labels: { host: 'h1' }, createdAt: expect.any(String) }],
    });
    expect(Number.isNaN(Date.parse(generations.generations[0].createdAt))).toBe(false);
    expect(generations.generations[0].addedBytes).toBe(generations.generations[0].storedBytes);

    // a second generation with the same files adds nothing but its manifest: ADDED shows 0 B
    await ckpt(['push', 'llama', '-m', 'listed', '--label', 'host=h2'], { cwd });
    const rows = lines((await ckpt(['ls', 'listed'], { cwd })).stdout);
    expect(rows[0]).toMatch(/^GENERATION +CREATED +FILES +SIZE +ADDED +LABELS$/);
    expect(rows[1]).toMatch(/ 27 +7\.\d+ MiB +\d+\.\d+ MiB +host=h1$/);
    expect(rows[2]).toMatch(/ 27 +7\.\d+ MiB +0 B +host=h2$/);
  });

  it('exists exits 0 or 3; --quiet prints nothing', async () => {
    await ckpt(['push', 'llama', '-m', 'present'], { cwd });
    expect(await ckpt(['exists', 'present', '--quiet'], { cwd })).toMatchObject({
      code: 0,
      stdout: '',
      stderr: '',
    });
    const absent = await ckpt(['exists', 'absent', '--json'], { cwd });
    expect(absent.code).toBe(3);
    expect(json(absent)).toEqual({ model: 'absent', exists: false });
  });

  it('pull replaces only what ckpt wrote: others need --force, --dry-run shows the changes', async () => {
    const target = path.join(cwd, 'theirs');
    await mkdir(target);
    await writeFile(path.join(target, 'mine.txt'), 'hi');
    const refused = await ckpt(['pull', 'llama-8b', 'theirs'], { cwd });
    expect(refused.code).toBe(2);
    expect(lines(refused.stderr)).toHaveLength(1);
    expect(refused.stderr).toMatch(/^ckpt: pull .*theirs: .*ckpt did not write it; pass --force/);
    const dry = await ckpt(['pull', 'llama-8b', 'theirs', '--dry-run'], { cwd });
    expect(dry.code).toBe(0);
    expect(lines(dry.stdout)).toContain('- mine.txt');
    expect(dry.stdout).toMatch(/would add \d+, change 0, remove 1\n/);
    expect(await readFile(path.join(target, 'mine.txt'), 'utf8')).toBe('hi');
    expect((await ckpt(['pull', 'llama-8b', 'theirs', '--force'], { cwd })).code).toBe(0);
    expect(existsSync(path.join(target, 'mine.txt'))).toBe(false);
    // ckpt wrote it now: a plain pull may replace it
    expect((await ckpt(['pull', 'llama-8b', 'theirs'], { cwd })).code).toBe(0);
    for (const args of [
      ['pull', 'llama-8b', ''],
      ['pull', 'llama-8b', '.', '--force'],
      ['pull', 'llama-8b', '..', '--force'],
      ['push', '', '--model', 'llama-8b'],
    ]) {
      const run = await ckpt(args, { cwd });
      expect(run.code, args.join(' ')).toBe(2);
      expect(lines(run.stderr), args.join(' ')).toHaveLength(1);
    }
    expect(existsSync(path.join(cwd, 'llama'))).toBe(true);
  });

  it('a missing model: pull, verify, ls and delete exit 3 with one line, and pull creates nothing', async () => {
    for (const args of [
      ['pull', 'absent', 'target'],
      ['verify', 'absent'],
      ['ls', 'absent'],
      ['delete', 'absent', '--all'],
    ]) {
      const run = await ckpt(args, { cwd });
      expect(run.code, args.join(' ')).toBe(3);
      expect(lines(run.stderr)).toHaveLength(1);
      expect(run.stderr).toMatch(/^ckpt: .*absent/);
    }
    expect(existsSync(path.join(cwd, 'target'))).toBe(false);
    const missingGeneration = await ckpt(
      ['pull', 'llama-8b', 'target', '-g', '20200101T000000000Z-00000000', '--json'],
      { cwd },
    );
    expect(missingGeneration.code).toBe(3);
    expect(json(missingGeneration).error).toMatchObject({ code: 'NotFound', exitCode: 3 });
  });

  it('delete and gc remove everything, or use a grace below 5m, only when told; dry runs remove nothing', async () => {
    const store = await tempDir();
    await ckpt(['push', 'llama', '-m', 'doomed', '--store', store], { cwd });
    // removing every generation, or all data at once, must be asked for
    const guarded = [
      ['delete', 'doomed'],
      ['gc', '--keep', '0'],
      ['gc', '--grace', '1m'],
    ];
    for (const args of guarded) {
      const run = await ckpt([...args, '--store', store], { cwd });
      expect(run.code, args.join(' ')).toBe(2);
      expect(lines(run.stderr), args.join(' ')).toHaveLength(1);
      expect(run.stderr).toMatch(/--all|--force/);
    }
    const dry = await ckpt(['delete', 'doomed', '--all', '--dry-run', '--store', store], { cwd });
    expect(dry.stdout).toMatch(/^delete \(dry run\): would delete 1 generation of doomed/);
    expect((await ckpt(['exists', 'doomed', '--store', store], { cwd })).code).toBe(0);
  });

  it('verify passes, delete hides the checkpoint, gc frees its data', async () => {
    const store = await tempDir();
    await ckpt(['push', 'llama', '-m', 'doomed', '--store', store], { cwd });
    const verify = await ckpt(['verify', 'doomed', '--store', store, '--json'], { cwd });
    expect(verify.code).toBe(0);
    expect(json(verify)).toMatchObject({ model: 'doomed', ok: true, files: 27, problems: [] });

    const removed = json(await ckpt(['delete', 'doomed', '--all', '--store', store, '--json'], { cwd }));
    expect(removed).toEqual({ model: 'doomed', generations: [expect.any(String)] });
    expect((await ckpt(['exists', 'doomed', '--store', store], { cwd })).code).toBe(3);

    const gc = await ckpt(['gc', '--keep', '1', '--grace', '0s', '--force', '--store', store, '--json'], {
      cwd,
    });
    expect(gc.code).toBe(0);
    expect(json(gc)).toMatchObject({ packsDeleted: expect.any(Number), bytesFreed: expect.any(Number) });
    expect(json(gc).bytesFreed).toBeGreaterThan(0);
    const again = await ckpt(['gc', '--grace', '0', '--force', '--store', store], { cwd });
    expect(again.stdout).toMatch(/^gc: .*deleted 0 packs, 0 B;/);
  });

  it('a corrupted pack: verify exits 4 naming the file, pull exits 4', async () => {
    const store = await tempDir();
    await ckpt(['push', 'llama', '-m', 'bitrot', '--store', store], { cwd });
    const [largest] = await filesBySize(store, '.pack');
    const bytes = await readFile(largest!);
    bytes[bytes.length >> 1]! ^= 0xff;
    await writeFile(largest!, bytes);

    const verify = await ckpt(['verify', 'bitrot', '--store', store], { cwd });
    expect(verify.code).toBe(4);
    expect(lines(verify.stderr)).toHaveLength(1);
    expect(verify.stderr).toMatch(/^ckpt: verify bitrot .*integrity failure: pages-1\.img: /);
    const report = json(await ckpt(['verify', 'bitrot', '--store', store, '--json'], { cwd }));
    expect(report).toMatchObject({ ok: false, problems: [{ path: 'pages-1.img' }] });

    const pull = await ckpt(['pull', 'bitrot', 'rotten', '--store', store], { cwd });
    expect(pull.code).toBe(4);
    expect(lines(pull.stderr)).toHaveLength(1);
    expect(pull.stderr).toContain('pages-1.img');
  });

  it('damaged packs in a larger checkpoint: every pull exits 4 with one line and leaves nothing', async () => {
    const store = await tempDir();
    const big = path.join(cwd, 'big');
    await mkdir(big);
    await writeFile(path.join(big, 'pages-1.img'), randomBytes(40 << 20));
    expect((await ckpt(['push', 'big', '-m', 'damaged', '--store', store], { cwd })).code).toBe(0);
    // a bad chunk early in each pack: its read still streams when the hash check fails
    for (const pack of await filesBySize(store, '.pack')) {
      const bytes = await readFile(pack);
      bytes[200_000]! ^= 0xff;
      await writeFile(pack, bytes);
    }
    for (let i = 0; i < 4; i++) {
      const pull = await ckpt(['pull', 'damaged', 'damaged-out', '--store', store], { cwd });
      expect(pull.code).toBe(4);
      expect(lines(pull.stderr)).toEqual([expect.stringMatching(/^ckpt: pull .*does not match its hash/)]);
      expect((await readdir(cwd)).filter((n) => n.includes('damaged-out'))).toEqual([]);
    }
  }, 60_000);

  it('a push that expected another latest generation exits 5 (conflict)', async () => {
    const store = await tempDir();
    const first = json(await ckpt(['push', 'llama', '-m', 'raced', '--store', store, '--json'], { cwd }));
    const stale = await ckpt(['push', 'llama', '-m', 'raced', '--store', store, '--expect-latest', 'none'], {
      cwd,
    });
    expect(stale.code).toBe(5);
    expect(lines(stale.stderr)).toHaveLength(1);
    const fresh = await ckpt(
      ['push', 'llama', '-m', 'raced', '--store', store, '--expect-latest', first.generation],
      { cwd },
    );
    expect(fresh.code).toBe(0);
  });

  describe('a custom backend from a config-named module', () => {
    let dir: string;
    async function configure(putDelayMs: number) {
      dir = await tempDir();
      const config = {
        store: { type: 'slow-fs', root: path.join(dir, 'store'), putDelayMs },
        modules: [path.join(FIXTURES, 'slow-backend.mjs')],
      };
      await writeFile(path.join(dir, 'ckpt.config.json'), JSON.stringify(config));
    }

    it('is named in the first verbose line and stores checkpoints', async () => {
      await configure(0);
      const push = await ckpt(['push', source, '-m', 'custom', '--verbose'], { cwd: dir });
      expect(push.code).toBe(0);
      expect(lines(push.stderr)[0]).toBe(
        `ckpt: store slow-fs root=${path.join(dir, 'store')} putDelayMs=0 (from ${path.join(dir, 'ckpt.config.json')})`,
      );
      expect((await ckpt(['exists', 'custom'], { cwd: dir })).code).toBe(0);
    });

    it('Ctrl-C during a push aborts it: exit 130, and nothing half-written is visible', async () => {
      await configure(400);
      const child = start(['push', source, '-m', 'interrupted', '--verbose'], { cwd: dir });
      let stderr = '';
      await new Promise<void>((resolve) =>
        child.stderr!.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (stderr.includes('ckpt: upload:')) resolve();
        }),
      );
      child.kill('SIGINT');
      const run = await child.result;
      expect(run.code).toBe(130);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('interrupted (SIGINT)');
      expect(run.stderr).not.toMatch(/\n\s+at /);

      const exists = await ckpt(['exists', 'interrupted'], { cwd: dir });
      expect(exists.code).toBe(3);
      const listed = json(await ckpt(['ls', '--json'], { cwd: dir }));
      expect(listed.models).toEqual([]);
    });
  });
});
