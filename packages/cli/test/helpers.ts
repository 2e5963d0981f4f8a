import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { useTempDir } from '@ckpt/test-utils';

/** The real binary, as `pnpm exec ckpt` runs it. */
export const BIN = fileURLToPath(new URL('../bin/ckpt.js', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

if (!existsSync(fileURLToPath(new URL('../dist/main.js', import.meta.url)))) {
  throw new Error('packages/cli/dist is missing: run `npx turbo run build --filter=@ckpt/cli...` first');
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  /** Added to a clean environment (no CKPT_STORE, no cloud credentials). */
  env?: Record<string, string>;
}

/** Environment of the child: PATH, HOME and the test run's state directory only, plus `extra`. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { PATH, HOME, CKPT_STATE_DIR } = process.env;
  return { PATH, HOME, CKPT_STATE_DIR, ...extra };
}

/** Starts `ckpt args…` in `cwd`; stdout and stderr are pipes (not a TTY). */
export function start(args: string[], options: RunOptions): ChildProcess & { result: Promise<Run> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: childEnv(options.env) });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const result = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return Object.assign(child, { result });
}

/** Runs `ckpt args…` to completion. */
export function ckpt(args: string[], options: RunOptions): Promise<Run> {
  return start(args, options).result;
}

/** The lines of a stream's text, without the trailing empty one. */
export function lines(text: string): string[] {
  return text.split('\n').filter((line, i, all) => line !== '' || i < all.length - 1);
}

/** A fresh temporary directory, removed after the test file. */
export const tempDir = useTempDir('ckpt-cli-', 'file');

/** Every file under `dir` whose name ends with `suffix`, largest first. */
export async function filesBySize(dir: string, suffix: string): Promise<string[]> {
  const found: { file: string; size: number }[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(suffix)) continue;
    const file = path.join(entry.parentPath, entry.name);
    found.push({ file, size: (await stat(file)).size });
  }
  return found.sort((a, b) => b.size - a.size).map((f) => f.file);
}
