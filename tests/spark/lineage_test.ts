/**
 * OpenLineage collection on real parts: a Spark job (PySpark in local mode,
 * the OpenLineage listener jar that `services up spark` fetched) reads a
 * Parquet file and writes another; the Deno collector stores its events in
 * the real PostgreSQL (its own test schema); the graph has the edges
 * input → job → output and the column edge `total ← amount`, and draws as SVG.
 * A body that is not a run event is refused with a line naming the field.
 */
import assert from "node:assert/strict";
import { projectRoot, stateDir } from "@mercury/core";
import { connectPostgres } from "@mercury/core/services/postgres";
import { openDuckDB } from "@mercury/core/services/duckdb";
import { lineageFromEvents, LineageStore, lineageSvg, serveLineage } from "@mercury/spark/lineage";

const SPARK = `${stateDir(projectRoot())}/spark`;

function listenerJar(): string {
  const jars = `${SPARK}/jars`;
  const jar = [...Deno.readDirSync(jars)].find((e) => e.name.startsWith("openlineage-spark_"));
  assert.ok(jar, `no OpenLineage listener jar in ${jars}: run deno task services up spark`);
  return `${jars}/${jar.name}`;
}

Deno.test("spark lineage: a Parquet → Parquet job's OpenLineage events are stored and drawn", async (t) => {
  await using pg = await connectPostgres();
  const schema = `spark_lineage_test_${Deno.pid}`;
  const store = new LineageStore(pg.sql, { schema });
  await store.init();
  const errors: string[] = [];
  const server = serveLineage(store, { port: 0, onError: (m) => errors.push(m) });
  const dir = await Deno.makeTempDir({ prefix: "mercury-lineage-" });
  try {
    const src = `${dir}/payments.parquet`, dst = `${dir}/totals.parquet`;
    {
      await using duck = await openDuckDB();
      await duck.connection.run(
        `COPY (SELECT range % 10 AS user_id, range * 1.5 AS amount FROM range(100)) TO '${src}' (FORMAT parquet)`,
      );
    }
    const url = `http://127.0.0.1:${server.addr.port}`;

    await t.step("a body that is not a run event is refused with 400, naming the field", async () => {
      const r = await fetch(`${url}/api/v1/lineage`, { method: "POST", body: JSON.stringify({ eventType: "START" }) });
      assert.equal(r.status, 400);
      assert.match((await r.json()).error, /eventTime is missing/);
    });

    await t.step("the job's START and COMPLETE events name both datasets", async () => {
      const out = await new Deno.Command(`${SPARK}/venv/bin/python`, {
        args: [`${import.meta.dirname}/testdata/lineage_job.py`, listenerJar(), url, src, dst],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr).slice(-2000));
      // The listener posts asynchronously; the last event may trail the job by a moment.
      const deadline = Date.now() + 15_000;
      let events = await store.events();
      const writes = () =>
        events.filter((e) =>
          (e.inputs ?? []).some((d) => d.name === src) && (e.outputs ?? []).some((d) => d.name === dst)
        );
      while (!writes().some((e) => e.eventType === "COMPLETE") && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 300));
        events = await store.events();
      }
      const types = new Set(writes().map((e) => e.eventType));
      assert.ok(types.has("START") && types.has("COMPLETE"), `event types ${[...types]}`);
      assert.deepEqual(errors, ["400 POST /api/v1/lineage: not an OpenLineage run event: eventTime is missing"]);
    });

    await t.step("the graph has input → job → output, the column edge, and draws", async () => {
      const g = lineageFromEvents(await store.events());
      const job = g.edges.find((e) => e.from === `dataset:file:${src}`)?.to;
      assert.ok(job?.startsWith("job:mercury:"), JSON.stringify(g.edges));
      assert.ok(g.edges.some((e) => e.from === job && e.to === `dataset:file:${dst}`), JSON.stringify(g.edges));
      assert.ok(
        g.columns.some((c) =>
          c.from === `dataset:file:${src}` && c.fromField === "amount" && c.to === `dataset:file:${dst}` &&
          c.toField === "total"
        ),
        JSON.stringify(g.columns),
      );
      assert.deepEqual(g.nodes.find((n) => n.id === `dataset:file:${dst}`)?.columns, ["user_id", "total"]);
      const svg = lineageSvg(g);
      assert.match(svg, /payments\.parquet/);
      assert.match(svg, /totals\.parquet/);
      const res = await fetch(`${url}/graph.svg`);
      assert.equal(res.headers.get("content-type"), "image/svg+xml");
      assert.match(await res.text(), /totals\.parquet/);
    });
  } finally {
    await server.shutdown();
    await pg.sql.unsafe(`drop schema if exists ${schema} cascade`);
    await Deno.remove(dir, { recursive: true });
  }
});
