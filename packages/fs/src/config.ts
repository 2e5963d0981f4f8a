import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { queryFields, text, urlError } from '@ckpt/core/backend';
import { z } from 'zod';

/**
 * A directory on a local or mounted filesystem. A relative `root` resolves against the folder of
 * the config file it is in (or the `cwd` given to `openStore`).
 *
 * @example `{ "type": "fs", "root": "/var/lib/ckpt" }` — URL forms: `file:///var/lib/ckpt`,
 * `file:rel/dir`, `./rel/dir`, `/var/lib/ckpt`.
 */
export const fsConfigSchema = z.strictObject({
  type: z.literal('fs'),
  root: text().meta({ description: 'Directory that holds the objects.' }),
});

/** A validated filesystem store config. */
export type FsConfig = z.infer<typeof fsConfigSchema>;

/**
 * `file:///abs/path` (or `file://localhost/abs/path`) → `{type: 'fs', root}`. Core's URL parser
 * hands every local path here as such a URL too: `./dir`, `/abs`, `file:rel/dir` and `file:/abs`
 * arrive as the `file:` URL of their absolute path.
 */
export function fsConfigFromUrl(url: URL): unknown {
  if (url.hostname !== '' && url.hostname !== 'localhost') {
    throw urlError('a file URL has no host: write file:///absolute/path or file:relative/path', 'root');
  }
  queryFields(url, {});
  return { type: 'fs', root: fileURLToPath(url) };
}

/** `config` with a relative `root` made absolute against `base`. */
export function fsConfigPaths(config: FsConfig, base: string): FsConfig {
  return path.isAbsolute(config.root) ? config : { ...config, root: path.resolve(base, config.root) };
}
