/**
 * `@ckpt/test-servers` (private): one launcher per object-store server the tests and benchmarks
 * run against. Each starts its server on 127.0.0.1 on a free port over a temporary data
 * directory, resolves once the server answers, and returns its endpoint, credentials and
 * `stop()` (kills it, removes the temporary directory).
 *
 * MinIO and fake-gcs-server are Go binaries that `scripts/install-test-tools.sh` builds into
 * `$CKPT_TOOLS_DIR/bin` (default `~/.cache/ckpt-tools/bin`); a missing binary is an error naming
 * that script. Azurite comes from npm (this package's dependency).
 *
 * `startFaultProxy` goes between a client and any of them: it resets, cuts, stalls or throttles
 * (with the service's own error) a share of the connections. It lives here, beside the servers it
 * fronts, so that package tests and `pnpm reliability` share it; it takes its random source as a
 * parameter because this package cannot depend on `@ckpt/core` (core's tests depend on it).
 *
 * `startThrottlingProxy` goes in front of MinIO, which throttles nothing, and answers S3's
 * `503 SlowDown` beyond a number of requests in flight.
 *
 * `startSilentServer` stands for a hung store: it accepts connections and never answers.
 */
export { AZURITE_ACCOUNT, AZURITE_ACCOUNT_KEY, type Azurite, startAzurite } from './azurite.js';
export { type FakeGcs, type FakeGcsOptions, startFakeGcs } from './fake-gcs.js';
export {
  FAULT_KINDS,
  type FaultKind,
  type FaultProxy,
  type FaultProxyOptions,
  type FaultStats,
  startFaultProxy,
} from './fault-proxy.js';
export { type Minio, startMinio } from './minio.js';
export { findBinary, freePort, INSTALL_SCRIPT, toolsBinDir } from './process.js';
export { type SilentServer, startSilentServer } from './silent.js';
export type { ThrottleDialect } from './throttle-answers.js';
export {
  startThrottlingProxy,
  type ThrottlingProxy,
  type ThrottlingProxyOptions,
  type ThrottlingStats,
} from './throttling-proxy.js';
