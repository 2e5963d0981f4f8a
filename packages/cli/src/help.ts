/** The `Examples:` block appended to a command's `--help`: pairs of command line and comment. */
export function examples(...pairs: [command: string, comment: string][]): string {
  const width = Math.max(...pairs.map(([command]) => command.length));
  return `\nExamples:\n${pairs.map(([command, comment]) => `  $ ${command.padEnd(width)}  # ${comment}`).join('\n')}\n`;
}

/** Appended to `ckpt --help`: how the store is chosen, and the exit codes. */
export const PROGRAM_HELP = `
Choosing the store (first match wins):
  --store <url>   file:///abs/path, ./path, s3://bucket/prefix?region=…,
                  gs://bucket/prefix, az://container/prefix?account=…
  CKPT_STORE      the same URL forms, from the environment
  config file     --config <path> ($CKPT_CONFIG), else ./ckpt.config.json, else
                  $XDG_CONFIG_HOME/ckpt/config.json (~/.config/ckpt/config.json)
  default         a filesystem store in ./.ckpt-store
Credentials come from each SDK's usual environment or credential chain, never
from the URL. The first line of --verbose output names the store and its origin.
A store that does not exist (a missing folder or bucket) is an error, exit 2;
the first push creates a missing filesystem store.

Encryption: a store first pushed with a key (CKPT_ENCRYPTION_KEY, --encryption-key-file
or the config file's "encryption": {"keyFile": …}) is encrypted for good; every
command on it needs the key. \`ckpt rotate-key --new-key-file <path>\` changes it.

Models are named "name" or "org/name" (e.g. meta-llama/Llama-3.1-8B-Instruct).

Every option but --store, --state-dir, --force and --all may come from a CKPT_*
variable instead (named in each option's help): CKPT_MODEL=m, CKPT_JSON=1.

Exit codes:
  0    ok
  1    operational failure (I/O, network, permission)
  2    usage or configuration error, or a store that does not exist
  3    checkpoint not found
  4    integrity failure
  5    conflict with a concurrent writer
  6    the store was written by a newer ckpt (upgrade ckpt)
  7    encryption key: missing for an encrypted store, wrong, unreadable, or
       given for a store that is not encrypted
  130  interrupted (Ctrl-C)
`;
