import type { LocalState } from './local-state.js';
import type { Manifest, ManifestEntry } from './manifest.js';
import { type ScannedEntry, scanDirectory } from './scan.js';
import { sameStamp } from './stamp.js';
import type { PullPlan } from './types.js';

/**
 * What a pull of `manifest` into `root` (undefined: it does not exist) would do, path by path:
 * entries it would add, entries it would replace (a file counts as unchanged only when its local
 * record vouches for the same bytes, mode and time), and entries it would remove.
 */
export async function planPull(
  root: string | undefined,
  state: LocalState | undefined,
  manifest: Manifest,
): Promise<PullPlan> {
  const current = new Map((root ? await scanDirectory(root) : []).map((e) => [e.path, e]));
  const recorded = new Map(state?.manifest.entries.map((e) => [e.path, e]));
  const plan: PullPlan = { add: [], change: [], remove: [] };
  const wanted = new Set<string>();
  for (const entry of manifest.entries) {
    wanted.add(entry.path);
    const local = current.get(entry.path);
    if (!local) plan.add.push(entry.path);
    else if (!unchanged(local, entry, manifest, state, recorded.get(entry.path)))
      plan.change.push(entry.path);
  }
  for (const path of current.keys()) if (!wanted.has(path)) plan.remove.push(path);
  return plan;
}

function unchanged(
  local: ScannedEntry,
  wanted: ManifestEntry,
  manifest: Manifest,
  state: LocalState | undefined,
  recorded: ManifestEntry | undefined,
): boolean {
  if (local.type !== wanted.type) return false;
  if (local.type === 'symlink') return wanted.type === 'symlink' && local.target === wanted.target;
  if (local.type === 'dir') return true;
  if (wanted.type !== 'file' || recorded?.type !== 'file' || !state) return false;
  const content = (entry: typeof wanted, m: Manifest) =>
    entry.extents.map((x) => (x < 0 ? x : m.chunks.hashOf(x))).join(',');
  return (
    sameStamp(state.stamps[local.path], local.stat) &&
    recorded.mode === wanted.mode &&
    recorded.mtimeMs === wanted.mtimeMs &&
    recorded.size === wanted.size &&
    content(recorded, state.manifest) === content(wanted, manifest)
  );
}
