import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { type LocalRun, planLocalCopies, trustedFiles } from './local-source.js';
import { readRecordFile, statePath } from './local-state.js';

/** Records of other directories read at most, the most recently written first. */
const MAX_DIRECTORIES = 64;

/**
 * Runs of chunks a pull of `root` may copy from the host's other checkpoint directories: those
 * whose local record is in `stateDir` (whatever model, store or boot it names), each file whose
 * stamp still matches its record. Nothing is trusted: the copy hashes every chunk, and one that
 * does not match, or a file gone meanwhile, is downloaded instead. `wanted` and `planned` are as
 * for {@link planLocalCopies}.
 */
export async function otherDirectoryRuns(
  stateDir: string,
  root: string,
  wanted: (hash: string) => number | undefined,
  planned: Set<number>,
): Promise<LocalRun[]> {
  const folder = path.join(stateDir, 'dirs');
  const own = statePath(stateDir, root);
  const names = await readdir(folder).catch(() => [] as string[]);
  const files = names.filter((name) => name.endsWith('.state')).map((name) => path.join(folder, name));
  const written = await Promise.all(
    files.map((file) =>
      stat(file).then(
        (st) => st.mtimeMs,
        () => 0,
      ),
    ),
  );
  const recent = files
    .map((file, i) => ({ file, at: written[i]! }))
    .filter(({ file, at }) => file !== own && at > 0)
    .sort((a, b) => b.at - a.at)
    .slice(0, MAX_DIRECTORIES);
  const runs: LocalRun[] = [];
  for (const { file } of recent) {
    const record = await readRecordFile(file);
    // a record is only read under the name its directory hashes to
    if (!record || statePath(stateDir, record.dir) !== file) continue;
    const trusted = await trustedFiles(record.dir, record);
    runs.push(...planLocalCopies(trusted.values(), record.manifest, wanted, planned));
  }
  return runs;
}
