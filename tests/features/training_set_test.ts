import assert from "node:assert/strict";
import { openDuckDB } from "@mercury/core/services/duckdb";
import { serveHttp, trainingSetHandler, writeTrainingSet } from "@mercury/features";
import { runScript } from "../_helpers.ts";
import { fraudFixture } from "./_fixture.ts";

/** Rows of a Parquet file as plain objects (bigints as numbers, timestamps as epoch ms). */
async function readParquet(path: string): Promise<Record<string, unknown>[]> {
  const db = await openDuckDB();
  try {
    const r = await db.connection.runAndReadAll(`select * from read_parquet('${path}')`);
    return (r.getRowObjectsJS() as Record<string, unknown>[]).map(norm);
  } finally {
    db.close();
  }
}

function norm(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    out[k] = typeof v === "bigint" ? Number(v) : v instanceof Date ? v.getTime() : v;
  }
  return out;
}

/** The entity columns of the fixture's rows, as a sort key. */
const entityKey = (r: Record<string, unknown>) =>
  JSON.stringify([r.event_timestamp, r.card_id, r.merchant_id, r.amount]);

/**
 * The same rows; in the same order when `ordered`, else after sorting both by their entity columns (the default
 * training-set file is in the join's order, not the entity table's).
 */
function assertSameRows(got: Record<string, unknown>[], want: Record<string, unknown>[], ordered = false) {
  assert.equal(got.length, want.length);
  if (!ordered) {
    const by = (a: Record<string, unknown>, b: Record<string, unknown>) =>
      entityKey(a) < entityKey(b) ? -1 : entityKey(a) > entityKey(b) ? 1 : 0;
    got = [...got].sort(by);
    want = [...want].sort(by);
  }
  assert.deepEqual(Object.keys(got[0]!), Object.keys(want[0]!));
  for (let i = 0; i < want.length; i++) {
    for (const k of Object.keys(want[i]!)) {
      const a = got[i]![k], b = want[i]![k];
      if (typeof a === "number" && typeof b === "number") {
        assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `row ${i} ${k}: ${a} ≠ ${b}`);
      } else assert.deepEqual(a ?? null, b ?? null, `row ${i} ${k}`);
    }
  }
}

Deno.test({
  name: "features training-set: DuckDB writes the same rows as the JS path; CLI; bad input is one line, no file",
  async fn(t) {
    const fx = await fraudFixture({ cards: 30, days: 10 });
    const entities = `${fx.dir}/entities.parquet`;
    const db = await openDuckDB();
    // Entity rows from the transactions: most find values; a few fall before any data (nulls) or have unknown keys.
    await db.connection.run(`copy (
      select card_id, merchant_id, amount, ts + interval 1 second as event_timestamp
      from read_parquet('${fx.dir}/transactions.parquet') using sample 300 rows (reservoir, 7)
      union all select 999999, 1, 10.0, timestamp '2000-01-01'
      order by event_timestamp, card_id) to '${entities}' (format parquet)`);
    await db.connection.run(`copy (select card_id, amount, event_timestamp from read_parquet('${entities}'))
      to '${fx.dir}/no_merchant.parquet' (format parquet)`);
    db.close();
    const env = {
      MERCURY_FEATURES_DATA: fx.dir,
      MERCURY_FEATURES_PROJECT: fx.project,
      MERCURY_FEATURES_CARDS_TABLE: fx.cardsTable,
    };
    const repo = ["--repo", "plugins/features/examples/fraud_repo.ts", "--offline-root", `${fx.dir}/offline`];
    const cli = (...args: string[]) =>
      runScript("tasks/mercury.ts", ["features", "training-set", ...args, ...repo], env);
    try {
      const want = (await fx.fs.getHistoricalFeatures(
        { relation: `read_parquet('${entities}')` },
        { featureService: "fraud_v1" },
      )).map(norm);
      assert.equal(want.length, 301);
      assert.ok(want.filter((r) => r.tx_count_24h !== null).length > 250, "most entity rows find values");

      await t.step(
        "writeTrainingSet (COPY … TO Parquet) equals getHistoricalFeatures, on-demand features too",
        async () => {
          const out = `${fx.dir}/lib_train.parquet`;
          const r = await writeTrainingSet(fx.fs.offline, { relation: `read_parquet('${entities}')` }, {
            featureService: "fraud_v1",
          }, out);
          assert.equal(r.rows, 301);
          const got = await readParquet(out);
          assert.ok(got.some((g) => typeof g.amount_to_limit === "number"));
          assertSameRows(got, want);
          // keepOrder: the entity table's order, row for row.
          const ordered = `${fx.dir}/lib_train_ordered.parquet`;
          await writeTrainingSet(
            fx.fs.offline,
            { relation: `read_parquet('${entities}')` },
            {
              featureService: "fraud_v1",
            },
            ordered,
            { keepOrder: true },
          );
          assertSameRows(await readParquet(ordered), want, true);
          const one = `${fx.dir}/one_view_ordered.parquet`;
          await writeTrainingSet(fx.fs.offline, { relation: `read_parquet('${entities}')` }, ["card_tx_stats:*"], one, {
            keepOrder: true,
          });
          assert.deepEqual(
            (await readParquet(one)).map(entityKey),
            want.map(entityKey),
            "keepOrder keeps the entity file's order without on-demand features too",
          );
        },
      );

      await t.step(
        "one view: the same rows as a plain DuckDB ASOF join (the benchmark's reference, small)",
        async () => {
          const view = fx.repo.views.find((v) => v.name === "card_tx_stats")!;
          const feats = view.features.map((f) => f.name);
          const out = `${fx.dir}/one_view.parquet`;
          await writeTrainingSet(fx.fs.offline, { relation: `read_parquet('${entities}')` }, ["card_tx_stats:*"], out);
          const rel = await fx.fs.offline.relation("card_tx_stats");
          const r = await fx.fs.offline.connection.runAndReadAll(`
          with p as (select e.*, ${
            feats.map((f) =>
              `case when v.event_timestamp >= e.event_timestamp - interval ${view.ttlSeconds} seconds then v.${f} end as ${f}`
            ).join(", ")
          } from read_parquet('${entities}') e asof left join (select card_id, event_timestamp, ${
            feats.join(", ")
          } from ${rel}) v on e.card_id = v.card_id and e.event_timestamp >= v.event_timestamp),
          m as (select * from read_parquet('${out}'))
          select (select count(*) from p) as plain, (select count(*) from m) as mine,
            (select count(*) from m join p using (card_id, merchant_id, event_timestamp) where ${
            feats.map((f) => `m.${f} is distinct from p.${f}`).join(" or ")
          }) as differing,
            (select count(*) from m where ${feats[0]} is not null) as with_values`);
          const c = r.getRowObjectsJS()[0]!;
          assert.equal(Number(c.plain), 301);
          assert.equal(Number(c.mine), 301);
          assert.equal(Number(c.differing), 0);
          assert.ok(Number(c.with_values) > 250);
        },
      );

      await t.step("the CLI writes the same training set", async () => {
        const out = `${fx.dir}/cli_train.parquet`;
        const r = await cli("--service", "fraud_v1", "--entities", entities, "--output", out);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /cli_train\.parquet: 301 rows, \d+ columns \(parquet\)/);
        assertSameRows(await readParquet(out), want);
      });

      await t.step("POST /training-set answers the same rows as Parquet; bad requests are JSON errors", async () => {
        const e = await readParquet(entities);
        const cols: Record<string, unknown[]> = {};
        for (const k of ["card_id", "merchant_id", "amount", "event_timestamp"]) {
          cols[k] = e.map((r) => k === "event_timestamp" ? new Date(r[k] as number).toISOString() : r[k]);
        }
        const http = serveHttp(fx.fs.server(), { port: 0, trainingSet: trainingSetHandler(fx.fs.offline) });
        try {
          const post = (body: unknown) =>
            fetch(`http://127.0.0.1:${http.port}/training-set`, { method: "POST", body: JSON.stringify(body) });
          const res = await post({ featureService: "fraud_v1", entities: cols });
          assert.equal(res.status, 200);
          assert.equal(res.headers.get("content-type"), "application/vnd.apache.parquet");
          const out = `${fx.dir}/http_train.parquet`;
          await Deno.writeFile(out, new Uint8Array(await res.arrayBuffer()));
          const got = await readParquet(out);
          // The entity time arrives as ISO text and comes back as the instant it names (a TIMESTAMP column).
          assertSameRows(got, want);
          const bad = await post({ featureService: "nope", entities: cols });
          assert.equal(bad.status, 404);
          assert.match((await bad.json()).error, /no feature service "nope"/);
          const ragged = await post({ featureService: "fraud_v1", entities: { card_id: [1, 2], event_timestamp: [] } });
          assert.equal(ragged.status, 400);
          assert.match((await ragged.json()).where, /body\.entities\.event_timestamp/);
        } finally {
          await http.close();
        }
      });

      await t.step("bad input: one line naming the input, a non-zero exit, no output file", async () => {
        const out = `${fx.dir}/bad.parquet`;
        const cases: [string[], RegExp][] = [
          [["--service", "nope", "--entities", entities], /no feature service "nope"/],
          [["--service", "fraud_v1", "--entities", `${fx.dir}/no_merchant.parquet`], /no join key "merchant_id"/],
          [["--service", "fraud_v1", "--entities", `${fx.dir}/missing.parquet`], /cannot read the entity file/],
        ];
        for (const [args, re] of cases) {
          const r = await cli(...args, "--output", out);
          assert.notEqual(r.code, 0, args.join(" "));
          assert.match(r.stderr, re);
          // (Deno's own "Blocking waiting for file lock" lines appear when other processes hold its cache; --repo adds
          // the development-mode note.)
          const lines = r.stderr.trim().split("\n").filter((l) => !/Blocking.*file lock|^development mode:/.test(l));
          assert.equal(lines.length, 1, r.stderr);
          await assert.rejects(Deno.stat(out));
        }
        const dirFiles = [...Deno.readDirSync(fx.dir)].map((e) => e.name);
        assert.ok(!dirFiles.some((n) => n.endsWith(".tmp")), dirFiles.join(","));
      });
    } finally {
      await fx.cleanup();
    }
  },
});
