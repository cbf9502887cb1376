/**
 * Hooks other plugins call:
 *
 * - {@linkcode validateRecords}: a batch of records (e.g. parsed Kafka
 *   values before the stream plugin's windows) against a suite, split into
 *   valid and invalid, each invalid record naming the expectations it failed;
 *   {@linkcode deadLetter} sends the invalid ones to the stream plugin's
 *   dead-letter topic (`<topic>.dlq`, headers `reason` and `source` as the
 *   stream processor writes them) and {@linkcode streamValidator} does both.
 * - {@linkcode checkMaterialization}: the features plugin validates a
 *   view's data (its offline relation) before materialising and either
 *   refuses (throws) or flags (returns the run) when the suite fails.
 *
 * @module
 */
import { MercuryError } from "@mercury/core/plugin";
import { quoteLiteral } from "@mercury/core/sql";
import { openRelation } from "./sources/open_source.ts";
import type { ExpectationSuite, ValidationRun } from "./types.ts";
import { validateOpened } from "./validate.ts";

/** One record a suite rejected. */
export interface RecordCheck<T> {
  record: T;
  /** Position in the batch. */
  index: number;
  /** Expectations it failed, `type(column)#n`. */
  failed: string[];
}

/** What {@linkcode validateRecords} returns. */
export interface RecordsResult<T> {
  valid: T[];
  invalid: RecordCheck<T>[];
  run: ValidationRun;
}

/**
 * Validates a batch of records (objects) against a suite. Row-level
 * expectations decide which records are invalid; aggregate ones only
 * affect `run.success`.
 *
 * @example
 * ```ts
 * import { validateRecords } from "@mercury/quality/hooks";
 * import assert from "node:assert/strict";
 *
 * const { valid, invalid } = await validateRecords([{ v: 1 }, { v: -1 }], {
 *   name: "events",
 *   expectations: [{ type: "expect_column_values_to_be_between", kwargs: { column: "v", min_value: 0 } }],
 * });
 * assert.equal(valid.length, 1);
 * assert.deepEqual(invalid[0]!.failed, ["expect_column_values_to_be_between(v)#0"]);
 * ```
 */
export async function validateRecords<T extends Record<string, unknown>>(
  records: T[],
  suite: ExpectationSuite,
): Promise<RecordsResult<T>> {
  const dir = await Deno.makeTempDir({ prefix: "quality-records-" });
  try {
    return await validateBatch(records, suite, dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function validateBatch<T extends Record<string, unknown>>(
  records: T[],
  suite: ExpectationSuite,
  dir: string,
): Promise<RecordsResult<T>> {
  const input = `${dir}/records.ndjson`;
  await Deno.writeTextFile(input, records.map((r, i) => JSON.stringify({ ...r, __idx: i })).join("\n") + "\n");
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    await conn.run(`create temp table quality_records as select * from read_json_auto(${quoteLiteral(input)})`);
    await using src = await openRelation(
      `(select * exclude (__idx) from quality_records)`,
      `records(${records.length})`,
      {
        conn,
      },
    );
    const failingPath = `${dir}/failing.parquet`;
    const run = await validateOpened(src, suite, {
      failing_rows_path: failingPath,
      failingRelation: "quality_records",
    });
    const bad = new Map<number, string[]>();
    if (run.failing_rows_path) {
      const r = await conn.runAndReadAll(
        `select __idx, __failed_expectations from read_parquet(${quoteLiteral(failingPath)})`,
      );
      for (const row of r.getRowObjectsJson()) {
        bad.set(Number(row.__idx), (row.__failed_expectations as string[]) ?? []);
      }
    }
    const valid: T[] = [];
    const invalid: RecordCheck<T>[] = [];
    records.forEach((record, index) => {
      const failed = bad.get(index);
      if (failed) invalid.push({ record, index, failed });
      else valid.push(record);
    });
    return { valid, invalid, run };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** Where {@linkcode deadLetter} sends invalid records. */
export interface DeadLetterTarget {
  /** The stream's input topic; dead letters go to `<topic>.dlq` unless `dlqTopic` is given. */
  topic: string;
  dlqTopic?: string;
  brokers?: string[];
}

/** Sends invalid records to the stream plugin's dead-letter topic, the failed expectations in the `reason` header. */
export async function deadLetter<T>(
  invalid: RecordCheck<T>[],
  suite: string,
  target: DeadLetterTarget,
): Promise<number> {
  if (!invalid.length) return 0;
  const { connectKafka } = await import("@mercury/core/services/kafka");
  await using k = await connectKafka(target.brokers ? { brokers: target.brokers } : {});
  const topic = target.dlqTopic ?? `${target.topic}.dlq`;
  const producer = k.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < invalid.length; i += 500) {
      await producer.send({
        topic,
        messages: invalid.slice(i, i + 500).map((d) => ({
          value: JSON.stringify(d.record),
          headers: {
            reason: `quality: ${d.failed.join(", ")}`,
            source: `${target.topic}/quality:${suite}#${d.index}`,
          },
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
  return invalid.length;
}

/**
 * A function for the stream plugin: give it a batch of parsed records, get
 * back the valid ones; the invalid ones are already on the dead-letter topic.
 */
export function streamValidator<T extends Record<string, unknown>>(
  suite: ExpectationSuite,
  target: DeadLetterTarget,
): (records: T[]) => Promise<T[]> {
  return async (records) => {
    const { valid, invalid } = await validateRecords(records, suite);
    await deadLetter(invalid, suite.name, target);
    return valid;
  };
}

/** Options of {@linkcode checkMaterialization}. */
export interface MaterializationCheck {
  /** `refuse` throws when the suite fails (default); `flag` returns the failed run. */
  mode?: "refuse" | "flag";
  /** Name of the feature view, for messages. */
  view?: string;
}

/**
 * Validates a feature view's data (a DuckDB relation, e.g. the offline
 * store's `read_parquet(…)`) before materialisation.
 *
 * @example
 * ```ts ignore
 * const rel = await offline.relation("card_stats");
 * await checkMaterialization(rel, suite, { view: "card_stats" }); // throws if it fails
 * await materialize(registry, offline, online, "card_stats");
 * ```
 */
export async function checkMaterialization(
  relation: string,
  suite: ExpectationSuite,
  options: MaterializationCheck = {},
): Promise<{ run: ValidationRun; flagged: boolean }> {
  const label = `features:${options.view ?? "view"}`;
  await using src = await openRelation(relation, label);
  const run = await validateOpened(src, suite);
  if (!run.success && (options.mode ?? "refuse") === "refuse") {
    const failed = run.results.filter((r) => !r.success).map((r) =>
      `${r.expectation_config.type}${
        r.expectation_config.kwargs.column ? `(${r.expectation_config.kwargs.column})` : ""
      }`
    );
    throw new MercuryError(
      "input",
      `refusing to materialise ${options.view ?? "the view"}: suite ${suite.name} failed ${failed.join(", ")}`,
      {
        where: label,
        hint: "fix the data or run with mode: flag",
      },
    );
  }
  return { run, flagged: !run.success };
}
