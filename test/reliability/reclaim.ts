// After a campaign's last kill: gc, run again and again, must reclaim everything the killed
// operations left that it is meant to remove; what only the service expires is reported.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ObjectStore } from '@ckpt/core';
import type { Outcome } from './commands.js';
import type { CampaignStore } from './stores.js';
import { type Leftover, unreferencedKeys } from './unreferenced.js';

export interface Reclaim {
  /** What the store held after the last round, before the final gc. */
  leftByKills: Leftover[];
  /** Seconds from the last kill to the gc that left nothing it removes (or to the deadline). */
  seconds: number;
  gcRuns: number;
  /** What the store held after that gc. */
  left: Leftover[];
  problems: string[];
}

// a killed push's lease is taken for dead after four 30 s renewals; temp files and uploads of
// dead writers are removed once a minute old
const DEADLINE_MS = 180_000;
const POLL_MS = 15_000;

export async function reclaim(
  store: CampaignStore,
  opened: ObjectStore,
  gc: () => Promise<Outcome>,
  lastKill: number,
  log: (line: string) => void,
): Promise<Reclaim> {
  const holds = async () => [...(await unreferencedKeys(opened)), ...(await store.hidden())];
  const result: Reclaim = {
    leftByKills: nonEmpty(await holds()),
    seconds: 0,
    gcRuns: 0,
    left: [],
    problems: [],
  };
  log(`${store.backend} left by the kills: ${describe(result.leftByKills)}`);
  for (;;) {
    const outcome = await gc();
    result.gcRuns++;
    if (outcome !== 'finished') result.problems.push(`final gc failed: ${outcome}`);
    result.left = nonEmpty(await holds());
    result.seconds = Math.round((Date.now() - lastKill) / 1000);
    log(
      `${store.backend} after gc ${result.gcRuns} (${result.seconds} s after the last kill): ${describe(result.left)}`,
    );
    const removable = result.left.filter((l) => l.gcRemoves);
    if (!removable.length) break;
    if (Date.now() - lastKill > DEADLINE_MS) {
      result.problems.push(`${result.seconds} s after the last kill, gc still leaves ${describe(removable)}`);
      break;
    }
    await sleep(POLL_MS);
  }
  return result;
}

function nonEmpty(list: Leftover[]): Leftover[] {
  return list.filter((l) => l.count > 0);
}

export function describe(list: Leftover[]): string {
  return list.map((l) => `${l.count} ${l.what} (${l.bytes} bytes)`).join(', ') || 'nothing';
}
