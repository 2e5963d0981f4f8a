// A wrong store never looks like an empty one, nothing from the store or the command line reaches
// the terminal raw, and org/name model names work end to end. Runs the built binary.
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeCheckpoint, readTree } from '@ckpt/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { ckpt, lines, tempDir } from './helpers.js';

let cwd: string;
let source: string;
beforeAll(async () => {
  cwd = await tempDir();
  source = await makeCheckpoint(path.join(cwd, 'llama'));
});

/** Parses stdout as the one JSON object `--json` promises. */
function json(run: { stdout: string }) {
  expect(lines(run.stdout)).toHaveLength(1);
  return JSON.parse(run.stdout);
}

/** A character a terminal acts on: C0 controls but newline, DEL, C1 controls, bidi overrides. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the test
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;

describe("a store's record", () => {
  it('a store written by a newer ckpt: every command exits 6 with one line, and writes nothing', async () => {
    const store = path.join(cwd, 'newer');
    expect((await ckpt(['push', 'llama', '-m', 'm', '--store', store], { cwd })).code).toBe(0);
    const record = path.join(store, 'ckpt/store.json');
    expect(JSON.parse(await readFile(record, 'utf8')).format).toBe('ckpt-store/1');
    await writeFile(record, JSON.stringify({ format: 'ckpt-store/3', createdAt: 'x', sealed: {} }));
    const before = await readdir(store, { recursive: true });
    for (const args of [
      ['push', 'llama', '-m', 'm'],
      ['pull', 'm', 'restored'],
      ['exists', 'm'],
      ['ls'],
      ['ls', 'm', '--files'],
      ['verify', 'm'],
      ['delete', 'm', '--all'],
      ['gc', '--keep', '1'],
    ]) {
      const run = await ckpt([...args, '--store', store], { cwd });
      expect(run.code, args.join(' ')).toBe(6);
      expect(lines(run.stderr), args.join(' ')).toEqual([
        'ckpt: open store ckpt/store.json: the store was written by a newer ckpt (store format 3; this ckpt reads up to 2): upgrade ckpt',
      ]);
      expect(run.stdout).toBe('');
    }
    expect(await readdir(store, { recursive: true })).toEqual(before);
    expect(existsSync(path.join(cwd, 'restored'))).toBe(false);
  });
});

describe('a store that does not exist is an error naming it, never an empty store', () => {
  it('reads of a missing filesystem store exit 2 with one line naming it, and create nothing', async () => {
    const missing = path.join(cwd, 'typo');
    for (const args of [
      ['exists', 'llama-8b'],
      ['ls'],
      ['ls', 'llama-8b'],
      ['pull', 'llama-8b', 'restored'],
      ['verify', 'llama-8b'],
      ['delete', 'llama-8b', '--all'],
      ['gc', '--keep', '1'],
    ]) {
      const run = await ckpt([...args, '--store', missing], { cwd });
      expect(run.code, args.join(' ')).toBe(2);
      expect(lines(run.stderr), args.join(' ')).toEqual([
        expect.stringMatching(
          new RegExp(
            `^ckpt: .*the store file://${missing} does not exist \\(no such folder; a push creates it\\)$`,
          ),
        ),
      ]);
      expect(run.stdout).toBe('');
    }
    expect(existsSync(missing)).toBe(false);
    expect(existsSync(path.join(cwd, 'restored'))).toBe(false);
  });

  it('the first push creates a missing filesystem store', async () => {
    const store = path.join(cwd, 'new', 'store');
    const push = await ckpt(['push', 'llama', '-m', 'first', '--store', store], { cwd });
    expect(push).toMatchObject({ code: 0, stderr: '' });
    expect((await ckpt(['exists', 'first', '--store', store], { cwd })).code).toBe(0);
  });

  it.each([
    ['s3//bucket', /"s3\/\/…" looks like a URL missing its ":"/],
    ['az//container/x', /"az\/\/…" looks like a URL missing its ":"/],
    ['gs:/bucket', /"gs:" must be followed by "\/\/"/],
  ])('--store %s is refused (exit 2) rather than read as a local folder', async (url, pattern) => {
    const run = await ckpt(['exists', 'llama-8b', '--store', url], { cwd });
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([expect.stringMatching(pattern)]);
    expect(existsSync(path.join(cwd, url.split(/[:/]/)[0]!))).toBe(false);
  });

  it('every "not found" names the store', async () => {
    const store = await tempDir();
    await ckpt(['push', 'llama', '-m', 'present', '--store', store], { cwd });
    for (const args of [
      ['pull', 'absent', 'target'],
      ['verify', 'absent'],
      ['ls', 'absent'],
      ['delete', 'absent', '--all'],
      ['pull', 'present', 'target', '-g', '20200101T000000000Z-00000000'],
    ]) {
      const run = await ckpt([...args, '--store', store], { cwd });
      expect(run.code, args.join(' ')).toBe(3);
      expect(lines(run.stderr), args.join(' ')).toEqual([expect.stringContaining(`file://${store}`)]);
    }
    const exists = await ckpt(['exists', 'absent', '--store', store], { cwd });
    expect(exists.code).toBe(3);
    expect(exists.stdout).toBe(`absent: no complete checkpoint in file://${store}\n`);
  });
});

describe('nothing from the store or the command line reaches the terminal raw', () => {
  const hostile = 'x\u001b]0;owned\u0007\u001b[2J\u009b31m\u202eevil';

  it('ls prints labels escaped; --json keeps them exact', async () => {
    const store = await tempDir();
    const push = await ckpt(
      ['push', 'llama', '-m', 'labelled', '--label', `note=${hostile}`, '--store', store],
      {
        cwd,
      },
    );
    expect(push.code).toBe(0);
    const table = await ckpt(['ls', 'labelled', '--store', store], { cwd });
    expect(table.code).toBe(0);
    expect(RAW_CONTROL.test(table.stdout)).toBe(false);
    expect(table.stdout).toContain('note=x\\x1b]0;owned\\x07\\x1b[2J\\x9b31m\\u{202e}evil');
    const listed = await ckpt(['ls', 'labelled', '--store', store, '--json'], { cwd });
    expect(RAW_CONTROL.test(listed.stdout)).toBe(false);
    expect(json(listed).generations[0].labels).toEqual({ note: hostile });
  });

  it('errors echo model names and paths escaped', async () => {
    const store = await tempDir();
    for (const args of [
      ['exists', `m${hostile}`],
      ['pull', `m\u009b2J`, 'out'],
      ['push', `dir${hostile}`, '-m', 'm'],
      ['ls', '--store', store, `--bogus${hostile}`],
    ]) {
      const run = await ckpt([...args, '--store', store], { cwd });
      expect(run.code, JSON.stringify(args)).toBe(2);
      expect(lines(run.stderr)).toHaveLength(1);
      expect(RAW_CONTROL.test(run.stderr), JSON.stringify(run.stderr)).toBe(false);
    }
  });
});

describe('org/name model names (Hugging Face style)', () => {
  it('push, ls, exists, pull and delete work, beside a flat model of the org name', async () => {
    const store = await tempDir();
    const hf = 'meta-llama/Llama-3.1-8B-Instruct';
    const pushed = json(await ckpt(['push', 'llama', '-m', hf, '--store', store, '--json'], { cwd }));
    expect(pushed.model).toBe(hf);
    expect((await ckpt(['push', 'llama', '-m', 'meta-llama', '--store', store], { cwd })).code).toBe(0);
    for (const model of ['facebook/opt-125m', 'meta-llama-2']) {
      expect((await ckpt(['push', 'llama', '-m', model, '--store', store], { cwd })).code).toBe(0);
    }
    const stored = await readdir(path.join(store, 'ckpt', 'models', 'meta-llama', 'Llama-3.1-8B-Instruct'));
    expect(stored.sort()).toEqual([
      expect.stringMatching(new RegExp(`^${pushed.generation}\\.[\\w-]+\\.summary$`)),
      `${pushed.generation}.json`,
    ]);

    const table = await ckpt(['ls', '--store', store], { cwd });
    expect(table.code).toBe(0);
    expect(lines(table.stdout).map((line) => line.split(/ +/).slice(0, 2))).toEqual([
      ['MODEL', 'GENERATIONS'],
      ['facebook/opt-125m', '1'],
      ['meta-llama', '1'],
      [hf, '1'],
      ['meta-llama-2', '1'],
    ]);
    const generations = json(await ckpt(['ls', hf, '--store', store, '--json'], { cwd }));
    expect(generations.generations.map((g: { generation: string }) => g.generation)).toEqual([
      pushed.generation,
    ]);
    expect((await ckpt(['exists', hf, '--store', store], { cwd })).code).toBe(0);

    const out = await tempDir();
    const pull = await ckpt(['pull', hf, 'restored', '--store', store], { cwd: out });
    expect(pull.code).toBe(0);
    expect(await readTree(path.join(out, 'restored'))).toEqual(await readTree(source));
    // the model name never becomes a local path
    expect(await readdir(out)).toEqual(['restored']);

    expect((await ckpt(['delete', 'meta-llama', '--all', '--store', store], { cwd })).code).toBe(0);
    expect((await ckpt(['exists', hf, '--store', store], { cwd })).code).toBe(0);
    expect((await ckpt(['exists', 'meta-llama', '--store', store], { cwd })).code).toBe(3);
  });

  it('names with more than one "/" or a "ckpt" org are refused (exit 2)', async () => {
    const store = await tempDir();
    for (const model of ['a/b/c', 'ckpt/models', '/abs', 'org/']) {
      const run = await ckpt(['push', 'llama', '-m', model, '--store', store], { cwd });
      expect(run.code, model).toBe(2);
      expect(lines(run.stderr)).toHaveLength(1);
    }
  });
});
