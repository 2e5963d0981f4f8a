// `--metrics-file`: the run's figures as Prometheus text, read back with a parser of that format.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { makeCheckpoint } from '@ckpt/test-utils';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { ckpt, tempDir } from './helpers.js';

/** Each metric family of the file by name: its type and its one sample's labels and value. */
async function families(file: string) {
  const parsed = parsePrometheusTextFormat(await readFile(file, 'utf8'));
  return new Map(
    parsed.map((family) => {
      expect(family.metrics).toHaveLength(1);
      const [sample] = family.metrics;
      return [family.name, { type: family.type, labels: sample?.labels, value: Number(sample?.value) }];
    }),
  );
}

describe('--metrics-file', () => {
  it("writes the push's figures, labelled by operation, model and store, and replaces them on the next run", async () => {
    const cwd = await tempDir();
    await makeCheckpoint(path.join(cwd, 'src'));
    const run = await ckpt(['push', 'src', '-m', 'org/llama', '--json', '--metrics-file', 'm.prom'], { cwd });
    expect(run.code).toBe(0);
    const pushed = JSON.parse(run.stdout);

    const seen = await families(path.join(cwd, 'm.prom'));
    const labels = {
      operation: 'push',
      model: 'org/llama',
      store: expect.stringMatching(/^file:\/\/.*\.ckpt-store$/),
    };
    expect(seen.get('ckpt_last_run_success')).toEqual({ type: 'GAUGE', labels, value: 1 });
    expect(seen.get('ckpt_last_run_exit_code')?.value).toBe(0);
    expect(seen.get('ckpt_last_run_bytes')?.value).toBe(pushed.bytes);
    expect(seen.get('ckpt_last_run_transferred_bytes')?.value).toBe(pushed.bytesTransferred);
    expect(seen.get('ckpt_last_run_chunks_new')?.value).toBe(pushed.chunksNew);
    expect(seen.get('ckpt_last_run_chunks_reused')?.value).toBe(pushed.chunksReused);
    expect(seen.get('ckpt_last_run_retries')?.value).toBe(0);
    // what the store met: no throttling, and the most requests the push ran at once
    expect(pushed).toMatchObject({ throttled: 0, inFlightLimit: expect.any(Number) });
    expect(seen.get('ckpt_last_run_throttled')?.value).toBe(0);
    expect(seen.get('ckpt_last_run_store_in_flight_limit')?.value).toBe(pushed.inFlightLimit);
    expect(seen.get('ckpt_last_run_duration_seconds')?.value).toBeGreaterThan(0);
    expect(
      Math.abs((seen.get('ckpt_last_run_timestamp_seconds')?.value ?? 0) - Date.now() / 1000),
    ).toBeLessThan(600);

    const pull = await ckpt(['pull', 'org/llama', 'dst', '--metrics-file', 'm.prom'], { cwd });
    expect(pull.code).toBe(0);
    const pulled = await families(path.join(cwd, 'm.prom'));
    expect(pulled.get('ckpt_last_run_success')?.labels).toMatchObject({
      operation: 'pull',
      model: 'org/llama',
    });
    expect(pulled.get('ckpt_last_run_transferred_bytes')?.value).toBeGreaterThan(0);
    expect((await readdir(cwd)).filter((name) => name.includes('.tmp'))).toEqual([]);
  });

  it('records a failed run with its exit code, from CKPT_METRICS_FILE too', async () => {
    const cwd = await tempDir();
    // no store in cwd: exit 2, "the store does not exist"
    const run = await ckpt(['verify', 'missing'], { cwd, env: { CKPT_METRICS_FILE: 'v.prom' } });
    expect(run.code).toBe(2);
    const seen = await families(path.join(cwd, 'v.prom'));
    expect(seen.get('ckpt_last_run_success')).toMatchObject({
      labels: { operation: 'verify', model: 'missing' },
      value: 0,
    });
    expect(seen.get('ckpt_last_run_exit_code')?.value).toBe(2);
  });

  it('a metrics file that cannot be written is one line; the command keeps its own outcome', async () => {
    const cwd = await tempDir();
    await makeCheckpoint(path.join(cwd, 'src'));
    const run = await ckpt(['push', 'src', '-m', 'm', '--metrics-file', 'no/such/dir/m.prom'], { cwd });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /^ckpt: could not write the metrics file .*no\/such\/dir\/m\.prom: ENOENT.*\n$/,
    );
  });
});
