/**
 * `deno task bench:observe`: the observe server's two performance goals, each
 * against a peer in the same run.
 *
 * 1. Prediction logging: records offered at a paced rate (default 60,000/s
 *    for 5 s) to the prediction log (PostgreSQL multi-row insert + Kafka), the
 *    stored rate and the end-to-end latency (offered → committed in
 *    PostgreSQL) percentiles. Peer: the same records stored one INSERT per
 *    prediction over the same pool (what a per-request logging middleware
 *    does), for 2 s at full speed.
 * 2. Endpoint overhead: HTTP `POST /predict/<model>` at 1,000 requests/s for
 *    5 s against the observe server, and against a bare `Deno.serve` that only
 *    parses the body and runs the same tfjs model (the peer), in 1 s phases
 *    alternating between the two; the overhead is the difference of the
 *    latency percentiles (all phases pooled). The same with the client in a
 *    separate process (`observe_bench_loader.ts`, off the servers' event
 *    loop), and for the handlers called in-process.
 *
 * Results go to `bench/results/observe.json`. Options: `--rate N`,
 * `--seconds S`, `--quick` (1 s phases).
 *
 * @module
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { resolveEndpoints } from "@mercury/core";
import { connectKafka } from "@mercury/core/services/kafka";
import { connectPostgres } from "@mercury/core/services/postgres";
import { sleep } from "@mercury/core/retry";
import { RecordProducer } from "@mercury/stream";
import {
  churnData,
  MlflowClient,
  ObserveServer,
  PredictionLog,
  type PredictionRecord,
  predictRows,
  setupSchema,
  trainModel,
} from "@mercury/observe";
import { logModel } from "../plugins/observe/model.ts";
import { ensureTopics, PREDICTIONS_TOPIC } from "../plugins/observe/topics.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rate: { type: "string", default: "60000" },
    seconds: { type: "string", default: "5" },
    quick: { type: "boolean" },
  },
});
const rate = Number(values.rate);
const seconds = values.quick ? 1 : Number(values.seconds);
const eps = resolveEndpoints();
console.log(`load average at start: ${Deno.loadavg().join(", ")} on ${navigator.hardwareConcurrency} cores`);

function pct(xs: Float64Array | number[], p: number): number {
  const s = Float64Array.from(xs).sort();
  return s.length ? s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]! : NaN;
}

await using pg = await connectPostgres({ url: eps.postgres.url, max: 8 });
await setupSchema(pg.sql);
await using k = await connectKafka({ brokers: eps.kafka.brokers });
await ensureTopics(k);
const features = [0.1, -0.3, 1.2, 0.5];
const runId = crypto.randomUUID().slice(0, 8);

// ---- 1. prediction logging -------------------------------------------------------------
const producer = await RecordProducer.open({ brokers: eps.kafka.brokers, topic: PREDICTIONS_TOPIC });
const e2e: number[] = [];
const log = new PredictionLog({
  sql: pg.sql,
  kafka: producer,
  batchRows: 5000,
  flushMs: 20,
  onStored: (_n, lat) => {
    for (const x of lat) e2e.push(x);
  },
});
const total = Math.round(rate * seconds);
let offered = 0;
// The client's own CPU (offering, building batches, postgres.js, the Kafka producer): load-independent, unlike rows/s.
const cpu0 = process.cpuUsage();
const t0 = performance.now();
// Paced in 5 ms ticks: each tick offers what the schedule owes.
while (offered < total) {
  const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
  const now = Date.now();
  for (; offered < due; offered++) {
    const rec: PredictionRecord = {
      id: `${runId}-${offered}`,
      model: "bench",
      version: "1",
      ts: now,
      features,
      output: 0.5,
      latencyMs: 0.2,
      segment: "",
    };
    log.log(rec);
  }
  await sleep(5);
}
const offerSecs = (performance.now() - t0) / 1000;
await log.drain();
const allSecs = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
await log.close();
await producer.close();
const logging = {
  offered: total,
  offeredPerSec: Math.round(total / offerSecs),
  stored: log.stored,
  sentToKafka: log.sent,
  storedPerSec: Math.round(log.stored / allSecs),
  e2eP50Ms: pct(e2e, 0.5),
  e2eP99Ms: pct(e2e, 0.99),
  e2eMaxMs: pct(e2e, 1),
  dropped: log.dropped,
  /** Client CPU (user + system) per stored row, µs; 1e6 / this is what one core of the client could sustain. */
  clientCpuUsPerRow: (cpu.user + cpu.system) / Math.max(1, log.stored),
  loadAverage: Deno.loadavg(),
};
console.log(
  `logging: ${logging.stored} stored (PostgreSQL) and ${logging.sentToKafka} sent (Kafka) in ${
    allSecs.toFixed(2)
  }s = ` +
    `${logging.storedPerSec}/s sustained (offered ${logging.offeredPerSec}/s); e2e p50 ${logging.e2eP50Ms} ms, p99 ${logging.e2eP99Ms} ms; ` +
    `client CPU ${logging.clientCpuUsPerRow.toFixed(2)} µs/row (one core: ${
      Math.round(1e6 / logging.clientCpuUsPerRow)
    }/s); load average ${logging.loadAverage.map((x) => x.toFixed(1)).join(", ")}`,
);

// Peer: one INSERT per prediction (pool of 8), full speed for 2 s (1 s quick).
const peerSecs = values.quick ? 1 : 2;
let peerDone = 0;
const peerLat: number[] = [];
const peerEnd = performance.now() + peerSecs * 1000;
await Promise.all(Array.from({ length: 8 }, async (_, w) => {
  while (performance.now() < peerEnd) {
    const ts = Date.now();
    await pg.sql`insert into observe.predictions (id, model, version, ts, features, output, latency_ms, segment)
      values (${`${runId}-peer-${w}-${peerDone}`}, 'bench-peer', '1', ${new Date(ts)}, ${
      pg.sql.json(features)
    }, 0.5, 0.2, '')`;
    peerLat.push(Date.now() - ts);
    peerDone++;
  }
}));
const peer = { stored: peerDone, storedPerSec: Math.round(peerDone / peerSecs), e2eP99Ms: pct(peerLat, 0.99) };
console.log(`peer (one INSERT per prediction): ${peer.storedPerSec}/s, p99 ${peer.e2eP99Ms} ms`);
console.log(`ratio: ${(logging.storedPerSec / peer.storedPerSec).toFixed(1)}× the per-row peer`);
await pg.sql`delete from observe.predictions where model in ('bench', 'bench-peer') and id like ${runId + "%"}`;

// ---- 2. endpoint overhead ----------------------------------------------------------------
const mlflow = new MlflowClient(eps.mlflow.url);
const d = churnData(400, { seed: 9 });
const net = await trainModel("classifier", d.x, d.y, { epochs: 5 });
const name = `bench-churn`;
const logged = await logModel(mlflow, { name, net, meta: { kind: "classifier", features: d.features } });
await mlflow.setAlias(name, "champion", logged.version.version);
const server = new ObserveServer({ sql: pg.sql, mlflow, models: [name], port: 0 });
await server.start();
const bareHandler = async (req: Request) => {
  const body = await req.json();
  const out = predictRows(net, body.rows);
  return Response.json({ predictions: Array.from(out) });
};
const bare = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, bareHandler);

type Lat = number[] & { failed?: number; rate?: number };

/** Paced requests (at most 128 in flight; a slow server makes the achieved rate lower, reported). */
async function load(
  url: string,
  reqPerSec: number,
  secs: number,
): Promise<number[] & { failed?: number; rate?: number }> {
  const lat: number[] & { failed?: number; rate?: number } = [];
  let failed = 0;
  const n = Math.round(reqPerSec * secs);
  const body = JSON.stringify({ rows: [d.x[0]] });
  const start = performance.now();
  const inflight = new Set<Promise<void>>();
  for (let i = 0; i < n; i++) {
    const at = start + (i * 1000) / reqPerSec;
    const wait = at - performance.now();
    if (wait > 1) await sleep(wait);
    while (inflight.size >= 128) await Promise.race(inflight);
    const p = (async () => {
      const t = performance.now();
      try {
        const r = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json" } });
        await r.arrayBuffer();
        if (r.ok) lat.push(performance.now() - t);
        else failed++;
      } catch {
        failed++;
      }
    })();
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  }
  await Promise.all(inflight);
  lat.failed = failed;
  lat.rate = Math.round(n / ((performance.now() - start) / 1000));
  return lat;
}

/** The same paced requests from a separate process (`observe_bench_loader.ts`): the client off the server's event loop. */
async function loadOut(url: string, reqPerSec: number, secs: number): Promise<Lat> {
  const body = JSON.stringify({ rows: [d.x[0]] });
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./observe_bench_loader.ts", import.meta.url).pathname,
      url,
      String(reqPerSec),
      String(secs),
      body,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`the load generator failed (exit ${out.code}) on ${url}`);
  const r = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!) as {
    lat: number[];
    failed: number;
    rate: number;
  };
  const lat: Lat = r.lat;
  lat.failed = r.failed;
  lat.rate = r.rate;
  return lat;
}

/** The handlers called in-process (no sockets), paced: the time spent in each handler alone. */
async function inProcess(
  handle: (r: Request) => Promise<Response>,
  reqPerSec: number,
  secs: number,
): Promise<number[]> {
  const lat: number[] = [];
  const n = Math.round(reqPerSec * secs);
  const body = JSON.stringify({ rows: [d.x[0]] });
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const wait = start + (i * 1000) / reqPerSec - performance.now();
    if (wait > 1) await sleep(wait);
    const req = new Request(`http://x/predict/${name}`, { method: "POST", body });
    const t = performance.now();
    const r = await handle(req);
    await r.arrayBuffer();
    lat.push(performance.now() - t);
  }
  return lat;
}
const reqRate = 1000;
const httpSecs = values.quick ? 1 : 5;
await load(`http://127.0.0.1:${bare.addr.port}/`, reqRate, 0.5); // warm-up
await load(`http://127.0.0.1:${server.port}/predict/${name}`, reqRate, 0.5);
// Interleaved: 1-second phases alternating bare and observe (the load on the shared machine changes from one second
// to the next, so back-to-back 5 s phases compared two different machines); the latencies of all phases pooled.
const pool = (a: Lat, b: Lat): Lat => {
  const out: Lat = [...a, ...b];
  out.failed = (a.failed ?? 0) + (b.failed ?? 0);
  out.rate = a.rate === undefined ? b.rate : Math.round(((a.rate ?? 0) + (b.rate ?? 0)) / 2);
  return out;
};
let bareLat: Lat = [], obsLat: Lat = [], bareIn: number[] = [], obsIn: number[] = [];
let bareOut: Lat = [], obsOut: Lat = [];
for (let i = 0; i < httpSecs; i++) {
  bareLat = pool(bareLat, await load(`http://127.0.0.1:${bare.addr.port}/`, reqRate, 1));
  obsLat = pool(obsLat, await load(`http://127.0.0.1:${server.port}/predict/${name}`, reqRate, 1));
}
for (let i = 0; i < httpSecs; i++) {
  bareOut = pool(bareOut, await loadOut(`http://127.0.0.1:${bare.addr.port}/`, reqRate, 1));
  obsOut = pool(obsOut, await loadOut(`http://127.0.0.1:${server.port}/predict/${name}`, reqRate, 1));
}
for (let i = 0; i < httpSecs; i++) {
  bareIn = bareIn.concat(await inProcess(bareHandler, reqRate, 1));
  obsIn = obsIn.concat(await inProcess((r) => server.handle(r), reqRate, 1));
}
const endpoint = {
  requestsPerSec: reqRate,
  achievedBare: bareLat.rate,
  achievedObserve: obsLat.rate,
  failedBare: bareLat.failed,
  failedObserve: obsLat.failed,
  inProcessBareP99Ms: pct(bareIn, 0.99),
  inProcessObserveP99Ms: pct(obsIn, 0.99),
  inProcessOverheadP50Ms: pct(obsIn, 0.5) - pct(bareIn, 0.5),
  inProcessOverheadP99Ms: pct(obsIn, 0.99) - pct(bareIn, 0.99),
  seconds: httpSecs,
  bareP50Ms: pct(bareLat, 0.5),
  bareP99Ms: pct(bareLat, 0.99),
  observeP50Ms: pct(obsLat, 0.5),
  observeP99Ms: pct(obsLat, 0.99),
  overheadP50Ms: pct(obsLat, 0.5) - pct(bareLat, 0.5),
  overheadP99Ms: pct(obsLat, 0.99) - pct(bareLat, 0.99),
  /** The client in a separate process. */
  outOfProcess: {
    achievedBare: bareOut.rate,
    achievedObserve: obsOut.rate,
    failedBare: bareOut.failed,
    failedObserve: obsOut.failed,
    bareP50Ms: pct(bareOut, 0.5),
    bareP99Ms: pct(bareOut, 0.99),
    observeP50Ms: pct(obsOut, 0.5),
    observeP99Ms: pct(obsOut, 0.99),
    overheadP50Ms: pct(obsOut, 0.5) - pct(bareOut, 0.5),
    overheadP99Ms: pct(obsOut, 0.99) - pct(bareOut, 0.99),
  },
};
console.log(
  `endpoint at ${reqRate} req/s: bare p50 ${endpoint.bareP50Ms.toFixed(2)} p99 ${endpoint.bareP99Ms.toFixed(2)} ms; ` +
    `observe p50 ${endpoint.observeP50Ms.toFixed(2)} p99 ${endpoint.observeP99Ms.toFixed(2)} ms; ` +
    `overhead p99 ${
      endpoint.overheadP99Ms.toFixed(2)
    } ms (achieved ${endpoint.achievedBare} / ${endpoint.achievedObserve} req/s, ` +
    `failed ${endpoint.failedBare} / ${endpoint.failedObserve}); load average ${Deno.loadavg().join(", ")}`,
);
const o = endpoint.outOfProcess;
console.log(
  `endpoint at ${reqRate} req/s, client in its own process: bare p50 ${o.bareP50Ms.toFixed(2)} p99 ${
    o.bareP99Ms.toFixed(2)
  } ms; observe p50 ${o.observeP50Ms.toFixed(2)} p99 ${o.observeP99Ms.toFixed(2)} ms; overhead p50 ${
    o.overheadP50Ms.toFixed(2)
  } p99 ${
    o.overheadP99Ms.toFixed(2)
  } ms (achieved ${o.achievedBare} / ${o.achievedObserve} req/s, failed ${o.failedBare} / ${o.failedObserve}); load average ${
    Deno.loadavg().map((x) => x.toFixed(1)).join(", ")
  }`,
);
console.log(
  `handlers in-process at ${reqRate}/s: bare p99 ${endpoint.inProcessBareP99Ms.toFixed(3)} ms, observe p99 ` +
    `${endpoint.inProcessObserveP99Ms.toFixed(3)} ms; overhead p50 ${endpoint.inProcessOverheadP50Ms.toFixed(3)} ms, ` +
    `p99 ${endpoint.inProcessOverheadP99Ms.toFixed(3)} ms`,
);
await bare.shutdown();
await server.close();

const result = {
  loadAverage: Deno.loadavg(),
  cpus: navigator.hardwareConcurrency,
  when: new Date().toISOString(),
  command: `deno task bench:observe ${Deno.args.join(" ")}`.trim(),
  rate,
  seconds,
  logging,
  peer,
  endpoint,
};
await Deno.mkdir(new URL("./results", import.meta.url), { recursive: true });
await Deno.writeTextFile(new URL("./results/observe.json", import.meta.url), JSON.stringify(result, null, 2) + "\n");
