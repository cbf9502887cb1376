/**
 * The Kafka set-ups beside the default broker, for `deno task services`:
 * `kafka-cluster` (three KRaft brokers, replication factor 3,
 * `min.insync.replicas` 2; also `up kafka --brokers 3`) and `kafka-secure`
 * (TLS and SASL listeners). Neither touches the default broker nor
 * `.mercury/services.json`: `up` prints the environment that points Mercury's
 * endpoint resolution at them (environment > services file), so the quick
 * start's single broker stays what every other command uses.
 *
 * @module
 */
import { MercuryError, stateDir } from "@mercury/core";
import { KafkaCluster } from "./kafka_cluster.ts";
import { KafkaSecureBroker } from "./kafka_secure.ts";

/** The extra Kafka set-ups' names. */
export const EXTRA_KAFKA = ["kafka-cluster", "kafka-secure"] as const;

/** One of {@linkcode EXTRA_KAFKA}. */
export type ExtraKafka = (typeof EXTRA_KAFKA)[number];

/** Whether `name` is one of {@linkcode EXTRA_KAFKA}. */
export function isExtraKafka(name: string): name is ExtraKafka {
  return (EXTRA_KAFKA as readonly string[]).includes(name);
}

/**
 * The set-up `services up` asks for: `kafka-cluster` / `kafka-secure` by
 * name, or `kafka` with `--brokers 3`; undefined for the default broker
 * (`--brokers 1` or none). Other broker counts are a usage error.
 *
 * @example
 * ```ts
 * import { extraFor } from "./kafka_extras.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(extraFor("kafka", 3), "kafka-cluster");
 * assert.equal(extraFor("kafka", undefined), undefined);
 * assert.equal(extraFor("kafka-secure", undefined), "kafka-secure");
 * assert.throws(() => extraFor("kafka", 5), /--brokers 5: Mercury runs 1 or 3 Kafka brokers/);
 * ```
 */
export function extraFor(name: string, brokers: number | undefined): ExtraKafka | undefined {
  if (isExtraKafka(name)) return name;
  if (name !== "kafka" || brokers === undefined || brokers === 1) return undefined;
  if (brokers === 3) return "kafka-cluster";
  throw new MercuryError("usage", `--brokers ${brokers}: Mercury runs 1 or 3 Kafka brokers`, {
    where: "deno task services up kafka",
    hint: "--brokers 3 for the cluster (replication factor 3, min.insync.replicas 2)",
  });
}

/** Starts `name`; returns the lines to print (endpoints and the environment that selects them). */
export async function extraUp(root: string, name: ExtraKafka, timeoutSec: number): Promise<string[]> {
  const state = stateDir(root);
  if (name === "kafka-cluster") {
    const cluster = new KafkaCluster({ root, state });
    const health = await cluster.up(timeoutSec);
    return [
      `kafka-cluster: ${health.detail}; replication factor 3, min.insync.replicas 2`,
      "use it with:",
      `  export MERCURY_KAFKA_BROKERS=${cluster.brokers.join(",")}`,
    ];
  }
  const broker = new KafkaSecureBroker({ root, state });
  const health = await broker.up(timeoutSec);
  const lines = [`kafka-secure: ${health.detail}`];
  for (
    const [label, listener, mechanism] of [
      ["TLS + client certificate", "ssl", undefined],
      ["TLS + SCRAM-SHA-512", "sasl_ssl", "SCRAM-SHA-512"],
      ["SASL/PLAIN without TLS", "sasl", "PLAIN"],
    ] as const
  ) {
    lines.push(`${label}:`);
    for (const [k, v] of Object.entries(broker.env(listener, mechanism))) lines.push(`  export ${k}=${v}`);
  }
  return lines;
}

/** Stops `name` (`purge`: and deletes its data); returns the lines to print. */
export async function extraDown(root: string, name: ExtraKafka, purge: boolean): Promise<string[]> {
  const state = stateDir(root);
  if (name === "kafka-cluster") return await new KafkaCluster({ root, state }).down(purge);
  return await new KafkaSecureBroker({ root, state }).down(purge);
}

/** One status line for `name`. */
export async function extraStatus(root: string, name: ExtraKafka): Promise<{ ok: boolean; line: string }> {
  const state = stateDir(root);
  const health = name === "kafka-cluster"
    ? await new KafkaCluster({ root, state }).health()
    : await new KafkaSecureBroker({ root, state }).health();
  return { ok: health.ok, line: `${name}  ${health.ok ? "ok" : "down"}  ${health.endpoint}  ${health.detail}` };
}
