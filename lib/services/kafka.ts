/**
 * Kafka: connect an admin client to the brokers, check health with a real
 * metadata request, close cleanly.
 *
 * @example
 * ```ts ignore
 * import { connectKafka } from "@mercury/core/services/kafka";
 *
 * await using kafka = await connectKafka(); // disconnected at the end of the block
 * console.log(await kafka.health()); // { ok: true, detail: "1 broker, cluster …" }
 * const producer = kafka.kafka.producer({ idempotent: true });
 * ```
 *
 * @module
 */
import { type Admin, Kafka, type KafkaConfig, logLevel } from "kafkajs";
import { ENV_VARS, type KafkaSecurity, resolveEndpoints } from "../config.ts";
import { type HealthReport, unreachable, withTimeout } from "./health.ts";
import process from "node:process";

// kafkajs schedules `setTimeout(fn, throttledUntil - now)` with a negative delay
// while not throttled; Deno's Node layer then prints a TimeoutNegativeWarning on
// every connection. The delay is clamped to 1 ms either way, so drop just that
// warning and let every other one through.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning: string | Error, ...rest: unknown[]) {
  const name = typeof warning === "string" ? (typeof rest[0] === "string" ? rest[0] : undefined) : warning.name;
  if (name === "TimeoutNegativeWarning") return;
  return (emitWarning as (...a: unknown[]) => void).call(process, warning, ...rest);
} as typeof process.emitWarning;

/** Options of {@linkcode connectKafka}. */
export interface KafkaOptions {
  /** Broker addresses (default: the resolved endpoint). */
  brokers?: string[];
  clientId?: string;
  /** Connection timeout in milliseconds (default 5000). */
  timeoutMs?: number;
  /** TLS and SASL (default: the resolved endpoint's, see `KafkaSecurity`); `null` for plaintext. */
  security?: KafkaSecurity | null;
}

/** A connected Kafka client; `await using` disconnects it (`Symbol.asyncDispose` is {@linkcode KafkaConnection.close}). */
export interface KafkaConnection extends AsyncDisposable {
  /** The kafkajs client, to make producers and consumers. */
  kafka: Kafka;
  /** A connected admin client. */
  admin: Admin;
  brokers: string[];
  /** Fetches cluster metadata. */
  health(): Promise<HealthReport>;
  /** Disconnects the admin client. */
  close(): Promise<void>;
}

/**
 * Makes a kafkajs client for `brokers` without connecting; quiet by default.
 * `security` (default: the resolved endpoint's) turns on TLS (`ssl`: the
 * server verified against its CA file, a client certificate when given) and
 * SASL (`plain`, `scram-sha-256`, `scram-sha-512`); `null` is plaintext.
 */
export function kafkaClient(
  brokers: string[],
  clientId = "mercury",
  timeoutMs = 5000,
  security: KafkaSecurity | null = resolveEndpoints().kafka.security ?? null,
): Kafka {
  return new Kafka({
    clientId,
    brokers,
    connectionTimeout: timeoutMs,
    requestTimeout: Math.max(timeoutMs, 30000),
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 100 },
    ...kafkajsSecurity(security),
  });
}

/** kafkajs's `ssl` and `sasl` options for `security` (none for plaintext). */
function kafkajsSecurity(security: KafkaSecurity | null): Pick<KafkaConfig, "ssl" | "sasl"> {
  if (!security) return {};
  const out: Pick<KafkaConfig, "ssl" | "sasl"> = {};
  if (security.tls) {
    const { ca, cert, key } = security.tls;
    out.ssl = {
      rejectUnauthorized: true,
      ...(ca ? { ca: [Deno.readTextFileSync(ca)] } : {}),
      ...(cert && key ? { cert: Deno.readTextFileSync(cert), key: Deno.readTextFileSync(key) } : {}),
    };
  }
  if (security.sasl) {
    const { username, password } = security.sasl;
    const mechanism = security.sasl.mechanism.toLowerCase() as "plain" | "scram-sha-256" | "scram-sha-512";
    out.sasl = mechanism === "plain"
      ? { mechanism, username, password }
      : mechanism === "scram-sha-256"
      ? { mechanism, username, password }
      : { mechanism, username, password };
  }
  return out;
}

/** Connects to Kafka; throws an `unavailable` MercuryError when no broker answers. */
export async function connectKafka(options: KafkaOptions = {}): Promise<KafkaConnection> {
  const brokers = options.brokers ?? resolveEndpoints().kafka.brokers;
  const timeoutMs = options.timeoutMs ?? 5000;
  const security = options.security === undefined ? resolveEndpoints().kafka.security ?? null : options.security;
  const kafka = kafkaClient(brokers, options.clientId, timeoutMs, security);
  const admin = kafka.admin();
  const endpoint = brokers.join(",");
  try {
    await withTimeout(admin.connect(), timeoutMs, "Kafka connect");
  } catch (err) {
    // Bounded: disconnecting from a broker that never answered can wait for kafkajs's own retries.
    await withTimeout(admin.disconnect(), timeoutMs, "Kafka disconnect").catch(() => {});
    throw unreachable("Kafka", endpoint, ENV_VARS.kafka, err);
  }
  const close = () => admin.disconnect();
  return {
    kafka,
    admin,
    brokers,
    async health() {
      const t0 = performance.now();
      try {
        const c = await withTimeout(admin.describeCluster(), timeoutMs, "Kafka metadata request");
        return {
          service: "kafka",
          endpoint,
          ok: c.brokers.length > 0,
          latencyMs: performance.now() - t0,
          detail: `${c.brokers.length} broker(s), cluster ${c.clusterId}, controller ${c.controller}`,
        };
      } catch (err) {
        return { service: "kafka", endpoint, ok: false, latencyMs: performance.now() - t0, detail: String(err) };
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
