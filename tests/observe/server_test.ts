/**
 * The observe server end to end against the real services: models trained
 * with tfjs, logged and registered in MLflow, served from the registry; every
 * prediction stored in PostgreSQL and sent to Kafka; labels joined by HTTP and
 * by Kafka; bad input refused and counted; /metrics; DuckDB analysis; the
 * alert engine firing a retraining that registers and promotes a better
 * version.
 */
import assert from "node:assert/strict";
import { resolveEndpoints, withTimeout } from "@mercury/core";
import { connectKafka } from "@mercury/core/services/kafka";
import { connectPostgres } from "@mercury/core/services/postgres";
import { openDuckDB } from "@mercury/core/services/duckdb";
import { RecordProducer } from "@mercury/stream";
import {
  AlertEngine,
  basketData,
  churnData,
  LABELS_TOPIC,
  logModel,
  MlflowClient,
  ObserveServer,
  PREDICTIONS_TOPIC,
  predictionsToDuckDB,
  retrain,
  setupSchema,
  trainModel,
} from "@mercury/observe";
import { consumeLabels } from "../../plugins/observe/label_consumer.ts";
import { ensureTopics } from "../../plugins/observe/topics.ts";

const eps = resolveEndpoints();
const suffix = crypto.randomUUID().slice(0, 6);
const CLF = `test-churn-${suffix}`;
const REG = `test-basket-${suffix}`;

/** Longest wait for one request to the server: a stuck request fails the test naming its route, never hangs CI. */
const REQUEST_MS = 30_000;

/** One request to the server, bounded by {@linkcode REQUEST_MS}. */
async function call(port: number, method: string, path: string, body?: unknown): Promise<Response> {
  try {
    return await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: body === undefined ? undefined : { "content-type": "application/json" },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_MS),
    });
  } catch (err) {
    throw new Error(`${method} ${path} got no answer from the observe server within ${REQUEST_MS} ms`, { cause: err });
  }
}

// deno-lint-ignore no-explicit-any
async function post(port: number, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const r = await call(port, "POST", path, body);
  return { status: r.status, body: await r.json() };
}

Deno.test("observe server: registry → predictions → PostgreSQL/Kafka → labels → metrics → alerts → retraining", async (t) => {
  await using pg = await connectPostgres({ url: eps.postgres.url, max: 6 });
  await setupSchema(pg.sql);
  await using k = await connectKafka({ brokers: eps.kafka.brokers });
  await ensureTopics(k);
  const mlflow = new MlflowClient(eps.mlflow.url);
  assert.ok(await mlflow.healthy(), `MLflow answers at ${eps.mlflow.url}`);

  const train = churnData(600, { seed: 11 });
  const basket = basketData(400, { seed: 12 });
  await t.step("a classifier and a regressor are logged to MLflow with params, metrics and files", async () => {
    const clf = await trainModel("classifier", train.x, train.y, { epochs: 15 });
    const c = await logModel(mlflow, {
      name: CLF,
      net: clf,
      meta: { kind: "classifier", features: train.features },
      params: { epochs: 15 },
      metrics: { train_rows: 600 },
    });
    await mlflow.setAlias(CLF, "champion", c.version.version);
    const reg = await trainModel("regressor", basket.x, basket.y, { epochs: 30 });
    const r = await logModel(mlflow, { name: REG, net: reg, meta: { kind: "regressor", features: basket.features } });
    const run = await mlflow.getRun(c.run.runId);
    assert.equal(run.params.epochs, "15");
    assert.equal(run.params.kind, "classifier");
    assert.equal(run.metrics.train_rows, 600);
    assert.equal(run.status, "FINISHED");
    assert.equal(r.version.version, "1");
    assert.equal((await mlflow.versionByAlias(CLF, "champion"))?.version, "1");
  });

  const producer = await RecordProducer.open({ brokers: eps.kafka.brokers, topic: PREDICTIONS_TOPIC });
  const server = new ObserveServer({
    sql: pg.sql,
    mlflow,
    models: [CLF, REG],
    kafka: producer,
    port: 0,
    windowSize: 200,
    referenceSize: 200,
    refreshMs: 500,
  });
  await server.start();
  const port = server.port;
  // A topic of this run's own, so labels left by earlier runs do not count here.
  const labelsTopic = `${LABELS_TOPIC}.test-${suffix}`;
  await k.admin.createTopics({ topics: [{ topic: labelsTopic, numPartitions: 1 }], waitForLeaders: true });
  const stopLabels = await consumeLabels(k, server, { groupId: `observe-test-${suffix}`, topic: labelsTopic });
  try {
    const ids: string[] = [];
    await t.step("both models answer; every prediction is stored in PostgreSQL and sent to Kafka", async () => {
      const models = await (await call(port, "GET", "/models")).json();
      assert.deepEqual(models.map((m: { name: string }) => m.name).sort(), [CLF, REG].sort());
      const live = churnData(300, { seed: 21 });
      for (let i = 0; i < 300; i += 50) {
        const batchIds = live.x.slice(i, i + 50).map((_, j) => `${suffix}-c${i + j}`);
        const r = await post(port, `/predict/${CLF}`, {
          rows: live.x.slice(i, i + 50),
          ids: batchIds,
          segment: i < 150 ? "web" : "store",
        });
        assert.equal(r.status, 200);
        assert.equal(r.body.version, "1");
        assert.equal(r.body.predictions.length, 50);
        assert.ok(r.body.predictions.every((p: { output: number }) => p.output >= 0 && p.output <= 1));
        ids.push(...batchIds);
      }
      const obj = await post(port, `/predict/${REG}`, { features: { items: 1, visits: 0.5, coupon: 0 } });
      assert.equal(obj.status, 200);
      assert.ok(Math.abs(obj.body.predictions[0].output - (3 + 2 - 0.5)) < 1.5, JSON.stringify(obj.body));
      await withTimeout(server.log.drain(), 30_000, "storing the logged predictions (PredictionLog.drain)");
      const n = (await pg.sql<
        { n: number }[]
      >`select count(*)::int as n from observe.predictions where model = ${CLF}`)[0]!.n;
      assert.equal(n, 300);
      const [row] = await pg.sql`select features, version, segment from observe.predictions where id = ${ids[0]!}`;
      assert.deepEqual(Object.keys(row!.features).sort(), [...train.features].sort());
      assert.equal(row!.segment, "web");
      assert.ok(server.log.sent >= 301, `sent to Kafka: ${server.log.sent}`);
      const offsets = await k.admin.fetchTopicOffsets(PREDICTIONS_TOPIC);
      assert.ok(offsets.reduce((s, o) => s + Number(o.high), 0) >= 301);
    });

    await t.step("bad input gets a clear 4xx and is counted; the server keeps answering", async () => {
      const unknown = await post(port, "/predict/no-such-model", { rows: [[1, 2, 3, 4]] });
      assert.equal(unknown.status, 404);
      assert.match(unknown.body.error, /unknown model "no-such-model"/);
      const notJson = await post(port, `/predict/${CLF}`, "{rows: nope");
      assert.equal(notJson.status, 400);
      const width = await post(port, `/predict/${CLF}`, { rows: [[1, 2]] });
      assert.equal(width.status, 400);
      assert.match(width.body.error, /row 0 has 2 values, the model takes 4/);
      const nan = await post(port, `/predict/${CLF}`, { rows: [[1, 2, 3, 4], [1, null, 3, 4]] });
      assert.equal(nan.status, 422);
      assert.match(nan.body.error, /row 1 feature "spend" is not a finite number \(got null\)/);
      const text = await post(port, `/predict/${CLF}`, { rows: [[1, "NaN", 3, 4]] });
      assert.equal(text.status, 422);
      assert.equal(server.rejected, 5);
      const ok = await post(port, `/predict/${CLF}`, { rows: [[0, 0, 0, 0]] });
      assert.equal(ok.status, 200);
    });

    await t.step("labels join by HTTP and by Kafka; unknown ids are refused one by one", async () => {
      const labelled = churnData(300, { seed: 21 }).y;
      const http = await post(port, "/labels", {
        labels: [
          ...ids.slice(0, 150).map((id, i) => ({ id, label: labelled[i] })),
          { id: "never-predicted", label: 1 },
          { id: ids[0], label: "yes" },
        ],
      });
      assert.equal(http.status, 200);
      assert.equal(http.body.accepted, 150);
      assert.deepEqual(http.body.rejected.map((r: { reason: string }) => r.reason.split(":")[0]), [
        "malformed",
        "unknown_id",
      ]);
      const producer = k.kafka.producer();
      await producer.connect();
      await producer.send({
        topic: labelsTopic,
        messages: [
          ...ids.slice(150).map((id, i) => ({ key: id, value: JSON.stringify({ id, label: labelled[150 + i] }) })),
          { key: "x", value: "not json" },
        ],
      });
      await producer.disconnect();
      const deadline = Date.now() + 20_000;
      let n = 0;
      while (Date.now() < deadline) {
        n = (await pg.sql<
          { n: number }[]
        >`select count(*)::int as n from observe.labels l join observe.predictions p using (id)
          where p.model = ${CLF}`)[0]!.n;
        if (n >= 300) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(n, 300);
      const snap = Object.values(server.snapshots(CLF))[0]!;
      assert.equal(snap.labelled, 300);
      assert.ok(
        snap.current && snap.current.metric === "roc_auc" && snap.current.value > 0.7,
        JSON.stringify(snap.current),
      );
      assert.ok(snap.segments.store, "per-segment window");
    });

    await t.step(
      "/metrics exposes counts, latency histograms, errors and window metrics per model and version",
      async () => {
        const text = await (await call(port, "GET", "/metrics")).text();
        const esc = CLF.replaceAll("-", "\\-");
        assert.match(text, new RegExp(`^mercury_observe_predictions_total\\{model="${esc}",version="1"\\} 301$`, "m"));
        assert.match(
          text,
          new RegExp(`^mercury_observe_latency_seconds_count\\{model="${esc}",version="1"\\} 7$`, "m"),
        );
        assert.match(
          text,
          new RegExp(`^mercury_observe_errors_total\\{model="${esc}",version="1",reason="non_finite"\\} 2$`, "m"),
        );
        assert.match(text, /^mercury_observe_rejected_total\{reason="unknown_model"\} 1$/m);
        // CBPE: the latest predictions' performance estimated without labels, calibrated on the labelled reference.
        assert.match(
          text,
          new RegExp(
            `^mercury_observe_estimated_performance\\{model="${esc}",version="1",metric="accuracy"\\} 0\\.\\d+`,
            "m",
          ),
        );
        assert.match(
          text,
          new RegExp(
            `^mercury_observe_performance\\{model="${esc}",version="1",metric="roc_auc",window="current"\\} 0\\.\\d+`,
            "m",
          ),
        );
      },
    );

    await t.step("the log is analysable in DuckDB", async () => {
      await using duck = await openDuckDB();
      const n = await predictionsToDuckDB(pg.sql, duck.connection, { model: CLF });
      assert.equal(n, 301);
      const r = await duck.connection.runAndReadAll(
        `select segment, count(*)::int, count(label)::int, round(avg(((output >= 0.5)::int = label)::int), 3)
         from predictions where segment <> '' group by 1 order by 1`,
      );
      const rows = r.getRows();
      assert.deepEqual(rows.map((x) => [x[0], x[1], x[2]]), [["store", 150, 150], ["web", 150, 150]]);
      assert.ok(Number(rows[0]![3]) > 0.6);
    });

    await t.step({
      name: "a change rule fires after its for-duration, calls the webhook once, retrains and promotes",
      fn: async () => {
        // Concept drift: the relation flips, the served model gets worse on the new labelled rows.
        const drifted = churnData(600, { seed: 31, flip: 1 });
        for (let i = 0; i < 600; i += 100) {
          const batchIds = drifted.x.slice(i, i + 100).map((_, j) => `${suffix}-d${i + j}`);
          assert.equal(
            (await post(port, `/predict/${CLF}`, { rows: drifted.x.slice(i, i + 100), ids: batchIds })).status,
            200,
          );
          const labels = batchIds.map((id, j) => ({ id, label: drifted.y[i + j] }));
          assert.equal((await post(port, "/labels", { labels })).body.accepted, 100);
        }
        const hooks: unknown[] = [];
        const hook = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
          hooks.push(await req.json());
          return new Response("ok");
        });
        let now = 1_000_000;
        const retrained: string[] = [];
        const engine = new AlertEngine([{
          name: "ChurnAucDrop",
          kind: "change",
          model: CLF,
          value: 0.1,
          forMs: 10_000,
          cooldownMs: 60_000,
          webhooks: [`http://127.0.0.1:${hook.addr.port}/hook`],
          retrain: true,
        }], {
          now: () => now,
          onFiring: async (_rule, e) => {
            // Retraining reads stored predictions: wait until the drifted ones are in PostgreSQL.
            for (let i = 0; i < 300; i++) {
              const [c] = await pg.sql`select count(*)::int as n from observe.predictions where id like ${
                suffix + "-d%"
              }`;
              if (c!.n === 600) break;
              await new Promise((r) => setTimeout(r, 100));
            }
            const r = await retrain({
              sql: pg.sql,
              mlflow,
              model: e.model,
              reason: "ChurnAucDrop",
              maxRows: 600,
              train: { epochs: 25 },
            });
            retrained.push(`${r.candidate.version}:${r.promoted}`);
            assert.ok(r.candidate.score > r.current!.score, JSON.stringify(r));
            assert.deepEqual(r.steps.map((s) => s.step), ["start", "data", "evaluated", "registered", "promoted"]);
          },
        });
        try {
          const first = await engine.evaluate(server.alertInputs());
          assert.deepEqual(first.map((e) => e.state), ["pending"]);
          now += 5_000;
          assert.deepEqual(await engine.evaluate(server.alertInputs()), []);
          now += 6_000;
          // Bounded: the firing calls the webhook and retrains (PostgreSQL + MLflow, each step with its own deadline).
          const fired = await withTimeout(
            engine.evaluate(server.alertInputs()),
            180_000,
            "the alert engine's firing (webhook, retraining, promotion)",
          );
          assert.deepEqual(fired.map((e) => e.state), ["firing"]);
          assert.equal(hooks.length, 1);
          assert.equal((hooks[0] as { rule: string }).rule, "ChurnAucDrop");
          assert.deepEqual(retrained, ["2:true"]);
          now += 1_000;
          // No second firing (it may resolve instead, once the server serves version 2, which has no window yet).
          const after = await engine.evaluate(server.alertInputs());
          assert.ok(!after.some((e) => e.state === "firing" || e.state === "pending"), JSON.stringify(after));
          assert.equal(hooks.length, after.length ? 2 : 1);
        } finally {
          await hook.shutdown();
        }
        assert.equal((await mlflow.versionByAlias(CLF, "champion"))?.version, "2");
        assert.equal((await mlflow.getVersion(CLF, "2")).tags["mercury.decision"], "promoted");
        const steps = await pg.sql`select step from observe.retrain_steps where model = ${CLF} order by ts`;
        assert.deepEqual(steps.map((s) => s.step), ["start", "data", "evaluated", "registered", "promoted"]);
        // The server picks up the moved alias and answers with version 2.
        const deadline = Date.now() + 10_000;
        let version = "1";
        while (Date.now() < deadline && version !== "2") {
          version = (await post(port, `/predict/${CLF}`, { rows: [[0, 0, 0, 0]] })).body.version;
          if (version !== "2") await new Promise((r) => setTimeout(r, 200));
        }
        assert.equal(version, "2");
      },
    });

    await t.step("an A/B split is sticky by key and weighted; a shadow version scores without answering", async () => {
      // Versions 1 and 2 exist now (the retraining registered 2). A second server runs the experiments.
      const ab = new ObserveServer({
        sql: pg.sql,
        mlflow,
        models: [CLF],
        port: 0,
        experiments: { [CLF]: { split: [{ version: "1", weight: 1 }, { version: "2", weight: 1 }] } },
      });
      await ab.start();
      try {
        const row = [[0.2, 0.1, 0.3, 0.4]];
        const predict = async (body: unknown) => {
          const r = await ab.handle(
            new Request(`http://x/predict/${CLF}`, { method: "POST", body: JSON.stringify(body) }),
          );
          assert.equal(r.status, 200);
          return await r.json();
        };
        const first = await predict({ rows: row, key: "user-7" });
        for (let i = 0; i < 5; i++) assert.equal((await predict({ rows: row, key: "user-7" })).version, first.version);
        const seen: Record<string, number> = { "1": 0, "2": 0 };
        for (let i = 0; i < 200; i++) {
          const r = await predict({ rows: row, key: `user-${i}` });
          assert.equal(r.variant, r.version);
          seen[r.version]!++;
        }
        assert.ok(seen["1"]! > 70 && seen["2"]! > 70, JSON.stringify(seen));
      } finally {
        await ab.close();
      }
      const sh = new ObserveServer({
        sql: pg.sql,
        mlflow,
        models: [CLF],
        port: 0,
        experiments: { [CLF]: { shadow: "1" } },
      });
      await sh.start();
      try {
        const ids = [`${suffix}-s0`, `${suffix}-s1`];
        const r = await sh.handle(
          new Request(`http://x/predict/${CLF}`, {
            method: "POST",
            body: JSON.stringify({ rows: [[0, 0, 0, 0], [1, 2, 3, 4]], ids }),
          }),
        );
        const body = await r.json();
        assert.equal(body.version, "2");
        assert.equal(body.predictions.length, 2);
        await new Promise((res) => setTimeout(res, 50)); // the shadow scores after the answer
        await withTimeout(sh.log.drain(), 30_000, "storing the shadow predictions");
        const stored = await pg.sql<{ id: string; version: string }[]>`
          select id, version from observe.predictions where id like ${suffix + "-s%"} order by id`;
        assert.deepEqual(stored.map((x) => [x.id, x.version]), [
          [ids[0], "2"],
          [`${ids[0]}~shadow`, "1"],
          [ids[1], "2"],
          [`${ids[1]}~shadow`, "1"],
        ]);
        const text = sh.metrics.expose();
        const esc = CLF.replaceAll("-", "\\-");
        assert.match(
          text,
          new RegExp(`^mercury_observe_shadow_predictions_total\\{model="${esc}",version="1"\\} 2$`, "m"),
        );
      } finally {
        await sh.close();
      }
    });
  } finally {
    await stopLabels();
    await server.close();
    await producer.close();
    await k.admin.deleteTopics({ topics: [labelsTopic] }).catch(() => {});
  }
});
