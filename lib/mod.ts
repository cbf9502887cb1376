/**
 * `@mercury/core`: what two or more Mercury plugins need — the plugin contract,
 * service endpoints, errors, CLI plumbing and Prometheus metrics.
 *
 * The service clients live on subpaths so importing the core stays light:
 * `@mercury/core/services/kafka`, `…/postgres`, `…/redis`, `…/duckdb`.
 *
 * Small shared helpers each have a light subpath too (and are re-exported
 * here): `@mercury/core/sql` (quoteIdent, quoteLiteral), `…/random`
 * (seededRandom, normal), `…/html` (escapeHtml), `…/retry` (retry, sleep),
 * `…/signal` (untilSignal, onSignal), `…/options` (typed command options),
 * `…/files` (writeFileAtomic).
 *
 * @example
 * ```ts
 * import { definePlugin, MercuryError, Registry, resolveEndpoints } from "@mercury/core";
 * import assert from "node:assert/strict";
 *
 * assert.equal(typeof definePlugin, "function");
 * assert.ok(new MercuryError("usage", "x") instanceof Error);
 * assert.ok(new Registry().expose() === "");
 * assert.ok(resolveEndpoints({ env: () => undefined, servicesFile: "/none" }).kafka.brokers.length > 0);
 * ```
 *
 * @module
 */
export { type ErrorCode, EXIT_CODES, formatError, MercuryError, type MercuryErrorOptions } from "./errors.ts";
export {
  CORE_SERVICE_NAMES,
  DEFAULT_PORTS,
  defaultEndpoints,
  type Endpoints,
  type EndpointSource,
  ENV_VARS,
  KAFKA_SECURITY_ENV,
  type KafkaSaslMechanism,
  type KafkaSecurity,
  kafkaSecurityFromEnv,
  parseBrokers,
  portOffset,
  projectRoot,
  readServicesFile,
  redact,
  resolveEndpoints,
  type ResolveOptions,
  S3_DEV_CREDENTIALS,
  SERVICE_NAMES,
  type ServiceName,
  type ServicesFile,
  servicesFilePath,
  stateDir,
} from "./config.ts";
export {
  type CommandArgs,
  type CommandContext,
  type CommandSpec,
  definePlugin,
  type DiscoveredPlugin,
  type DiscoverOptions,
  discoverPlugins,
  lazyRun,
  type ModuleLoader,
  type OptionSpec,
  type PluginManifest,
  type RunFn,
} from "./plugin.ts";
export {
  commandHelp,
  dispatch,
  type DispatchOptions,
  main,
  parseCommandArgs,
  pluginHelp,
  pluginsTable,
  rootHelp,
} from "./cli.ts";
export {
  CONTENT_TYPE,
  Counter,
  DEFAULT_BUCKETS,
  Gauge,
  Histogram,
  type Labels,
  mergeExpositions,
  Registry,
} from "./metrics.ts";
export { type HealthReport, withTimeout } from "./services/health.ts";
export { quoteIdent, quoteLiteral } from "./sql.ts";
export { normal, seededRandom } from "./random.ts";
export { escapeHtml } from "./html.ts";
export { type WriteAtomicOptions, writeFileAtomic } from "./files.ts";
export { backoffDelay, retry, type RetryOptions, sleep } from "./retry.ts";
export { onSignal, STOP_SIGNALS, untilSignal } from "./signal.ts";
export {
  describeOptionType,
  formatDuration,
  optionPlaceholder,
  type OptionValue,
  type OptionValues,
  parseDuration,
  parseOptionValue,
} from "./options.ts";
