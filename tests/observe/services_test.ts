/**
 * MLflow and Prometheus as the launcher runs them, and the observe server
 * living through their outages: a second MLflow and a second Prometheus of
 * this test's own (other ports, temporary state) are stopped and started
 * again while predictions keep flowing; the project's own servers are left
 * alone.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { DEFAULT_PORTS, projectRoot, resolveEndpoints } from "@mercury/core";
import { connectPostgres } from "@mercury/core/services/postgres";
import { sleep } from "@mercury/core/retry";
import { churnData, logModel, MlflowClient, ObserveServer, setupSchema, trainModel } from "@mercury/observe";
import { writeTargets } from "../../plugins/observe/prometheus_files.ts";
import { Launcher, plainUpServices } from "../../tasks/services/launcher.ts";
import { mlflowService } from "../../tasks/services/mlflow.ts";
import { prometheusDirs, prometheusService } from "../../tasks/services/prometheus.ts";
import { portFree } from "../../tasks/services/_process.ts";

const root = projectRoot();

function freePort(from: number): number {
  for (let p = from; p < from + 200; p++) if (portFree(p)) return p;
  throw new Error(`no free port from ${from}`);
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

Deno.test("services: mlflow and prometheus are up, recorded, and started by a plain `services up`", async () => {
  const l = new Launcher({ root });
  const rows = await l.status(["mlflow", "prometheus"]);
  for (const r of rows) assert.ok(r.health.ok, `${r.service}: ${r.health.detail}`);
  const eps = resolveEndpoints();
  assert.equal(eps.mlflow.url, `http://127.0.0.1:${DEFAULT_PORTS.mlflow}`);
  assert.equal(eps.prometheus.url, `http://127.0.0.1:${DEFAULT_PORTS.prometheus}`);
  const plain = await plainUpServices(root);
  assert.ok(plain.includes("mlflow") && plain.includes("prometheus"), plain.join(","));
  assert.deepEqual(plain.slice(0, 3), ["postgres", "redis", "kafka"]);
});

Deno.test("services: Prometheus scrapes a target listed in its file_sd directory", async () => {
  const eps = resolveEndpoints();
  const name = `observe-test-${crypto.randomUUID().slice(0, 6)}`;
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    () => new Response("# TYPE observe_test_up gauge\nobserve_test_up 1\n"),
  );
  const path = await writeTargets(root, name, [`127.0.0.1:${server.addr.port}`]);
  try {
    const up = await until("the scrape", async () => {
      const r =
        await (await fetch(`${eps.prometheus.url}/api/v1/query?query=${encodeURIComponent(`up{job="${name}"}`)}`))
          .json();
      const v = r.data?.result?.[0]?.value?.[1];
      return v === "1" ? v : undefined;
    }, 45_000);
    assert.equal(up, "1");
  } finally {
    await Deno.remove(path).catch(() => {});
    await server.shutdown();
  }
});

Deno.test("services: compose file and Grafana dashboard are valid and name the observe pieces", async () => {
  const compose = parse(await Deno.readTextFile(`${root}/services/compose.yml`));
  for (const s of ["mlflow", "prometheus", "grafana"]) assert.ok(compose.services[s], `compose has ${s}`);
  assert.deepEqual(compose.services.mlflow.ports, ["127.0.0.1:55000:5000"]);
  assert.ok(compose.services.mlflow.command.includes("--backend-store-uri=sqlite:////mlflow/mlflow.db"));
  const prom = parse(await Deno.readTextFile(`${root}/services/prometheus/prometheus.yml`));
  assert.ok(prom.scrape_configs.some((c: { job_name: string }) => c.job_name === "mercury-observe"));
  const rules = parse(await Deno.readTextFile(`${root}/services/prometheus/rules/observe.yml`));
  assert.equal(rules.groups[0].rules.length, 4);
  const dash = JSON.parse(await Deno.readTextFile(`${root}/services/grafana/dashboards/observe.json`));
  assert.equal(dash.uid, "mercury-observe");
  const exprs = dash.panels.flatMap((p: { targets: { expr: string }[] }) => p.targets.map((t) => t.expr));
  assert.ok(exprs.every((e: string) => e.includes("mercury_observe_")), exprs.join("\n"));
});

Deno.test({
  name: "observe server keeps ingesting while its MLflow and Prometheus are down, and catches up after",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const state = await Deno.makeTempDir({ prefix: "observe-outage-" });
    const mlPort = freePort(55100), promPort = freePort(59190);
    const ml = mlflowService(root, state, mlPort, `${root}/.mercury/mlflow/venv`);
    const prom = prometheusService(state, promPort);
    await ml.install();
    await prom.install();
    const mlPid = await ml.start();
    let promPid = await prom.start();
    await using pg = await connectPostgres({ url: resolveEndpoints().postgres.url });
    await setupSchema(pg.sql);
    let server: ObserveServer | undefined;
    try {
      await until("the test MLflow", async () => (await ml.health()).ok || undefined, 120_000);
      await until("the test Prometheus", async () => (await prom.health()).ok || undefined);
      const mlflow = new MlflowClient(ml.endpoint, { timeoutMs: 60_000 });
      const name = `outage-${crypto.randomUUID().slice(0, 6)}`;
      const d = churnData(300, { seed: 5 });
      const net = await trainModel("classifier", d.x, d.y, { epochs: 5 });
      const v1 = await logModel(mlflow, { name, net, meta: { kind: "classifier", features: d.features } });
      await mlflow.setAlias(name, "champion", v1.version.version);
      const served = new MlflowClient(ml.endpoint, { timeoutMs: 2000 });
      server = new ObserveServer({ sql: pg.sql, mlflow: served, models: [name], port: 0, refreshMs: 300 });
      await server.start();
      // Under heavy load the first registry read can outlast the 2 s client timeout: the server then retries every
      // 300 ms. The outage starts only once the model is served (it was a 404 at load average 44 otherwise).
      await until("the model served", () => Promise.resolve(server!.registry.get(name)), 60_000);
      const port = server.port;
      await Deno.writeTextFile(
        `${prometheusDirs(state).targets}/observe.json`,
        JSON.stringify([{ targets: [`127.0.0.1:${port}`], labels: { job: "observe" } }]),
      );
      const predict = async () => {
        const r = await fetch(`http://127.0.0.1:${port}/predict/${name}`, {
          method: "POST",
          body: JSON.stringify({ rows: d.x.slice(0, 10) }),
        });
        return { status: r.status, body: await r.json() };
      };

      await t.step("with both down, predictions are answered and stored", async () => {
        // MLflow is frozen (SIGSTOP to its process group: it accepts nothing, answers nothing, as a hung
        // server) rather than killed, so coming back costs no second ~30 s Python start-up; Prometheus is
        // stopped for real.
        Deno.kill(-mlPid, "SIGSTOP");
        await prom.stop(promPid);
        assert.equal((await ml.health(500)).ok, false);
        for (let i = 0; i < 20; i++) assert.equal((await predict()).status, 200);
        await sleep(700); // a refresh or two fail meanwhile
        await server!.log.drain();
        const n = (await pg.sql<
          { n: number }[]
        >`select count(*)::int as n from observe.predictions where model = ${name}`)[0]!.n;
        assert.equal(n, 200);
        assert.ok(server!.registry.refreshErrors >= 1, "MLflow's absence is counted");
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        assert.match(metrics, /^mercury_observe_registry_errors_total [1-9]\d*$/m);
      });

      await t.step("once they are back the server follows the registry again and Prometheus scrapes it", async () => {
        Deno.kill(-mlPid, "SIGCONT");
        promPid = await prom.start();
        await until("MLflow back", async () => (await ml.health()).ok || undefined, 120_000);
        const net2 = await trainModel("classifier", d.x, d.y, { epochs: 8 });
        const v2 = await logModel(mlflow, { name, net: net2, meta: { kind: "classifier", features: d.features } });
        await mlflow.setAlias(name, "champion", v2.version.version);
        const version = await until("version 2 served", async () => {
          const r = await predict();
          return r.body.version === "2" ? r.body.version : undefined;
        }, 20_000);
        assert.equal(version, "2");
        const scraped = await until("a scrape of the server", async () => {
          const r = await (await fetch(
            `http://127.0.0.1:${promPort}/api/v1/query?query=${
              encodeURIComponent("mercury_observe_predictions_total")
            }`,
          )).json();
          const total = r.data?.result?.reduce(
            (s: number, x: { value: [number, string] }) => s + Number(x.value[1]),
            0,
          );
          return total >= 210 ? total : undefined;
        }, 45_000);
        assert.ok(scraped >= 210, `Prometheus sees the counts kept while it was down: ${scraped}`);
      });
    } finally {
      await server?.close();
      try {
        Deno.kill(-mlPid, "SIGCONT");
      } catch { /* already gone */ }
      await ml.stop(mlPid).catch(() => {});
      await prom.stop(promPid).catch(() => {});
      await Deno.remove(state, { recursive: true }).catch(() => {});
    }
  },
});
