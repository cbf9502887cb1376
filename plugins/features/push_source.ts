/**
 * Streaming updates from a Kafka push source: JSON events on the source's
 * topic are written to the online store as they arrive, through the same
 * idempotent write as materialisation (an older event never overwrites a
 * newer one, so replays and out-of-order events are harmless).
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { kafkaClient } from "@mercury/core/services/kafka";
import type { FeatureRepo, FeatureView } from "./definitions.ts";
import { type OnlineRow, type OnlineStore, toOnlineValue } from "./online_store.ts";
import { parseInstant } from "./instant.ts";
import { entityKey } from "./entity_key.ts";

/** Options of {@linkcode startPushIngestion}. */
export interface PushOptions {
  brokers: string[];
  repo: FeatureRepo;
  /** The feature view whose source is a `kafka_source`. */
  view: string;
  online: OnlineStore;
  /** Consumer group (default `mercury-features-<project>-<view>`). */
  group?: string;
  fromBeginning?: boolean;
  /** Called per batch written (counts), and for each rejected message. */
  onBatch?: (written: number, received: number) => void;
  onReject?: (reason: string) => void;
}

/** A running ingestion. */
export interface PushIngestion {
  /** Messages received and applied so far. */
  readonly received: number;
  readonly rejected: number;
  stop(): Promise<void>;
}

/**
 * Turns one pushed JSON event into an online row, or a reason it is rejected.
 *
 * @example
 * ```ts
 * import { featureView, fileSource, kafkaSource } from "@mercury/features";
 * import { pushRow } from "@mercury/features/push";
 * import assert from "node:assert/strict";
 * const batch = fileSource({ name: "b", format: "csv", path: "b.csv", timestampField: "ts" });
 * const v = featureView({ name: "v", entities: ["card"], ttlSeconds: 0,
 *   source: kafkaSource({ name: "k", topic: "t", batchSource: batch, timestampField: "ts" }),
 *   features: [{ name: "n", type: "int64" }] });
 * const row = pushRow(v, ["card_id"], { card_id: 7, ts: "2024-01-01T00:00:00Z", n: 3 });
 * assert.deepEqual(row, { key: "7", eventMs: 1704067200000, createdMs: 0, payload: '{"n":3}' });
 * assert.match(String(pushRow(v, ["card_id"], { ts: 1 })), /card_id/);
 * ```
 */
export function pushRow(view: FeatureView, keys: string[], msg: Record<string, unknown>): OnlineRow | string {
  for (const k of keys) {
    if (msg[k] === undefined || msg[k] === null) return `missing join key "${k}"`;
  }
  const tsRaw = msg[view.source.timestampField];
  const eventMs = typeof tsRaw === "number" ? tsRaw : parseInstant(String(tsRaw));
  if (!Number.isFinite(eventMs)) return `bad or missing "${view.source.timestampField}"`;
  const values: Record<string, unknown> = {};
  for (const f of view.features) values[f.name] = toOnlineValue(msg[f.name], f.type);
  return { key: entityKey(keys.map((k) => msg[k])), eventMs, createdMs: 0, payload: JSON.stringify(values) };
}

/**
 * Consumes a push source's topic into the online store until stopped.
 *
 * @example
 * ```ts ignore
 * const ing = await startPushIngestion({ brokers, repo, view: "card_live", online });
 * await ing.stop();
 * ```
 */
export async function startPushIngestion(options: PushOptions): Promise<PushIngestion> {
  const view = options.repo.views.find((v) => v.name === options.view);
  if (!view) throw new MercuryError("not_found", `no feature view "${options.view}"`, { where: "--view" });
  if (view.source.kind !== "kafka_source") {
    throw new MercuryError("input", `feature view "${view.name}" has no Kafka push source`, {
      where: `feature view "${view.name}".source`,
      hint: "use kafkaSource({ topic, batchSource, … })",
    });
  }
  const keys = view.entities.map((e) => options.repo.entities.find((x) => x.name === e)!.joinKey);
  const kafka = kafkaClient(options.brokers, "mercury-features-push");
  const consumer = kafka.consumer({
    groupId: options.group ?? `mercury-features-${options.repo.project}-${view.name}`,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: view.source.topic, fromBeginning: options.fromBeginning ?? true });
  const state = { received: 0, rejected: 0 };
  await consumer.run({
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      const rows: OnlineRow[] = [];
      for (const m of batch.messages) {
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(m.value?.toString() ?? "");
        } catch {
          state.rejected++;
          options.onReject?.(`offset ${m.offset}: not JSON`);
          continue;
        }
        const row = pushRow(view, keys, msg);
        if (typeof row === "string") {
          state.rejected++;
          options.onReject?.(`offset ${m.offset}: ${row}`);
        } else rows.push(row);
      }
      const written = await options.online.write(view.name, rows, view.ttlSeconds);
      state.received += rows.length;
      for (const m of batch.messages) resolveOffset(m.offset);
      await heartbeat();
      options.onBatch?.(written, state.received);
    },
  });
  return {
    get received() {
      return state.received;
    },
    get rejected() {
      return state.rejected;
    },
    async stop() {
      await consumer.disconnect();
    },
  };
}
