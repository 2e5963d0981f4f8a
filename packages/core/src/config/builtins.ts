/** Where core finds a built-in backend: its adapter package and the URL schemes it owns. */
export interface BuiltinBackend {
  /** The adapter package; it exports the backend's definition as `backend` and is imported on first use. */
  package: string;
  /** URL schemes, without `:`; a URL of one of them imports the package to be parsed. */
  schemes: readonly string[];
}

/**
 * The built-in backends. Core knows only where each lives: the schema, the URL parser and `open`
 * are the adapter package's, loaded when a config or URL of the type is first met.
 */
export const BUILTIN_BACKENDS = {
  fs: { package: '@ckpt/fs', schemes: ['file'] },
  s3: { package: '@ckpt/s3', schemes: ['s3'] },
  gcs: { package: '@ckpt/gcs', schemes: ['gs'] },
  azure: { package: '@ckpt/azure', schemes: ['az'] },
} as const satisfies Record<string, BuiltinBackend>;

/** The name of a built-in backend: `fs`, `s3`, `gcs` or `azure`. */
export type BuiltinType = keyof typeof BUILTIN_BACKENDS;
