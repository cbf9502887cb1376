/**
 * The web UI's pure parts against a real engine: every example query the sidebar offers runs, the null-count
 * query matches the nulls of the full answer (also after a trailing comment and semicolon), the chart picked
 * for each kind of result, the time-series forms' bodies are accepted by the routes, and history keeps the newest
 * run of each query.
 */
import assert from "node:assert/strict";
import { serve } from "@mercury/olap";
import { examplesFor } from "../../plugins/olap/ui/src/examples.ts";
import { kindOf, pickChart } from "../../plugins/olap/ui/src/chart_pick.ts";
import { nullCountSql, sortedSql } from "../../plugins/olap/ui/src/null_counts.ts";
import { formBody, TIME_SERIES_FORMS } from "../../plugins/olap/ui/src/timeseries_forms.ts";
import { HISTORY_SIZE, QueryHistory } from "../../plugins/olap/ui/src/history.ts";
import { queryFromHash, shareHash } from "../../plugins/olap/ui/src/share.ts";
import { salesEngine } from "./_fixtures.ts";

type Answer = { columns: { name: string; type: string }[]; rows: unknown[][] };

Deno.test({
  name: "olap UI parts: examples run, null counts are exact, forms' bodies are accepted, charts fit the types",
  async fn(t) {
    await using env = await salesEngine();
    const server = serve(env.olap, { port: 0 });
    const query = async (sql: string): Promise<Answer> => {
      const res = await fetch(`${server.url}query`, { method: "POST", body: JSON.stringify({ sql }) });
      assert.equal(res.status, 200, `${sql}: ${await res.clone().text()}`);
      return await res.json();
    };
    try {
      const tables = (await (await fetch(`${server.url}tables`)).json()).tables;

      await t.step("every example query of the catalog runs", async () => {
        const examples = examplesFor(tables);
        assert.ok(examples.length >= 5);
        for (const ex of examples) assert.ok((await query(ex.sql)).columns.length > 0, ex.title);
      });

      await t.step("the null-count query counts the nulls of the whole answer", async () => {
        const sql = "select qty, nullif(region, 'eu') as r, case when qty > 90 then amount end as a from sales -- x\n;";
        const full = await query(sql.replace(/--.*\n;$/, ""));
        const counted = (await query(nullCountSql(sql))).rows[0]!.map(Number);
        const nulls = full.columns.map((_, i) => full.rows.filter((r) => r[i] === null).length);
        assert.equal(counted[0], full.rows.length);
        assert.deepEqual(counted.slice(1).map((n) => counted[0]! - n), nulls);
        assert.ok(nulls[1]! > 0 && nulls[2]! > 0 && nulls[0] === 0);
      });

      await t.step("the sorted query orders the whole answer by a column, quoted, nulls last", async () => {
        const base = 'select qty as "odd ""name""", nullif(qty, 96) as n from sales -- note\n;';
        const desc = await query(sortedSql(base, { column: 'odd "name"', desc: true }));
        assert.equal(desc.rows.length, 2000);
        assert.equal(desc.rows[0]![0], 96);
        const byN = await query(sortedSql(base, { column: "n", desc: true }));
        assert.equal(byN.rows[0]![1], 95);
        assert.equal(byN.rows.at(-1)![1], null);
      });

      await t.step("each form's default body is accepted by its route", async () => {
        for (const f of TIME_SERIES_FORMS) {
          const values: Record<string, string | string[]> = {};
          for (const field of f.fields) {
            values[field.key] = field.kind === "columns"
              ? (field.optional ? [] : [field.prefer === "quantitative" ? "qty" : "region"])
              : field.kind === "column"
              ? (field.optional
                ? ""
                : field.prefer === "temporal"
                ? "ts"
                : field.prefer === "quantitative"
                ? "qty"
                : "region")
              : field.kind === "table"
              ? "sales"
              : field.kind === "steps"
              ? "eu, us"
              : field.optional
              ? ""
              : field.options?.[0] ?? field.placeholder ?? "";
          }
          const res = await fetch(`${server.url}timeseries/${f.op}`, {
            method: "POST",
            body: JSON.stringify({ ...formBody(f.op, "sales", values), limit: 3 }),
          });
          assert.equal(res.status, 200, `${f.op}: ${await res.clone().text()}`);
          await res.body?.cancel();
        }
      });

      await t.step("charts follow the result's types", async () => {
        const pick = async (sql: string) => {
          const a = await query(sql);
          return pickChart(a.columns, a.rows);
        };
        const line = await pick("select cast(ts as date) as d, region, sum(qty) as q from sales group by all");
        assert.deepEqual([line?.mark, line?.x.field, line?.y.field, line?.color?.field], ["line", "d", "q", "region"]);
        const bars = await pick("select product, avg(amount) as a from sales group by 1");
        assert.deepEqual([bars?.mark, bars?.x.type, bars?.y.field], ["bar", "nominal", "a"]);
        const scatter = await pick("select qty, amount from sales");
        assert.equal(scatter?.mark, "point");
        const hist = await pick("select amount from sales");
        assert.deepEqual([hist?.mark, hist?.x.bin, hist?.y.aggregate], ["bar", true, "count"]);
        assert.equal(await pick("select [1, 2] as l"), undefined);
        const moving = await query("select ts, qty, avg(qty) over (order by ts) as avg_qty from sales");
        assert.equal(pickChart(moving.columns, moving.rows)?.y.field, "qty");
        assert.equal(pickChart(moving.columns, moving.rows, "avg_qty")?.y.field, "avg_qty");
        assert.equal(kindOf("TIMESTAMP WITH TIME ZONE"), "temporal");
        assert.equal(kindOf("DECIMAL(10,2)"), "quantitative");
        assert.equal(kindOf("STRUCT(a INTEGER)"), undefined);
      });
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test("olap UI parts: history keeps the newest run of each query, at most HISTORY_SIZE; links round-trip", () => {
  const store = new Map<string, string>([["olap-history", JSON.stringify(["select 'old format'"])]]);
  const h = new QueryHistory({ getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v) });
  assert.deepEqual(h.list().map((e) => e.sql), ["select 'old format'"]);
  for (let i = 0; i < HISTORY_SIZE + 5; i++) h.add({ sql: `select ${i % 60}`, rows: 1, ms: 1, at: i });
  h.add({ sql: "select 3", rows: 1, ms: 1, at: 999 });
  const list = h.list();
  assert.equal(list.length, HISTORY_SIZE);
  assert.equal(list[0]!.sql, "select 3");
  assert.equal(list.filter((e) => e.sql === "select 3").length, 1);
  store.set("olap-history", "{not json");
  assert.deepEqual(h.list(), []);
  const sql = "select 'a&b=c' as \"#x\" -- 100%\n";
  assert.equal(queryFromHash(shareHash(sql)), sql);
});
