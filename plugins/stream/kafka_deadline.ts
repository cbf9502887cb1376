/**
 * The deadline every Kafka request of the stream plugin runs under, and the
 * one error a command reports when the broker does not answer in time (a
 * broker that accepts TCP and never answers, closes at once, or answers
 * garbage): `error[unavailable]` naming the broker address, with a hint.
 *
 * The hand-written wire client ({@linkcode KafkaConnection}) enforces it on
 * each connect and request; `@platformatic/kafka`'s clients get it as their
 * `timeout`/`connectTimeout` ({@linkcode platformaticTimeouts}), and each call
 * a command waits on is also raced against it ({@linkcode withKafkaDeadline}),
 * because a client's own retries can multiply its timeout.
 *
 * @module
 */
import { type KafkaSecurity, MercuryError, resolveEndpoints } from "@mercury/core";
import type { ConnectionOptions as TlsOptions } from "node:tls";
import type { SASLOptions } from "@platformatic/kafka";
import { parseDuration } from "./window.ts";

export { DEFAULT_REQUEST_TIMEOUT_MS, requestTimeoutOption } from "./command_options.ts";

/**
 * The `--request-timeout` value in ms: a positive duration (text, or the ms
 * the typed option already parsed), or a usage error.
 *
 * @example
 * ```ts
 * import { requestTimeoutMs } from "@mercury/stream";
 * import assert from "node:assert/strict";
 *
 * assert.equal(requestTimeoutMs("2s"), 2000);
 * assert.throws(() => requestTimeoutMs("0s"), /--request-timeout "0s" is not a positive duration/);
 * ```
 */
export function requestTimeoutMs(value: unknown): number {
  const text = typeof value === "string" ? value : String(value);
  const ms = parseDuration(text, "--request-timeout");
  if (!(ms > 0)) {
    throw new MercuryError("usage", `--request-timeout "${text}" is not a positive duration`, { hint: "e.g. 10s" });
  }
  return ms;
}

/**
 * The `unavailable` error of a Kafka call that failed or did not answer in time.
 *
 * @example
 * ```ts
 * import { kafkaUnavailable } from "@mercury/stream";
 * import assert from "node:assert/strict";
 *
 * const err = kafkaUnavailable(["127.0.0.1:9"], "listing topics", new Error("connection closed"));
 * assert.equal(err.exitCode, 69);
 * assert.match(err.format(), /^error\[unavailable\]: cannot reach Kafka at 127\.0\.0\.1:9 \(listing topics\)/);
 * assert.match(err.format(), /hint: .*deno task services up kafka.*MERCURY_KAFKA_BROKERS/);
 * ```
 */
export function kafkaUnavailable(brokers: readonly string[], what: string, cause: unknown): MercuryError {
  if (cause instanceof MercuryError && cause.code === "unavailable") return cause;
  const endpoint = brokers.join(",");
  let reason = cause instanceof Error ? cause.message : String(cause);
  // @platformatic/kafka says "Listing topics failed." and keeps the reason in `errors`, nested
  // ("metadata failed 2 times." → the SASL refusal): the innermost one says what went wrong.
  // A connection's failure keeps its reason (an AuthenticationError) in `cause`.
  const next = (e: unknown) => (e as { errors?: unknown[] }).errors?.[0] ?? (e as { cause?: unknown }).cause;
  let inner = cause instanceof Error ? next(cause) : undefined;
  for (let depth = 0; inner instanceof Error && depth < 6; depth++) {
    if (!reason.includes(inner.message)) reason += ` (${inner.message})`;
    inner = next(inner);
  }
  const security = /SASL|[Aa]uthenticat|TLS|SSL|certificate|handshake/.test(reason);
  return new MercuryError("unavailable", `cannot reach Kafka at ${endpoint} (${what}): ${reason}`, {
    where: endpoint,
    hint: security
      ? "check MERCURY_KAFKA_TLS_CA / _TLS_CERT / _TLS_KEY and MERCURY_KAFKA_SASL_MECHANISM / _USERNAME / _PASSWORD " +
        "(or kafka.security in .mercury/services.json) against the broker's listener"
      : "start it with `deno task services up kafka`, or set MERCURY_KAFKA_BROKERS (or raise --request-timeout)",
    cause,
  });
}

/**
 * Races a Kafka call against `ms`; a timeout or a failure becomes
 * {@linkcode kafkaUnavailable}. Errors the caller raised on purpose
 * (any other `MercuryError`) pass through unchanged.
 *
 * @example
 * ```ts
 * import { withKafkaDeadline } from "@mercury/stream";
 * import assert from "node:assert/strict";
 *
 * assert.equal(await withKafkaDeadline(Promise.resolve(7), 100, ["b:9092"], "metadata"), 7);
 * await assert.rejects(
 *   withKafkaDeadline(new Promise(() => {}), 20, ["b:9092"], "metadata"),
 *   /cannot reach Kafka at b:9092 \(metadata\): no answer within 20 ms/,
 * );
 * ```
 */
export function withKafkaDeadline<T>(
  promise: Promise<T>,
  ms: number,
  brokers: readonly string[],
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout])
    .catch((err) => {
      if (err instanceof MercuryError && err.code !== "unavailable") throw err;
      throw kafkaUnavailable(brokers, what, err);
    })
    .finally(() => clearTimeout(timer));
}

/**
 * Closes a client without waiting longer than `ms` (closing a client whose
 * broker never answers can itself wait forever).
 *
 * @example
 * ```ts
 * import { closeWithin } from "@mercury/stream";
 *
 * await closeWithin(() => new Promise(() => {}), 10); // returns after 10 ms
 * ```
 */
export async function closeWithin(close: () => Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.resolve().then(close).catch(() => {}),
    new Promise((r) => (timer = setTimeout(r, ms))),
  ]);
  clearTimeout(timer);
}

/**
 * Connection options of a `@platformatic/kafka` client (Admin, Consumer,
 * Producer) for a request deadline: connect and request timeouts of `ms`, one
 * retry — and the resolved endpoint's TLS and SASL settings, when it has any
 * ({@linkcode platformaticSecurity}).
 *
 * @example
 * ```ts
 * import { platformaticTimeouts } from "@mercury/stream";
 * import assert from "node:assert/strict";
 *
 * // With no MERCURY_KAFKA_TLS* / MERCURY_KAFKA_SASL_* set and none in the services file:
 * const { timeout, connectTimeout, retries, retryDelay } = platformaticTimeouts(3000);
 * assert.deepEqual({ timeout, connectTimeout, retries, retryDelay }, {
 *   timeout: 3000, connectTimeout: 3000, retries: 1, retryDelay: 250,
 * });
 * ```
 */
export function platformaticTimeouts(
  ms: number,
): {
  timeout: number;
  connectTimeout: number;
  retries: number;
  retryDelay: number;
  tls?: TlsOptions;
  sasl?: SASLOptions;
} {
  return { timeout: ms, connectTimeout: ms, retries: 1, retryDelay: 250, ...platformaticSecurity() };
}

/**
 * The resolved Kafka endpoint's TLS and SASL settings (environment >
 * services file), or undefined for plaintext.
 */
export function kafkaSecurity(): KafkaSecurity | undefined {
  return resolveEndpoints().kafka.security;
}

/**
 * `@platformatic/kafka` connection options (`tls`, `sasl`) for `security`
 * (default: the resolved endpoint's); empty for plaintext.
 *
 * @example
 * ```ts
 * import { platformaticSecurity } from "@mercury/stream";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(platformaticSecurity({ sasl: { mechanism: "PLAIN", username: "u", password: "p" } }), {
 *   sasl: { mechanism: "PLAIN", username: "u", password: "p" },
 * });
 * assert.deepEqual(platformaticSecurity({ tls: {} }), { tls: { rejectUnauthorized: true } });
 * ```
 */
export function platformaticSecurity(
  security: KafkaSecurity | undefined = kafkaSecurity(),
): { tls?: TlsOptions; sasl?: SASLOptions } {
  const out: { tls?: TlsOptions; sasl?: SASLOptions } = {};
  if (security?.tls) {
    const { ca, cert, key } = security.tls;
    out.tls = {
      rejectUnauthorized: true,
      ...(ca ? { ca: Deno.readTextFileSync(ca) } : {}),
      ...(cert && key ? { cert: Deno.readTextFileSync(cert), key: Deno.readTextFileSync(key) } : {}),
    };
  }
  if (security?.sasl) {
    const { mechanism, username, password } = security.sasl;
    out.sasl = { mechanism, username, password };
  }
  return out;
}
