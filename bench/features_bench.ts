/**
 * `deno task bench:features`: the feature store against Feast (`pip install feast`,
 * redis online store, file offline store) on the same data and the same Redis.
 *
 * 1. Online: the Mercury server (HTTP + gRPC, its own process) and Feast's Python
 *    feature server (`feast serve`, its own process) answer 1 entity × 50 features at
 *    a fixed rate (default 1,000 req/s) and 100-entity batches (default 100 req/s);
 *    latency from send to response; then the maximum throughput with 16 requests in
 *    flight. Responses of both are checked equal first.
 * 2. Training set: getHistoricalFeatures for E entity rows against 3 feature views
 *    of R rows each, Mercury (DuckDB ASOF) vs Feast `get_historical_features`; the
 *    rows of both are compared value by value.
 * 2b. Training-set front door (`--only train`): writeTrainingSet → Parquet against a
 *    plain DuckDB ASOF join → Parquet on the same data, wall and CPU time, rows compared.
 * 3. Materialisation: M rows (10 features) into Redis, Mercury vs Feast, each in its
 *    own process with its peak RSS.
 *
 * Everything shares this machine's 2 cores (and the other agents' load).
 * Writes bench/results/features.json.
 *
 * usage: deno task bench:features [--keys 10000] [--rate 1000] [--seconds 10] [--batch-rate 100]
 *          [--pit-entities 100000] [--pit-rows 1000000] [--mat-rows 2000000] [--runs 3]
 *          [--only online,pit,train,mat] [--targets mercury_http,mercury_grpc_lean,…] [--feast-workers 2]
 *
 * @module
 */
import process from "node:process";
import { resolveEndpoints } from "@mercury/core";
import { openDuckDB } from "@mercury/core/services/duckdb";
import {
  getHistoricalFeatures,
  historicalSql,
  OfflineStore,
  onlinePrefix,
  openFeatureStore,
  RedisOnlineStore,
  writeTrainingSet,
} from "@mercury/features";
import { featureServerClient, leanFeatureClient } from "@mercury/features/grpc";
import { ensureVenv } from "../tasks/python.ts";
import { benchRepo, MAT_FEATURES, PIT_FEATURES, WIDE_FEATURES } from "./features_repo.ts";

const arg = (name: string, d: number) => {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : d;
};
const KEYS = arg("keys", 10_000);
const RATE = arg("rate", 1000);
const SECONDS = arg("seconds", 10);
const BATCH_RATE = arg("batch-rate", 100);
const LOW_RATE = arg("low-rate", 100);
const PIT_ENTITIES = arg("pit-entities", 100_000);
const PIT_ROWS = arg("pit-rows", 1_000_000);
const MAT_ROWS = arg("mat-rows", 2_000_000);
const RUNS = arg("runs", 3);
const onlyArg = Deno.args.indexOf("--only");
/**
 * Sections to run: online, pit (Mercury vs Feast), train (the training-set front door vs a plain DuckDB ASOF join),
 * mat (default all); a partial run merges into the existing results file.
 */
const ONLY = new Set(onlyArg >= 0 ? Deno.args[onlyArg + 1]!.split(",") : ["online", "pit", "train", "mat"]);
const targetsArg = Deno.args.indexOf("--targets");
/**
 * Online targets to measure (default all: mercury_http, mercury_grpc, mercury_grpc_lean, mercury_grpc_js,
 * feast_http); the others keep their figures from the results file, each target stamped with its own date.
 */
const workersArg = Deno.args.indexOf("--feast-workers");
/** Worker processes of `feast serve` (default: one per core). */
const FEAST_WORKERS = workersArg >= 0 ? Number(Deno.args[workersArg + 1]) : navigator.hardwareConcurrency;
const TARGETS = targetsArg >= 0 ? new Set(Deno.args[targetsArg + 1]!.split(",")) : undefined;
const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const run = Date.now().toString(36);
const project = `bench_${run}`;
const dir = `${ROOT}/.mercury/bench/features/${run}`;
const redisUrl = new URL(resolveEndpoints().redis.url);
const log = (s: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
await Deno.mkdir(dir, { recursive: true });

// ---------------------------------------------------------------- data
const now = Math.floor(Date.now() / 1000);
log(`generating data under ${dir}`);
{
  const db = await openDuckDB({ config: { threads: "2" } });
  const c = db.connection;
  const ts = (expr: string) => `to_timestamp(${expr})::TIMESTAMP`;
  await c.run(`select setseed(0.42)`);
  await c.run(`copy (select range + 1 as entity_id, ${ts(`${now - 3600} - (range % 600)`)} as event_timestamp,
      ${ts(`${now - 3600} - (range % 600)`)} as created, ${
    WIDE_FEATURES.map((f, i) => `round(random() * ${i + 1}, 6) as ${f}`).join(", ")
  }
    from range(${KEYS})) to '${dir}/wide.parquet' (format parquet)`);
  const span = 30 * 86_400;
  const start = now - span - 86_400;
  const pitKeys = Math.max(1, Math.floor(PIT_ROWS / 10));
  for (const v of [1, 2, 3]) {
    // Distinct (entity, second) pairs, so no tie is left to chance between the two engines.
    await c.run(`copy (select entity_id, ${ts("t")} as event_timestamp, ${ts("t + c")} as created,
        ${PIT_FEATURES(v).map((f) => `round(random() * 100, 4) as ${f}`).join(", ")}
      from (select distinct on (entity_id, t) (random() * ${pitKeys - 1})::BIGINT + 1 as entity_id,
              ${start} + (random() * ${span})::BIGINT as t, (random() * 60)::BIGINT as c from range(${
      Math.round(PIT_ROWS * 1.02)
    }))
      limit ${PIT_ROWS}) to '${dir}/fv${v}.parquet' (format parquet)`);
  }
  await c.run(`copy (select entity_id, ${ts("t")} as event_timestamp from (
      select distinct on (entity_id, t) (random() * ${pitKeys - 1})::BIGINT + 1 as entity_id,
        ${start + 86_400} + (random() * ${span})::BIGINT as t from range(${Math.round(PIT_ENTITIES * 1.02)}))
      limit ${PIT_ENTITIES}) to '${dir}/entities.parquet' (format parquet)`);
  const matKeys = Math.max(1, Math.floor(MAT_ROWS / 10));
  await c.run(
    `copy (select (range % ${matKeys}) + 1 as entity_id, ${
      ts(`${now - 20 * 86_400} + range % ${19 * 86_400}`)
    } as event_timestamp,
      ${ts(`${now - 20 * 86_400} + range % ${19 * 86_400}`)} as created, ${
      MAT_FEATURES.map((f) => `round(random() * 1000, 3) as ${f}`).join(", ")
    }
    from range(${MAT_ROWS})) to '${dir}/mat.parquet' (format parquet)`,
  );
  db.close();
}

// ---------------------------------------------------------------- Feast set-up
log("Feast: venv, apply");
const python = await ensureVenv(
  `${ROOT}/.mercury/peers/feast/venv`,
  `${ROOT}/bench/peers/feast/requirements.txt`,
  "Feast",
);
const feastBin = python.replace(/python$/, "feast");
const feastRepo = `${dir}/feast_repo`;
const peer = `${ROOT}/bench/peers/feast/feast_peer.py`;
async function py(args: string[]): Promise<Record<string, number>> {
  const out = await new Deno.Command(python, { args: [peer, ...args], stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (out.code !== 0) {
    throw new Error(`feast_peer ${args[0]} failed: ${new TextDecoder().decode(out.stderr).slice(-2000)}`);
  }
  return JSON.parse(text.split("\n").pop()!);
}
// The train section (front door vs plain DuckDB) needs no Feast.
if (ONLY.has("online") || ONLY.has("pit") || ONLY.has("mat")) {
  await py([
    "setup",
    feastRepo,
    JSON.stringify({
      project: `feast_${run}`,
      redis: `${redisUrl.hostname}:${redisUrl.port}`,
      views: [
        { name: "wide", ttl: 7 * 86_400, features: WIDE_FEATURES, path: `${dir}/wide.parquet` },
        ...[1, 2, 3].map((v) => ({
          name: `fv${v}`,
          ttl: 3 * 86_400,
          features: PIT_FEATURES(v),
          path: `${dir}/fv${v}.parquet`,
        })),
        { name: "mat", ttl: 60 * 86_400, features: MAT_FEATURES, path: `${dir}/mat.parquet` },
      ],
    }),
  ]);
}

// ---------------------------------------------------------------- Mercury set-up
const repo = benchRepo(dir, project);
const fs = await openFeatureStore({ repo, offlineRoot: `${dir}/offline`, duckdbConfig: { threads: "2" } });
await fs.apply({ why: "benchmark" });
log("materialising the wide view (Mercury and Feast)");
if (ONLY.has("online")) await fs.materialize(["wide"], { end: new Date((now + 60) * 1000) });
const wideStart = new Date((now - 2 * 86_400) * 1000).toISOString().slice(0, 19);
const wideEnd = new Date((now + 60) * 1000).toISOString().slice(0, 19);
if (ONLY.has("online")) await py(["materialize", feastRepo, wideStart, wideEnd, "wide"]);

// ---------------------------------------------------------------- servers
const HTTP_PORT = 16566 + Math.floor(Math.random() * 1000);
const GRPC_PORT = HTTP_PORT + 1000;
const FEAST_PORT = HTTP_PORT + 2000;
// A second Mercury server whose gRPC runs on @grpc/grpc-js, to compare the two gRPC engines in one run.
const GRPC_JS_PORT = HTTP_PORT + 3000;
const children: Deno.ChildProcess[] = [];
const mercuryServer = new Deno.Command(ONLY.has("online") ? Deno.execPath() : "true", {
  args: [
    "run",
    "-A",
    "tasks/mercury.ts",
    "features",
    "serve",
    "--repo",
    "bench/features_repo.ts",
    "--port",
    String(HTTP_PORT),
    "--grpc-port",
    String(GRPC_PORT),
  ],
  cwd: ROOT,
  env: { MERCURY_FEATURES_BENCH_DIR: dir, MERCURY_FEATURES_BENCH_PROJECT: project },
  stdout: "null",
  stderr: "inherit",
}).spawn();
children.push(mercuryServer);
const mercuryGrpcJs = new Deno.Command(ONLY.has("online") ? Deno.execPath() : "true", {
  args: [
    "run",
    "-A",
    "tasks/mercury.ts",
    "features",
    "serve",
    "--repo",
    "bench/features_repo.ts",
    "--port",
    String(GRPC_JS_PORT + 1),
    "--grpc-port",
    String(GRPC_JS_PORT),
    "--grpc-engine",
    "grpc-js",
  ],
  cwd: ROOT,
  env: { MERCURY_FEATURES_BENCH_DIR: dir, MERCURY_FEATURES_BENCH_PROJECT: project },
  stdout: "null",
  stderr: "inherit",
}).spawn();
children.push(mercuryGrpcJs);
const feastServer = new Deno.Command(ONLY.has("online") ? feastBin : "true", {
  // Its fair configuration on this machine: one worker process per core (`--workers`, default 1).
  args: [
    "-c",
    feastRepo,
    "serve",
    "-h",
    "127.0.0.1",
    "-p",
    String(FEAST_PORT),
    "--no-access-log",
    "--workers",
    String(FEAST_WORKERS),
  ],
  stdout: "null",
  stderr: "null",
}).spawn();
children.push(feastServer);
const cleanup = async () => {
  for (const c of children) {
    try {
      c.kill("SIGTERM");
    } catch { /* gone */ }
  }
  await Promise.allSettled(children.map((c) => c.status));
};
async function waitHealth(url: string, what: string) {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      await r.body?.cancel();
      if (r.ok) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not become healthy at ${url}`);
}

interface LoadResult {
  requests: number;
  unanswered: number;
  errors: number;
  achievedRps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

type Send = (i: number, signal?: AbortSignal) => Promise<unknown>;

/** Seconds an open-loop phase may take to drain after its last send; what is still unanswered counts as unanswered. */
const DRAIN_SECONDS = 15;

/** Open loop: requests leave on a fixed schedule whatever the answers do; latency is send → response (ms). */
async function openLoop(send: Send, rate: number, seconds: number): Promise<LoadResult> {
  const lat: number[] = [];
  let errors = 0;
  const total = Math.round(rate * seconds);
  const t0 = performance.now();
  const inflight: Promise<void>[] = [];
  const abort = new AbortController();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const s = performance.now();
    inflight.push(
      send(i, abort.signal).then(
        () => void lat.push(performance.now() - s),
        () => void (abort.signal.aborted || errors++),
      ),
    );
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all(inflight),
    new Promise((r) => (timer = setTimeout(r, DRAIN_SECONDS * 1000))),
  ]);
  clearTimeout(timer);
  abort.abort();
  const elapsed = (performance.now() - t0) / 1000;
  // Unanswered requests count as slower than everything answered: percentiles over all requests sent.
  const unanswered = total - lat.length - errors;
  lat.sort((a, b) => a - b);
  for (let k = 0; k < unanswered; k++) lat.push(Infinity);
  return {
    requests: total,
    unanswered,
    errors,
    achievedRps: (total - unanswered) / elapsed,
    p50: pct(lat, 0.5),
    p90: pct(lat, 0.9),
    p99: pct(lat, 0.99),
    max: lat.at(-1) ?? NaN,
  };
}

/**
 * Waits until a server answers /health within 50 ms three times in a row (up to 120 s), so one phase's backlog
 * (requests the client gave up on but the server still works through) does not land on the next phase.
 */
async function settle(port: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  let quick = 0;
  while (quick < 3 && Date.now() < deadline) {
    const t = performance.now();
    try {
      const r = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(5000) });
      await r.body?.cancel();
      quick = performance.now() - t < 50 ? quick + 1 : 0;
    } catch {
      quick = 0;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Closed loop: `concurrency` requests in flight for `seconds`; requests per second completed. */
async function closedLoop(send: Send, concurrency: number, seconds: number): Promise<number> {
  let done = 0;
  let i = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      await send(i++).catch(() => {});
      done++;
    }
  }));
  return done / seconds;
}

/** A single client: one request at a time, the next sent when the last is answered, for `seconds`; its latencies. */
async function sequential(
  send: Send,
  seconds: number,
): Promise<{ requests: number; errors: number; p50: number; p99: number }> {
  const lat: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  for (let i = 0; performance.now() < end; i++) {
    const s = performance.now();
    try {
      await send(i);
      lat.push(performance.now() - s);
    } catch {
      errors++; // a failed request counts as slower than every answered one
    }
  }
  lat.sort((a, b) => a - b);
  for (let k = 0; k < errors; k++) lat.push(Infinity);
  return { requests: lat.length, errors, p50: pct(lat, 0.5), p99: pct(lat, 0.99) };
}

const wideRefs = WIDE_FEATURES.map((f) => `wide:${f}`);
const key = (i: number) => 1 + ((i * 7919) % KEYS);
const batchKeys = (i: number) => Array.from({ length: 100 }, (_, j) => key(i * 100 + j));
const httpSend = (port: number, batch: boolean): Send => (i, signal) =>
  fetch(`http://127.0.0.1:${port}/get-online-features`, {
    method: "POST",
    signal,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ features: wideRefs, entities: { entity_id: batch ? batchKeys(i) : [key(i)] } }),
  }).then(async (r) => {
    const body = await r.arrayBuffer();
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    return body;
  });
const grpcClient = featureServerClient(`127.0.0.1:${GRPC_PORT}`);
const grpcJsClient = featureServerClient(`127.0.0.1:${GRPC_JS_PORT}`);
const grpcSend = (batch: boolean, client = grpcClient): Send => (i) =>
  new Promise((resolve, reject) =>
    (client.GetOnlineFeatures as (r: unknown, cb: (e: Error | null, v: unknown) => void) => void).call(
      client,
      {
        features: wideRefs,
        entities: { entity_id: { val: (batch ? batchKeys(i) : [key(i)]).map((k) => ({ int64_val: k })) } },
      },
      (e, v) => (e ? reject(e) : resolve(v)),
    )
  );

// The same server (h2 engine) through Mercury's lean HTTP/2 client, which like `httpSend` takes the answer's bytes
// without decoding them: the server's cost, not grpc-js's client stack.
const leanClient = leanFeatureClient(`127.0.0.1:${GRPC_PORT}`);
const leanSend = (batch: boolean): Send => (i) =>
  leanClient.getOnlineFeaturesBytes({
    features: wideRefs,
    entities: { entity_id: { val: (batch ? batchKeys(i) : [key(i)]).map((k) => ({ int64_val: k })) } },
  });

const result: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine: `${navigator.hardwareConcurrency} cores (shared)`,
  loadAverageAtStart: Deno.loadavg(),
  scale: {
    keys: KEYS,
    rate: RATE,
    seconds: SECONDS,
    batchRate: BATCH_RATE,
    pitEntities: PIT_ENTITIES,
    pitRows: PIT_ROWS,
    matRows: MAT_ROWS,
    runs: RUNS,
    feastWorkers: FEAST_WORKERS,
  },
  feast: "0.67.0 (redis online store, file offline store, `feast serve`)",
};

try {
  if (ONLY.has("online")) {
    await waitHealth(`http://127.0.0.1:${HTTP_PORT}/health`, "Mercury server");
    await waitHealth(`http://127.0.0.1:${FEAST_PORT}/health`, "Feast server");
    await waitHealth(`http://127.0.0.1:${GRPC_JS_PORT + 1}/health`, "Mercury server (gRPC on grpc-js)");

    // Same answer from both servers.
    {
      const body = JSON.stringify({ features: wideRefs, entities: { entity_id: [1, 2, KEYS] } });
      const post = async (port: number) =>
        await (await fetch(`http://127.0.0.1:${port}/get-online-features`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        })).json();
      const m = await post(HTTP_PORT);
      const f = await post(FEAST_PORT);
      // Feast orders the columns its own way: compare by name.
      let diff = 0;
      const fNames: string[] = f.metadata.feature_names;
      for (let j = 1; j <= 50; j++) {
        const fj = fNames.indexOf(m.metadata.featureNames[j]);
        for (let e = 0; e < 3; e++) {
          const a = m.results[j].values[e], b = f.results[fj]?.values[e];
          if (a === null || b === null || b === undefined || Math.abs(a - b) > 1e-9) diff++;
        }
      }
      result.onlineValuesChecked = { values: 150, differing: diff };
      if (diff) {
        throw new Error(
          `Mercury and Feast disagree on ${diff} of 150 online values: ${
            JSON.stringify([m.metadata, m.results[1], m.results[2]])
          } vs ${JSON.stringify([f.metadata, f.results[1], f.results[2]])}`,
        );
      }
      log("online: both servers return the same 150 values");
    }

    const targets: [string, (batch: boolean) => Send][] = [
      ["mercury_http", (b) => httpSend(HTTP_PORT, b)],
      ["mercury_grpc", (b) => grpcSend(b)],
      ["mercury_grpc_lean", (b) => leanSend(b)],
      ["mercury_grpc_js", (b) => grpcSend(b, grpcJsClient)],
      ["feast_http", (b) => httpSend(FEAST_PORT, b)],
    ];
    const resultsPath = new URL("./results/features.json", import.meta.url);
    const online: Record<string, Record<string, unknown>> = TARGETS
      ? (JSON.parse(await Deno.readTextFile(resultsPath).catch(() => "{}")).online ?? {})
      : {};
    for (const [name, send] of targets.filter(([n]) => !TARGETS || TARGETS.has(n))) {
      await openLoop(send(false), 200, 1); // warm-up
      const single: LoadResult[] = [];
      const batch: LoadResult[] = [];
      const tput: number[] = [];
      const low: LoadResult[] = [];
      const seq: { requests: number; errors: number; p50: number; p99: number }[] = [];
      for (let r = 0; r < RUNS; r++) {
        const port = name === "feast_http" ? FEAST_PORT : HTTP_PORT;
        await settle(port);
        low.push(await openLoop(send(false), LOW_RATE, SECONDS));
        await settle(port);
        single.push(await openLoop(send(false), RATE, SECONDS));
        await settle(port);
        batch.push(await openLoop(send(true), BATCH_RATE, SECONDS));
        await settle(port);
        tput.push(await closedLoop(send(false), 16, 5));
        await settle(port);
        seq.push(await sequential(send(false), 5));
        log(
          `${name} run ${r + 1}: 1×50 at ${LOW_RATE}/s p99 ${low.at(-1)!.p99.toFixed(2)} ms; 1×50 p50 ${
            single.at(-1)!.p50.toFixed(2)
          } p99 ${single.at(-1)!.p99.toFixed(2)} ms (${single.at(-1)!.achievedRps.toFixed(0)} req/s, ${
            single.at(-1)!.errors
          } errors); 100×50 p99 ${batch.at(-1)!.p99.toFixed(2)} ms; max ${tput.at(-1)!.toFixed(0)} req/s; one client, ${
            seq.at(-1)!.requests
          } sequential requests (${seq.at(-1)!.errors} failed): p50 ${seq.at(-1)!.p50.toFixed(2)} p99 ${
            seq.at(-1)!.p99.toFixed(2)
          } ms`,
        );
      }
      const med = (rs: LoadResult[], k: keyof LoadResult) => median(rs.map((x) => x[k] as number));
      online[name] = {
        date: new Date().toISOString(),
        single: {
          p50: med(single, "p50"),
          p90: med(single, "p90"),
          p99: med(single, "p99"),
          achievedRps: med(single, "achievedRps"),
          errors: single.reduce((s, x) => s + x.errors, 0),
        },
        batch100: {
          p50: med(batch, "p50"),
          p99: med(batch, "p99"),
          achievedRps: med(batch, "achievedRps"),
          errors: batch.reduce((s, x) => s + x.errors, 0),
        },
        singleLowRate: {
          rate: LOW_RATE,
          p50: med(low, "p50"),
          p99: med(low, "p99"),
          unanswered: low.reduce((s, x) => s + x.unanswered, 0),
        },
        unanswered: single.reduce((s, x) => s + x.unanswered, 0) + batch.reduce((s, x) => s + x.unanswered, 0),
        maxRps: median(tput),
        sequential: {
          p50: median(seq.map((x) => x.p50)),
          p99: median(seq.map((x) => x.p99)),
          errors: seq.reduce((a, x) => a + x.errors, 0),
        },
        runs: { low, single, batch, tput, seq },
      };
    }
    const o = (n: string) =>
      online[n] as {
        single: { p99: number };
        singleLowRate: { p99: number };
        batch100: { p99: number };
        maxRps: number;
      };
    result.online = online;
    // A ratio is recorded when both of its targets ran (`--targets` may leave some out).
    const ratio = (a: string, b: string, f: (x: ReturnType<typeof o>, y: ReturnType<typeof o>) => number) =>
      online[a] && online[b] ? f(o(a), o(b)) : undefined;
    const rps = (x: ReturnType<typeof o>, y: ReturnType<typeof o>) => x.maxRps / y.maxRps;
    result.onlineRatios = {
      throughputHttpVsFeast: ratio("mercury_http", "feast_http", rps),
      throughputGrpcVsFeast: ratio("mercury_grpc", "feast_http", rps),
      throughputGrpcVsHttp: ratio("mercury_grpc", "mercury_http", rps),
      throughputGrpcLeanVsHttp: ratio("mercury_grpc_lean", "mercury_http", rps),
      throughputGrpcH2VsGrpcJs: ratio("mercury_grpc", "mercury_grpc_js", rps),
      p99SingleGrpcLeanOverHttp: ratio("mercury_grpc_lean", "mercury_http", (x, y) => x.single.p99 / y.single.p99),
      p99SingleFeastOverHttp: ratio("feast_http", "mercury_http", (x, y) => x.single.p99 / y.single.p99),
      p99BatchFeastOverHttp: ratio("feast_http", "mercury_http", (x, y) => x.batch100.p99 / y.batch100.p99),
      p99LowRateFeastOverHttp: ratio("feast_http", "mercury_http", (x, y) => x.singleLowRate.p99 / y.singleLowRate.p99),
    };
    grpcClient.close();
    grpcJsClient.close();
    leanClient.close();
    await cleanup();
    children.length = 0;
  }

  if (ONLY.has("pit")) {
    // ---------------------------------------------------------------- training set
    log(`training set: ${PIT_ENTITIES} entity rows × 3 views × ${PIT_ROWS} rows`);
    const refs = [1, 2, 3].flatMap((v) => PIT_FEATURES(v).map((f) => `fv${v}:${f}`));
    const mercuryTimes: number[] = [];
    const computeTimes: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const db = await openDuckDB({ config: { threads: "2" } });
      const store = new OfflineStore({ connection: db.connection, repo, env: "dev", root: `${dir}/pit_offline_${r}` });
      const t0 = performance.now();
      for (const v of ["fv1", "fv2", "fv3"]) await store.compute(v);
      const t1 = performance.now();
      const plan = await historicalSql(store, { relation: `read_parquet('${dir}/entities.parquet')` }, refs);
      await db.connection.run(`copy (${plan.sql}) to '${dir}/mercury_pit.parquet' (format parquet)`);
      const t2 = performance.now();
      db.close();
      computeTimes.push((t1 - t0) / 1000);
      mercuryTimes.push((t2 - t0) / 1000);
      log(
        `mercury PIT run ${r + 1}: ${((t2 - t0) / 1000).toFixed(2)} s (of which computing the views' Parquet ${
          ((t1 - t0) / 1000).toFixed(2)
        } s)`,
      );
    }
    const feastTimes: number[] = [];
    for (let r = 0; r < Math.min(RUNS, 2); r++) {
      const f = await py([
        "historical",
        feastRepo,
        `${dir}/entities.parquet`,
        `${dir}/feast_pit.parquet`,
        JSON.stringify(refs),
      ]);
      feastTimes.push(f.seconds!);
      log(`feast PIT run ${r + 1}: ${f.seconds!.toFixed(2)} s (${f.rows} rows)`);
    }
    // Identical rows: join both results on (entity, time) and compare every feature.
    const check = await (async () => {
      const db = await openDuckDB();
      const cols = refs.map((r) => r.split(":")[1]!);
      const differs = (c: string) =>
        `((m.${c} is null) <> (f.${c} is null) or (m.${c} is not null and abs(m.${c} - f.${c}) > 1e-9))`;
      const anyNull = cols.map((c) => `m.${c} is null`).join(" or ");
      const r = await db.connection.runAndReadAll(`
      with m as (select * from read_parquet('${dir}/mercury_pit.parquet')),
           f as (select * from read_parquet('${dir}/feast_pit.parquet'))
      select (select count(*) from m) as mercury_rows, (select count(*) from f) as feast_rows,
        (select count(*) from m join f using (entity_id, event_timestamp)) as matched,
        (select count(*) from m join f using (entity_id, event_timestamp) where ${
        cols.map(differs).join(" or ")
      }) as differing,
        (select count(*) from m join f using (entity_id, event_timestamp) where ${anyNull}) as matched_with_nulls,
        (select count(*) from m anti join f using (entity_id, event_timestamp)) as only_mercury,
        (select count(*) from m anti join f using (entity_id, event_timestamp) where ${anyNull}) as only_mercury_with_nulls`);
      const row = r.getRowObjectsJS()[0]!;
      db.close();
      return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]));
    })();
    log(`PIT check: ${JSON.stringify(check)}`);
    // Every row Feast returns must be in Mercury's result with identical values (nulls included). Feast's file
    // offline store returns fewer rows: it drops an entity row whose latest earlier feature row is older than the ttl
    // (it filters instead of nulling), while Mercury keeps every entity row, nulls and all, as Feast documents. So
    // Mercury's extra rows must each have a null feature.
    if (
      check.differing !== 0 || check.matched !== check.feast_rows || check.mercury_rows !== PIT_ENTITIES ||
      check.only_mercury !== check.only_mercury_with_nulls
    ) {
      throw new Error(`training sets differ: ${JSON.stringify(check)}`);
    }
    result.trainingSet = {
      mercurySeconds: median(mercuryTimes),
      mercuryComputeSeconds: median(computeTimes),
      mercuryJoinSeconds: median(mercuryTimes) - median(computeTimes),
      feastSeconds: median(feastTimes),
      speedup: median(feastTimes) / median(mercuryTimes),
      check,
      runs: { mercury: mercuryTimes, feast: feastTimes },
    };
  }

  if (ONLY.has("train")) {
    // ---------------------------------------------------------------- training-set front door vs plain ASOF
    // The front door (writeTrainingSet: the PIT join written by DuckDB straight to Parquet, what `features
    // training-set` and POST /training-set run) against a plain DuckDB three-ASOF-LEFT-JOIN query written the same
    // way, over the same computed view Parquet, interleaved in one process with 2 DuckDB threads; then the front door
    // with keepOrder (the entity file's order) and the JS-rows path (getHistoricalFeatures). Wall and process CPU
    // time (DuckDB's threads run in this process; CPU time is what the other engineers' load disturbs least), the
    // load average with each run. Rows of the two Parquet files are compared value by value.
    const refs = [1, 2, 3].flatMap((v) => PIT_FEATURES(v).map((f) => `fv${v}:${f}`));
    log(`training set front door: ${PIT_ENTITIES} entity rows × 3 views × ${PIT_ROWS} rows`);
    const frontDoor = await (async () => {
      const db = await openDuckDB({ config: { threads: "2" } });
      const store = new OfflineStore({ connection: db.connection, repo, env: "dev", root: `${dir}/train_offline` });
      const ent = `read_parquet('${dir}/entities.parquet')`;
      const rels = await Promise.all([1, 2, 3].map((v) => store.relation(`fv${v}`)));
      const ttl = 3 * 86_400;
      const plainSql = `select e.entity_id, e.event_timestamp, ${
        [1, 2, 3].flatMap((v) =>
          PIT_FEATURES(v).map((f) =>
            `case when a${v}.event_timestamp >= e.event_timestamp - interval ${ttl} seconds then a${v}.${f} end as ${f}`
          )
        ).join(", ")
      } from ${ent} e ${
        [1, 2, 3].map((v) =>
          `asof left join (select entity_id, event_timestamp, ${PIT_FEATURES(v).join(", ")} from ${rels[v - 1]}) a${v}
           on e.entity_id = a${v}.entity_id and e.event_timestamp >= a${v}.event_timestamp`
        ).join(" ")
      }`;
      type Sample = { wall: number; cpu: number; load: number };
      const runs: Record<string, Sample[]> = { plain: [], front: [], frontKeepOrder: [], jsRows: [] };
      const plan: number[] = [];
      const measure = async (name: string, f: () => Promise<unknown>) => {
        const t0 = performance.now(), u0 = process.cpuUsage();
        await f();
        const u = process.cpuUsage(u0);
        runs[name]!.push({
          wall: (performance.now() - t0) / 1000,
          cpu: (u.user + u.system) / 1e6,
          load: Deno.loadavg()[0]!,
        });
      };
      for (let r = 0; r < RUNS; r++) {
        await measure(
          "plain",
          () => db.connection.run(`copy (${plainSql}) to '${dir}/plain_asof.parquet' (format parquet)`),
        );
        await measure("front", () => writeTrainingSet(store, { relation: ent }, refs, `${dir}/front_door.parquet`));
        await measure(
          "frontKeepOrder",
          () => writeTrainingSet(store, { relation: ent }, refs, `${dir}/front_ordered.parquet`, { keepOrder: true }),
        );
        await measure("jsRows", () => getHistoricalFeatures(store, { relation: ent }, refs));
        // Where the front door's time goes: building the plan (the entity relation described, its time range read,
        // the views' relations) apart from DuckDB's COPY.
        const t0 = performance.now();
        await historicalSql(store, { relation: ent }, refs, { keepOrder: false });
        plan.push((performance.now() - t0) / 1000);
        const last = (k: string) => runs[k]!.at(-1)!;
        log(
          `run ${r + 1}: plain ${last("plain").wall.toFixed(2)} s (cpu ${last("plain").cpu.toFixed(2)}), front door ${
            last("front").wall.toFixed(2)
          } s (cpu ${last("front").cpu.toFixed(2)}), keepOrder ${last("frontKeepOrder").wall.toFixed(2)} s (cpu ${
            last("frontKeepOrder").cpu.toFixed(2)
          }), JS rows ${last("jsRows").wall.toFixed(2)} s (cpu ${last("jsRows").cpu.toFixed(2)}), plan ${
            plan.at(-1)!.toFixed(3)
          } s; load ${Deno.loadavg().map((x) => x.toFixed(1)).join(" ")}`,
        );
      }
      const cols = refs.map((x) => x.split(":")[1]!);
      const compare = async (file: string) => {
        const c = await db.connection.runAndReadAll(`
        with m as (select * from read_parquet('${dir}/${file}')),
             p as (select * from read_parquet('${dir}/plain_asof.parquet'))
        select (select count(*) from m) as front_rows, (select count(*) from p) as plain_rows,
          (select count(*) from m join p using (entity_id, event_timestamp)) as matched,
          (select count(*) from m join p using (entity_id, event_timestamp) where ${
          cols.map((x) => `m.${x} is distinct from p.${x}`).join(" or ")
        }) as differing,
          (select count(*) from m where ${
          cols.map((x) => `${x} is not null`).join(" or ")
        }) as front_rows_with_values`);
        const check = Object.fromEntries(Object.entries(c.getRowObjectsJS()[0]!).map(([k, v]) => [k, Number(v)]));
        if (check.differing !== 0 || check.matched !== check.plain_rows || check.front_rows !== check.plain_rows) {
          throw new Error(`front door (${file}) and plain ASOF differ: ${JSON.stringify(check)}`);
        }
        return check;
      };
      const check = await compare("front_door.parquet");
      await compare("front_ordered.parquet");
      db.close();
      log(`front door check: ${JSON.stringify(check)}`);
      const med = (k: string, f: "wall" | "cpu") => median(runs[k]!.map((x) => x[f]));
      const ratio = (k: string, f: "wall" | "cpu") => med(k, f) / med("plain", f);
      return {
        plainAsofSeconds: med("plain", "wall"),
        frontDoorSeconds: med("front", "wall"),
        frontDoorOverPlain: ratio("front", "wall"),
        frontDoorOverPlainCpu: ratio("front", "cpu"),
        keepOrderOverPlain: ratio("frontKeepOrder", "wall"),
        keepOrderOverPlainCpu: ratio("frontKeepOrder", "cpu"),
        jsRowsOverPlain: ratio("jsRows", "wall"),
        jsRowsOverPlainCpu: ratio("jsRows", "cpu"),
        planSeconds: median(plan),
        check,
        runs,
      };
    })();
    log(
      `training set / plain DuckDB ASOF (median of ${RUNS}): front door ${
        frontDoor.frontDoorOverPlain.toFixed(2)
      }× wall, ${frontDoor.frontDoorOverPlainCpu.toFixed(2)}× cpu; keepOrder ${
        frontDoor.keepOrderOverPlain.toFixed(2)
      }× wall, ${frontDoor.keepOrderOverPlainCpu.toFixed(2)}× cpu; JS rows ${
        frontDoor.jsRowsOverPlain.toFixed(2)
      }× wall, ${frontDoor.jsRowsOverPlainCpu.toFixed(2)}× cpu; load ${
        Deno.loadavg().map((x) => x.toFixed(1)).join(" ")
      }`,
    );
    result.trainingSetFrontDoor = frontDoor;
  }

  if (ONLY.has("mat")) {
    // ---------------------------------------------------------------- materialisation
    log(`materialisation: ${MAT_ROWS} rows`);
    const peakRss = async (
      cmd: Deno.Command,
    ): Promise<{ seconds: number; peakMb: number; code: number; stdout: string }> => {
      const t0 = performance.now();
      const child = cmd.spawn();
      let peak = 0;
      const poll = setInterval(async () => {
        try {
          const s = await Deno.readTextFile(`/proc/${child.pid}/status`);
          const m = /VmHWM:\s+(\d+) kB/.exec(s);
          if (m) peak = Math.max(peak, Number(m[1]) / 1024);
        } catch { /* exited */ }
      }, 50);
      const out = await child.output();
      clearInterval(poll);
      return {
        seconds: (performance.now() - t0) / 1000,
        peakMb: peak,
        code: out.code,
        stdout: new TextDecoder().decode(out.stdout),
      };
    };
    const matEnd = new Date((now + 60) * 1000).toISOString();
    const mercuryMat: { seconds: number; peakMb: number; rowsPerSec: number }[] = [];
    const matStore = new RedisOnlineStore(fs.redis.client, onlinePrefix(project, "dev"));
    for (let r = 0; r < RUNS; r++) {
      await fs.redis.client.eval(
        "local k = redis.call('KEYS', ARGV[1]) for i = 1, #k do redis.call('DEL', k[i]) end return #k",
        0,
        `${onlinePrefix(project, "dev")}mat:*`,
      );
      await fs.pg.sql.unsafe(`delete from ${fs.registry.schema}.materializations where project = $1 and view = 'mat'`, [
        project,
      ]);
      const m = await peakRss(
        new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            "tasks/mercury.ts",
            "features",
            "materialize",
            "mat",
            "--repo",
            "bench/features_repo.ts",
            "--end",
            matEnd,
            "--offline-root",
            `${dir}/offline`,
          ],
          cwd: ROOT,
          env: { MERCURY_FEATURES_BENCH_DIR: dir, MERCURY_FEATURES_BENCH_PROJECT: project },
          stdout: "piped",
          stderr: "inherit",
        }),
      );
      if (m.code !== 0) throw new Error(`mercury materialize failed: ${m.stdout}`);
      const secs = Number(/in ([\d.]+)s/.exec(m.stdout)?.[1] ?? m.seconds);
      mercuryMat.push({ seconds: secs, peakMb: m.peakMb, rowsPerSec: MAT_ROWS / secs });
      log(
        `mercury materialize run ${r + 1}: ${m.stdout.trim()} (process ${m.seconds.toFixed(1)} s, peak RSS ${
          m.peakMb.toFixed(0)
        } MB)`,
      );
    }
    const sample = await matStore.read("mat", ["1"], ["m0"]);
    const feastMat: { seconds: number; peakMb: number; rowsPerSec: number }[] = [];
    for (let r = 0; r < Math.min(RUNS, 2); r++) {
      const startIso = new Date((now - 25 * 86_400) * 1000).toISOString().slice(0, 19);
      const m = await peakRss(
        new Deno.Command(python, {
          args: [peer, "materialize", feastRepo, startIso, matEnd.slice(0, 19), "mat"],
          stdout: "piped",
          stderr: "null",
        }),
      );
      if (m.code !== 0) throw new Error(`feast materialize failed`);
      const secs = JSON.parse(m.stdout.trim().split("\n").pop()!).seconds as number;
      feastMat.push({ seconds: secs, peakMb: m.peakMb, rowsPerSec: MAT_ROWS / secs });
      log(`feast materialize run ${r + 1}: ${secs.toFixed(1)} s, peak RSS ${m.peakMb.toFixed(0)} MB`);
    }
    const mm = (xs: { seconds: number; peakMb: number; rowsPerSec: number }[]) => ({
      seconds: median(xs.map((x) => x.seconds)),
      rowsPerSec: median(xs.map((x) => x.rowsPerSec)),
      peakRssMb: median(xs.map((x) => x.peakMb)),
    });
    result.materialization = {
      rows: MAT_ROWS,
      keys: Math.floor(MAT_ROWS / 10),
      mercury: mm(mercuryMat),
      feast: mm(feastMat),
      speedup: mm(mercuryMat).rowsPerSec / mm(feastMat).rowsPerSec,
      sampleKeyPresent: sample[0]!.eventMs !== null,
      runs: { mercury: mercuryMat, feast: feastMat },
    };
  }
} finally {
  grpcClient.close();
  grpcJsClient.close();
  await cleanup();
  await fs.online.clear();
  for (const t of ["objects", "materializations", "feature_stats"]) {
    await fs.pg.sql.unsafe(`delete from ${fs.registry.schema}.${t} where project = $1`, [project]);
  }
  await fs.close();
  // Feast's Redis keys: its online store writes under the project name.
  const { connectRedis } = await import("@mercury/core/services/redis");
  const r = await connectRedis();
  // Feast's keys are binary (serialised entity key + project): scan and delete them as buffers.
  let cursor = "0";
  do {
    const [next, keys] = await r.client.scanBuffer(cursor, "COUNT", 5000);
    cursor = next.toString();
    const mine = keys.filter((k) => k.toString("latin1").includes(`feast_${run}`));
    if (mine.length) await r.client.del(...mine);
  } while (cursor !== "0");
  await r.close();
}

result.loadAverageAtEnd = Deno.loadavg();
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
const resultsFile = new URL("./results/features.json", import.meta.url);
const previous = ONLY.size < 3
  ? JSON.parse(await Deno.readTextFile(resultsFile).catch(() => "{}")) as Record<string, unknown>
  : {};
await Deno.writeTextFile(resultsFile, JSON.stringify({ ...previous, ...result }, null, 2) + "\n");
await Deno.remove(dir, { recursive: true }).catch(() => {});
console.log(
  JSON.stringify(
    { onlineRatios: result.onlineRatios, trainingSet: result.trainingSet, materialization: result.materialization },
    (k, v) => (k === "runs" ? undefined : v),
    2,
  ),
);
