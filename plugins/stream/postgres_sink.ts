/**
 * The exactly-once PostgreSQL sink. Final window results, the rollup, each
 * partition's open-window state and its next Kafka offset are written in ONE
 * database transaction; a worker resumes from exactly that offset and state.
 * A checkpoint only succeeds if the partition's stored offset is still the one
 * this worker loaded, so a zombie worker that lost the partition in a
 * rebalance is fenced out instead of double counting.
 *
 * Storage: on TimescaleDB a hypertable plus a continuous aggregate; on plain
 * PostgreSQL a table partitioned by day on `window_start` plus a rollup table
 * maintained in the same transaction.
 *
 * @module
 */
import { type Sql, transaction } from "@mercury/core/services/postgres";
import type { AggregatorOptions, AggregatorSnapshot, WindowResult } from "./aggregator.ts";
import {
  type CheckpointStore,
  FencedError,
  type LoadedPartition,
  type PartitionCheckpoint,
} from "./checkpoint_store.ts";

export { FencedError, type LoadedPartition, type PartitionCheckpoint };

/** How results are stored on this server. */
export type SinkMode = "timescaledb" | "partitioned";

const DAY = 86_400_000;

/**
 * @example
 * ```ts ignore
 * const sink = await PostgresSink.open(pg.sql, "clicks");
 * const loaded = await sink.load("events", 0);
 * await sink.commit(results, [checkpoint]); // results + offsets + state, atomically
 * ```
 */
export class PostgresSink implements CheckpointStore {
  readonly commitsGroupOffsets = false;
  /** Open windows live one row each in `stream_window_state`; a checkpoint writes only what changed. */
  readonly incremental = true;
  /** Between snapshots, checkpoints append the observations taken to `stream_observation_log`. */
  readonly logsObservations = true;
  readonly sql: Sql;
  readonly pipeline: string;
  readonly mode: SinkMode;
  #partitions = new Set<number>();

  private constructor(sql: Sql, pipeline: string, mode: SinkMode) {
    this.sql = sql;
    this.pipeline = pipeline;
    this.mode = mode;
  }

  /** Creates the tables if needed (TimescaleDB when the server has it) and returns the sink. */
  static async open(sql: Sql, pipeline: string): Promise<PostgresSink> {
    const [{ available }] = await sql`
      select exists(select 1 from pg_available_extensions where name = 'timescaledb') as available` as unknown as [
      { available: boolean },
    ];
    const mode: SinkMode = available ? "timescaledb" : "partitioned";
    await transaction(sql, async (tx, step) => {
      // One worker at a time creates the schema.
      await step(tx`select pg_advisory_xact_lock(hashtext('mercury_stream_schema'))`);
      await step(tx`create table if not exists stream_checkpoints (
        pipeline text not null, topic text not null, partition int not null,
        next_offset bigint not null, state jsonb,
        events bigint not null default 0, late bigint not null default 0, dead bigint not null default 0,
        updated_at timestamptz not null default now(),
        primary key (pipeline, topic, partition))`);
      await step(tx`create table if not exists stream_window_state (
        pipeline text not null, topic text not null, partition int not null,
        key text not null, window_start bigint not null, window_end bigint not null, acc jsonb not null,
        primary key (pipeline, topic, partition, key, window_start, window_end))`);
      await step(tx`create table if not exists stream_observation_log (
        pipeline text not null, topic text not null, partition int not null, next_offset bigint not null,
        obs text, chunk bytea,
        primary key (pipeline, topic, partition, next_offset))`);
      // Binary chunks (observation_log.ts); tables from before them also hold text lines in `obs`.
      await step(tx`alter table stream_observation_log add column if not exists chunk bytea`);
      await step(tx`alter table stream_observation_log alter column obs drop not null`);
      // Written once, read only on a restart: not worth compressing on every commit.
      await step(tx`alter table stream_observation_log alter column obs set storage external`);
      await step(tx`alter table stream_observation_log alter column chunk set storage external`);
      const columns = `
        pipeline text not null, key text not null,
        window_start timestamptz not null, window_end timestamptz not null,
        count bigint not null, sum double precision not null, min double precision, max double precision,
        mean double precision, distinct_count bigint, p50 double precision, p95 double precision, p99 double precision,
        attrs jsonb, emitted_at timestamptz not null default now(),
        primary key (pipeline, key, window_start, window_end)`;
      if (mode === "timescaledb") {
        await step(tx`create extension if not exists timescaledb`);
        await step(tx.unsafe(`create table if not exists stream_windows (${columns})`));
        await step(tx`select create_hypertable('stream_windows', 'window_start', if_not_exists => true)`);
        await step(tx.unsafe(`create materialized view if not exists stream_windows_rollup
          with (timescaledb.continuous) as
          select pipeline, time_bucket('1 minute', window_start) as bucket,
                 sum(count)::bigint as events, sum(sum) as total, count(*)::bigint as keys
          from stream_windows group by pipeline, bucket with no data`));
      } else {
        await step(
          tx.unsafe(`create table if not exists stream_windows (${columns}) partition by range (window_start)`),
        );
        await step(tx.unsafe(`create table if not exists stream_windows_default partition of stream_windows default`));
        await step(tx`create table if not exists stream_windows_rollup (
          pipeline text not null, window_start timestamptz not null, window_end timestamptz not null,
          events bigint not null, total double precision not null, keys bigint not null,
          primary key (pipeline, window_start, window_end))`);
      }
    });
    return new PostgresSink(sql, pipeline, mode);
  }

  /** The stored offset and state of a partition. */
  async load(topic: string, partition: number): Promise<LoadedPartition> {
    const rows = await this.sql`
      select next_offset, state from stream_checkpoints
      where pipeline = ${this.pipeline} and topic = ${topic} and partition = ${partition}`;
    const row = rows[0];
    if (!row) return { nextOffset: null, state: null };
    const state = (row.state ?? { maxTs: null, open: [] }) as AggregatorSnapshot & {
      incremental?: boolean;
      options?: AggregatorOptions;
    };
    if (state.incremental) {
      const open = await this.sql`
        select key, window_start, window_end, acc from stream_window_state
        where pipeline = ${this.pipeline} and topic = ${topic} and partition = ${partition}`;
      state.open = open.map((r) => [r.key, Number(r.window_start), Number(r.window_end), r.acc]);
    }
    const log = await this.sql`
      select obs, chunk from stream_observation_log
      where pipeline = ${this.pipeline} and topic = ${topic} and partition = ${partition} order by next_offset`;
    return {
      nextOffset: BigInt(row.next_offset),
      state: { maxTs: state.maxTs, open: state.open },
      log: log.map((r) => (r.chunk ? new Uint8Array(r.chunk as Uint8Array) : r.obs as string)),
      ...(state.options ? { aggregator: state.options } : {}),
    };
  }

  /**
   * Writes results and checkpoints atomically. Throws {@linkcode FencedError}
   * (after rolling back) when a partition's stored offset moved under us.
   */
  async commit(results: WindowResult[], checkpoints: PartitionCheckpoint[]): Promise<void> {
    const debug = Deno.env.get("MERCURY_DEBUG") === "1";
    const t0 = performance.now();
    if (this.mode === "partitioned") await this.#ensurePartitions(results);
    const t1 = performance.now();
    const steps: string[] = [];
    let ts = t1;
    const mark = (name: string) => {
      if (!debug) return;
      const now = performance.now();
      steps.push(`${name} ${(now - ts).toFixed(0)}`);
      ts = now;
    };
    const topic = checkpoints[0]?.topic ?? ""; // a processor reads one topic
    const fenced = (p: number) => new FencedError(`${topic}/${p} moved on in another worker`);
    // Progress: the partitions between snapshots move their offsets only (their stored state and
    // maxTs stay the snapshot's, which the log is replayed onto); snapshots also store the state.
    const moves = checkpoints.filter((c) => c.expectedOffset !== null);
    const claims = checkpoints.filter((c) => c.expectedOffset === null);
    const stateJson = (c: PartitionCheckpoint) =>
      c.log !== undefined ? null : JSON.stringify(
        c.delta ? { maxTs: c.delta.maxTs, open: [], incremental: true, options: c.aggregator } : c.state,
      );
    const logRows = checkpoints.filter((c) => c.log).map((c) => ({
      pipeline: this.pipeline,
      topic,
      partition: c.partition,
      next_offset: c.nextOffset.toString(),
      chunk: c.log!,
    }));
    const snapshots = checkpoints.filter((c) => c.delta).map((c) => c.partition);
    // Window state changes of all snapshotting partitions: one upsert and one delete, from arrays.
    const up = {
      partition: [] as number[],
      key: [] as string[],
      start: [] as number[],
      end: [] as number[],
      acc: [] as string[],
    };
    const rm = { partition: [] as number[], key: [] as string[], start: [] as number[], end: [] as number[] };
    for (const c of checkpoints) {
      if (!c.delta) continue;
      // aggregator.delta() never lists a window both as written and removed.
      for (const [key, start, end, acc] of c.delta.upserts) {
        up.partition.push(c.partition);
        up.key.push(key);
        up.start.push(start);
        up.end.push(end);
        up.acc.push(JSON.stringify(acc));
      }
      for (const [key, start, end] of c.delta.removed) {
        rm.partition.push(c.partition);
        rm.key.push(key);
        rm.start.push(start);
        rm.end.push(end);
      }
    }
    // Every await inside goes through `step`: a checkpoint whose connection is lost must not resume on the
    // reconnected connection (in its own retry's transaction, say) — see `transaction` in @mercury/core/services/postgres.
    await transaction(this.sql, async (tx, step) => {
      // Every statement below is sent at once (postgres.js pipelines queries issued without
      // awaiting): on a loaded machine each round trip waits for a time slice, so a checkpoint
      // costs one wait instead of one per statement. Any failure rolls the whole transaction back.
      const pending: Promise<unknown>[] = [];
      const moved = moves.length
        ? tx`
          update stream_checkpoints c set next_offset = v.next_offset,
            state = coalesce(v.state::jsonb, c.state),
            events = c.events + v.events, late = c.late + v.late, dead = c.dead + v.dead, updated_at = now()
          from unnest(${moves.map((c) => c.partition)}::int[], ${moves.map((c) => String(c.expectedOffset))}::bigint[],
                      ${moves.map((c) => c.nextOffset.toString())}::bigint[], ${moves.map(stateJson)}::text[],
                      ${moves.map((c) => c.events)}::bigint[], ${moves.map((c) => c.late)}::bigint[],
                      ${moves.map((c) => c.dead)}::bigint[])
            as v(partition, expected, next_offset, state, events, late, dead)
          where c.pipeline = ${this.pipeline} and c.topic = ${topic} and c.partition = v.partition
            and c.next_offset = v.expected
          returning c.partition`
        : Promise.resolve([]);
      const claimed = claims.length
        ? tx`
          insert into stream_checkpoints (pipeline, topic, partition, next_offset, state, events, late, dead)
          select ${this.pipeline}, ${topic}, v.partition, v.next_offset, v.state::jsonb, v.events, v.late, v.dead
          from unnest(${claims.map((c) => c.partition)}::int[], ${claims.map((c) => c.nextOffset.toString())}::bigint[],
                      ${claims.map(stateJson)}::text[], ${claims.map((c) => c.events)}::bigint[],
                      ${claims.map((c) => c.late)}::bigint[], ${claims.map((c) => c.dead)}::bigint[])
            as v(partition, next_offset, state, events, late, dead)
          on conflict do nothing
          returning partition`
        : Promise.resolve([]);
      pending.push(moved, claimed);
      // A row already there means another worker committed this partition to the same offset: the
      // offset update below finds the partition moved on and throws FencedError (not a key violation).
      if (logRows.length) pending.push(tx`insert into stream_observation_log ${tx(logRows)} on conflict do nothing`);
      if (snapshots.length) {
        pending.push(tx`
          delete from stream_observation_log
          where pipeline = ${this.pipeline} and topic = ${topic} and partition = any(${snapshots}::int[])`);
      }
      if (rm.key.length) {
        pending.push(tx`
          delete from stream_window_state s
          using unnest(${rm.partition}::int[], ${rm.key}::text[], ${rm.start}::bigint[], ${rm.end}::bigint[])
            as r(partition, key, window_start, window_end)
          where s.pipeline = ${this.pipeline} and s.topic = ${topic} and s.partition = r.partition
            and s.key = r.key and s.window_start = r.window_start and s.window_end = r.window_end`);
      }
      if (up.key.length) {
        pending.push(tx`
          insert into stream_window_state (pipeline, topic, partition, key, window_start, window_end, acc)
          select ${this.pipeline}, ${topic}, r.partition, r.key, r.window_start, r.window_end, r.acc::jsonb
          from unnest(${up.partition}::int[], ${up.key}::text[], ${up.start}::bigint[], ${up.end}::bigint[],
                      ${up.acc}::text[]) as r(partition, key, window_start, window_end, acc)
          on conflict (pipeline, topic, partition, key, window_start, window_end) do update set acc = excluded.acc`);
      }
      await step(Promise.all(pending));
      const done = new Set(
        [...(await step<readonly unknown[]>(moved)), ...(await step<readonly unknown[]>(claimed))].map((r) =>
          (r as { partition: number }).partition
        ),
      );
      for (const c of checkpoints) if (!done.has(c.partition)) throw fenced(c.partition);
      mark("offsets + log + state");

      if (results.length) {
        // One statement with an array parameter per column, not postgres.js 3.4.9's COPY writable: that never
        // settles when the server refuses the data after the COPY's end (a duplicate key: porsager/postgres#1173),
        // holding this transaction and its connection forever. A refusal now fails the checkpoint with the
        // server's error (tests/stream/sink_refused_copy_test.ts); bench/pg_copy_bench.ts compares the speed.
        await step(insertResults(tx, this.pipeline, results));
      }
      mark("results");
      if (this.mode === "partitioned" && results.length) {
        const byWindow = new Map<string, { start: number; end: number; events: number; total: number; keys: number }>();
        for (const w of results) {
          const id = `${w.start}/${w.end}`;
          const r = byWindow.get(id) ?? { start: w.start, end: w.end, events: 0, total: 0, keys: 0 };
          r.events += w.count;
          r.total += w.sum;
          r.keys += 1;
          byWindow.set(id, r);
        }
        const rows = [...byWindow.values()].map((r) => ({
          pipeline: this.pipeline,
          window_start: new Date(r.start),
          window_end: new Date(r.end),
          events: r.events,
          total: r.total,
          keys: r.keys,
        }));
        await step(tx`
          insert into stream_windows_rollup ${tx(rows)}
          on conflict (pipeline, window_start, window_end) do update set
            events = stream_windows_rollup.events + excluded.events,
            total = stream_windows_rollup.total + excluded.total,
            keys = stream_windows_rollup.keys + excluded.keys`);
      }
    });
    if (debug) {
      const bytes = checkpoints.reduce((n, c) => n + JSON.stringify(c.delta ?? c.state).length, 0);
      console.error(
        `commit: ${results.length} results, ${checkpoints.length} partitions, state ${bytes} bytes; ` +
          `ddl ${(t1 - t0).toFixed(0)} ms, txn ${(performance.now() - t1).toFixed(0)} ms (${
            steps.join(", ")
          }, rollup+commit)`,
      );
    }
  }

  /** Daily partitions for the results' window starts (outside the commit: DDL takes heavy locks). */
  async #ensurePartitions(results: WindowResult[]): Promise<void> {
    const days = new Set<number>();
    for (const w of results) {
      const day = Math.floor(w.start / DAY) * DAY;
      if (!this.#partitions.has(day)) days.add(day);
    }
    for (const day of days) {
      const name = `stream_windows_${new Date(day).toISOString().slice(0, 10).replaceAll("-", "")}`;
      await transaction(this.sql, async (tx, step) => {
        await step(tx`select pg_advisory_xact_lock(hashtext('mercury_stream_schema'))`);
        const exists = await step(tx`select 1 from pg_class where relname = ${name}`);
        if (exists.length === 0) {
          // Rows already in the default partition for this day would block the new one: move them.
          await step(tx.unsafe(`create table ${name} (like stream_windows including defaults including constraints)`));
          const from = new Date(day).toISOString();
          const to = new Date(day + DAY).toISOString();
          await step(tx.unsafe(
            `with moved as (delete from stream_windows_default where window_start >= '${from}' and window_start < '${to}' returning *)
             insert into ${name} select * from moved`,
          ));
          await step(tx.unsafe(
            `alter table stream_windows attach partition ${name} for values from ('${from}') to ('${to}')`,
          ));
        }
      });
      this.#partitions.add(day);
    }
  }

  describe(): string {
    return this.mode === "timescaledb"
      ? "TimescaleDB hypertable + continuous aggregate"
      : "PostgreSQL table partitioned by day + rollup table";
  }

  /** The stored next offset of every partition of `topic`. */
  async storedOffsets(topic: string): Promise<Map<number, bigint>> {
    const rows = await this.sql`
      select partition, next_offset from stream_checkpoints where pipeline = ${this.pipeline} and topic = ${topic}`;
    return new Map(rows.map((r) => [Number(r.partition), BigInt(r.next_offset)]));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Removes everything this pipeline wrote (results, rollup, checkpoints). */
  async reset(): Promise<void> {
    await transaction(this.sql, async (tx, step) => {
      await step(tx`delete from stream_windows where pipeline = ${this.pipeline}`);
      if (this.mode === "partitioned") {
        await step(tx`delete from stream_windows_rollup where pipeline = ${this.pipeline}`);
      }
      await step(tx`delete from stream_checkpoints where pipeline = ${this.pipeline}`);
      await step(tx`delete from stream_window_state where pipeline = ${this.pipeline}`);
      await step(tx`delete from stream_observation_log where pipeline = ${this.pipeline}`);
    });
  }
}

/** Escapes a value for COPY's text format. */
/**
 * The statement writing window results into `stream_windows`: one `insert … select from unnest(…)` with a
 * parameter array per column (times as epoch milliseconds, non-finite doubles as PostgreSQL spells them).
 */
export function insertResults(tx: Pick<Sql, "unsafe">, pipeline: string, results: readonly WindowResult[]) {
  const col = <T>(f: (w: WindowResult) => T) => results.map(f);
  return tx.unsafe(
    `insert into stream_windows (pipeline, key, window_start, window_end, count, sum, min, max, mean, distinct_count,
      p50, p95, p99, attrs)
    select $1, k, timestamptz 'epoch' + s * interval '1 millisecond', timestamptz 'epoch' + e * interval '1 millisecond',
      c, su, mi, ma, me, d, q50, q95, q99, a::jsonb
    from unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::float8[], $7::float8[], $8::float8[],
      $9::float8[], $10::bigint[], $11::float8[], $12::float8[], $13::float8[], $14::text[])
      as r(k, s, e, c, su, mi, ma, me, d, q50, q95, q99, a)`,
    [
      pipeline,
      col((w) => w.key),
      col((w) => w.start),
      col((w) => w.end),
      col((w) => w.count),
      col((w) => w.sum),
      col((w) => w.min),
      col((w) => w.max),
      col((w) => w.mean),
      col((w) => w.distinct),
      col((w) => w.p50),
      col((w) => w.p95),
      col((w) => w.p99),
      col((w) => (w.attrs ? JSON.stringify(w.attrs) : null)),
    ] as never,
  );
}
