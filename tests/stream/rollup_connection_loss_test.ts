/**
 * The rollup double count seen in the exactly-once fault test, made
 * deterministic. A checkpoint's connection is lost after its COPY of results
 * was sent but before the server completed it (here: the COPY waits on a lock
 * on its day partition, and the TCP connection, through a relay, is cut — as
 * a PostgreSQL crash cuts it, without an error message). postgres.js 3.4.9
 * keeps the lost transaction's callback alive, and the COPY's completion
 * callback stays armed on the connection object: the next statement completed
 * on that reconnected connection resumed the dead callback, which then sent
 * its rollup increment into whatever ran there — the retried checkpoint's
 * transaction. The windows were written once, the rollup twice.
 */
import assert from "node:assert/strict";
import { FencedError, type PartitionCheckpoint, PostgresSink, type WindowResult } from "@mercury/stream";
import { connectPostgres } from "@mercury/core/services/postgres";
import { resolveEndpoints } from "@mercury/core";
import { retry } from "@mercury/core/retry";
import { integration, uniqueName } from "../_helpers.ts";

const DAY = 86_400_000;

function results(keys: number, start: number, from = 0): WindowResult[] {
  return Array.from({ length: keys }, (_, k) => ({
    key: `k${from + k}`,
    start,
    end: start + 60_000,
    count: 3,
    sum: 6,
    min: 1,
    max: 3,
    mean: 2,
    distinct: 2,
    p50: 2,
    p95: 3,
    p99: 3,
  }));
}

function closeQuietly(c: Deno.Conn): void {
  try {
    c.close();
  } catch { /* already closed by its peer */ }
}

/** A TCP relay to PostgreSQL whose connections can be cut (a network failure or a server crash, as a client sees it). */
function relay(target: { hostname: string; port: number }) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  void (async () => {
    for await (const client of listener) {
      const server = await Deno.connect(target).catch(() => undefined);
      if (!server) {
        client.close();
        continue;
      }
      open.add(client).add(server);
      const close = () => {
        for (const c of [client, server]) {
          if (open.delete(c)) closeQuietly(c);
        }
      };
      void client.readable.pipeTo(server.writable, { preventClose: true }).catch(() => {}).finally(close);
      void server.readable.pipeTo(client.writable, { preventClose: true }).catch(() => {}).finally(close);
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    cut() {
      for (const c of open) closeQuietly(c);
      open.clear();
    },
    close() {
      this.cut();
      listener.close();
    },
  };
}

function checkpoint(expected: bigint | null, next: bigint): PartitionCheckpoint {
  return {
    topic: "t",
    partition: 0,
    expectedOffset: expected,
    nextOffset: next,
    state: { maxTs: null, open: [] },
    events: 0,
    late: 0,
    dead: 0,
  };
}

Deno.test({
  name: "PostgreSQL sink: a checkpoint whose connection is lost mid-COPY and is retried adds to the rollup once",
  ...integration,
  async fn() {
    const pipeline = uniqueName("rollup_loss");
    const app = pipeline.replace(/[^a-z0-9_]/gi, "_");
    const url = new URL(resolveEndpoints().postgres.url);
    const net = relay({ hostname: url.hostname, port: Number(url.port || 5432) });
    url.hostname = "127.0.0.1";
    url.port = String(net.port);
    url.searchParams.set("application_name", app);
    // One connection, so the retry and every later statement run on the connection object that was lost.
    const pg = await connectPostgres({ url: url.href, max: 1 });
    const admin = await connectPostgres({ max: 2 });
    const sink = await PostgresSink.open(pg.sql, pipeline);
    try {
      if (sink.mode !== "partitioned") {
        // On TimescaleDB the rollup is a continuous aggregate computed from the windows: nothing to double.
        assert.equal(sink.mode, "timescaledb");
        return;
      }
      // A day of its own (no other test writes there), so the lock below blocks this test's COPY only.
      const day = Date.UTC(1990, 0, 1) + (Number.parseInt(crypto.randomUUID().slice(0, 6), 16) % 3000) * DAY;
      const leaf = `stream_windows_${new Date(day).toISOString().slice(0, 10).replaceAll("-", "")}`;
      const w0 = day + 3_600_000;
      await sink.commit(results(10, w0), [checkpoint(null, 10n)]); // claims the partition, creates the day's table
      const lock = admin.sql.reserve();
      const locker = await lock;
      await locker`begin`;
      await locker.unsafe(`lock table ${leaf} in access exclusive mode`);
      const retried: string[] = [];
      const w1 = w0 + 60_000;
      const commit = retry(() => sink.commit(results(2000, w1), [checkpoint(10n, 20n)]), {
        attempts: 30,
        baseMs: 200,
        factor: 1,
        retryable: (err) => !(err instanceof FencedError),
        onRetry: (err) => retried.push((err as Error).message),
      });
      // The results' insert (a COPY until the sink stopped using postgres.js's COPY writable) waits for the day's
      // table: the statement is sent, its completion is not.
      let pid: number | undefined;
      for (let i = 0; i < 200 && pid === undefined; i++) {
        const [row] = await admin.sql`
          select pid from pg_stat_activity
          where application_name = ${app} and wait_event_type = 'Lock' and query ilike '%into stream_windows (%'`;
        pid = row?.pid as number | undefined;
        if (pid === undefined) await new Promise((r) => setTimeout(r, 25));
      }
      assert.ok(pid !== undefined, "the checkpoint's results insert never waited on the lock");
      net.cut();
      await new Promise((r) => setTimeout(r, 100));
      await locker`rollback`;
      locker.release();
      await commit;
      assert.ok(retried.length >= 1, "the lost checkpoint was not retried");
      // Later checkpoints on the same connection (the dead transaction must not resume in them either).
      await sink.commit(results(5, w1 + 60_000), [checkpoint(20n, 30n)]);
      await sink.commit(results(5, w1 + 120_000), [checkpoint(30n, 40n)]);

      const windows = await admin.sql`
        select window_start, sum(count)::bigint as events, count(*)::bigint as keys
        from stream_windows where pipeline = ${pipeline} group by 1 order by 1`;
      const rollup = await admin.sql`
        select window_start, events, keys from stream_windows_rollup where pipeline = ${pipeline} order by 1`;
      const rows = (xs: typeof windows) =>
        xs.map((r) => `${(r.window_start as Date).toISOString()} ${r.events} events ${r.keys} keys`);
      assert.deepEqual(rows(windows), [
        `${new Date(w0).toISOString()} 30 events 10 keys`,
        `${new Date(w1).toISOString()} 6000 events 2000 keys`,
        `${new Date(w1 + 60_000).toISOString()} 15 events 5 keys`,
        `${new Date(w1 + 120_000).toISOString()} 15 events 5 keys`,
      ]);
      assert.deepEqual(rows(rollup), rows(windows), `retries: ${retried.join("; ")}`);
      const [stored] = await admin.sql`select next_offset from stream_checkpoints where pipeline = ${pipeline}`;
      assert.equal(BigInt(stored!.next_offset), 40n);
    } finally {
      await sink.reset().catch(() => {});
      await pg.close();
      await admin.close();
      net.close();
    }
  },
});
