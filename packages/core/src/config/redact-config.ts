/** Field names whose values are secrets, in any backend's config. */
export const SECRET_FIELD =
  /secret|password|passphrase|token|credential|connection_?string|account_?key|sas|api_?key|private_?key|^sig$/i;

/**
 * A copy of `config` safe to print or log: the value of every field whose name looks like a secret
 * (`credentials`, `connectionString`, `secretAccessKey`, `sasToken`, `password`, …) becomes
 * `"<redacted>"`, at any depth. Name a custom backend's secret fields like that and they are hidden too.
 *
 * @example
 * ```ts
 * redactConfig({ type: 'azure', container: 'c', connectionString: 'AccountKey=…' })
 * // { type: 'azure', container: 'c', connectionString: '<redacted>' }
 * ```
 */
export function redactConfig<T>(config: T): T {
  if (Array.isArray(config)) return config.map((item) => redactConfig(item)) as T;
  if (typeof config !== 'object' || config === null) return config;
  return Object.fromEntries(
    Object.entries(config).map(([key, value]) => [
      key,
      SECRET_FIELD.test(key) ? '<redacted>' : redactConfig(value),
    ]),
  ) as T;
}
