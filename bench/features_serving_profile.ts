/**
 * Where a feature-serving request's time goes (issue 22 item 2):
 * `deno run -A bench/features_serving_profile.ts [--keys 10000] [--rate 1000] [--seconds 10] [--runs 3]`.
 *
 * 1. In process, sequentially (no load): per 1 entity × 50 features request, the Redis read alone
 *    (`RedisOnlineStore.read`: one MGET and its decoding), the whole `getOnlineFeatures`, and `JSON.stringify` of
 *    the answer; the same for 100 entities. p50 / p99 of each.
 * 2. Open loop at `--rate` req/s against `features serve` (its own process, HTTP), as bench:features does, while the
 *    load client also measures a Redis `PING` every 10 ms and its own event-loop lag (a 5 ms timer's overshoot):
 *    client p50 / p99 against the server's own time per request (its `mercury_features_request_seconds`
 *    histogram from `/metrics`), Redis's round trip and the client's lag over the same seconds. The load average
 *    is printed with every figure (the machine is shared).
 *
 * No peer: this is a breakdown of Mercury's own path, not a comparison (bench:features holds the Feast comparison).
 * Writes bench/results/features_serving_profile.json.
 *
 * @module
 */
import { openDuckDB } from "@mercury/core/services/duckdb";
import { connectRedis } from "@mercury/core/services/redis";
import { openFeatureStore } from "@mercury/features";
import { benchRepo, WIDE_FEATURES } from "./features_repo.ts";

const arg = (name: string, d: number) => {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : d;
};
const KEYS = arg("keys", 10_000), RATE = arg("rate", 1000), SECONDS = arg("seconds", 10), RUNS = arg("runs", 3);
const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const run = Date.now().toString(36);
const project = `bench_prof_${run}`;
const dir = `${ROOT}/.mercury/bench/features_profile/${run}`;
const log = (s: string) =>
  console.error(
    `[${new Date().toISOString().slice(11, 19)}] ${s} (load ${Deno.loadavg().map((x) => x.toFixed(1)).join(" ")})`,
  );
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? NaN;
};
const median = (xs: number[]) => pct(xs, 0.5);
const ms = (x: number) => `${x.toFixed(3)} ms`;
await Deno.mkdir(dir, { recursive: true });

// ---------------------------------------------------------------- data, materialised
{
  const db = await openDuckDB({ config: { threads: "2" } });
  const now = Math.floor(Date.now() / 1000);
  const ts = `to_timestamp(${now - 3600} - (range % 600))::TIMESTAMP`;
  await db.connection.run(
    `copy (select range + 1 as entity_id, ${ts} as event_timestamp, ${ts} as created, ${
      WIDE_FEATURES.map((f, i) => `round(random() * ${i + 1}, 6) as ${f}`).join(", ")
    } from range(${KEYS})) to '${dir}/wide.parquet' (format parquet)`,
  );
  db.close();
}
const repo = benchRepo(dir, project);
const fs = await openFeatureStore({ repo, offlineRoot: `${dir}/offline`, duckdbConfig: { threads: "2" } });
await fs.apply({ why: "serving profile" });
await fs.materialize(["wide"], { end: new Date(Date.now() + 60_000) });
const refs = WIDE_FEATURES.map((f) => `wide:${f}`);
const key = (i: number) => 1 + ((i * 7919) % KEYS);
const result: Record<string, unknown> = { date: new Date().toISOString(), keys: KEYS, rate: RATE, seconds: SECONDS };

// ---------------------------------------------------------------- 1. in process, sequential
{
  const server = fs.server();
  for (const n of [1, 100]) {
    const read: number[] = [], whole: number[] = [], json: number[] = [];
    for (let i = 0; i < (n === 1 ? 3000 : 500); i++) {
      const ids = Array.from({ length: n }, (_, j) => key(i * n + j));
      let t = performance.now();
      await fs.online.read("wide", ids.map(String), WIDE_FEATURES);
      read.push(performance.now() - t);
      t = performance.now();
      const res = await server.getOnlineFeatures({ features: refs, entities: { entity_id: ids } }, "profile");
      whole.push(performance.now() - t);
      t = performance.now();
      JSON.stringify(res);
      json.push(performance.now() - t);
    }
    const row = {
      redisReadP50: median(read),
      redisReadP99: pct(read, 0.99),
      getOnlineFeaturesP50: median(whole),
      getOnlineFeaturesP99: pct(whole, 0.99),
      jsonP50: median(json),
      jsonP99: pct(json, 0.99),
      load: Deno.loadavg()[0],
    };
    result[`inProcess_${n}x50`] = row;
    log(
      `in process ${n}×50: Redis read p50 ${ms(row.redisReadP50)} p99 ${ms(row.redisReadP99)}; getOnlineFeatures p50 ${
        ms(row.getOnlineFeaturesP50)
      } p99 ${ms(row.getOnlineFeaturesP99)}; JSON.stringify p50 ${ms(row.jsonP50)} p99 ${ms(row.jsonP99)}`,
    );
  }
}

// ---------------------------------------------------------------- 2. open loop against `features serve`
const port = 17566 + Math.floor(Math.random() * 1000);
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    "tasks/mercury.ts",
    "features",
    "serve",
    "--repo",
    "bench/features_repo.ts",
    "--port",
    String(port),
    "--no-grpc",
    "--prune-every-minutes",
    "0",
  ],
  cwd: ROOT,
  env: { MERCURY_FEATURES_BENCH_DIR: dir, MERCURY_FEATURES_BENCH_PROJECT: project },
  stdout: "null",
  stderr: "null",
}).spawn();
try {
  for (let i = 0;; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/health`);
      await r.body?.cancel();
      if (r.ok) break;
    } catch { /* not yet */ }
    if (i > 600) throw new Error("the server did not start");
    await new Promise((r) => setTimeout(r, 200));
  }
  const redis = await connectRedis();
  /** The server's request-time histogram (http): cumulative counts per upper bound (seconds). */
  const serverHistogram = async () => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const out = new Map<number, number>();
    for (const m of text.matchAll(/mercury_features_request_seconds_bucket\{transport="http",le="([^"]+)"\} (\d+)/g)) {
      out.set(m[1] === "+Inf" ? Infinity : Number(m[1]), Number(m[2]));
    }
    return out;
  };
  const body = (i: number) => JSON.stringify({ features: refs, entities: { entity_id: [key(i)] } });
  // Warm-up.
  for (let i = 0; i < 500; i++) {
    await (await fetch(`http://127.0.0.1:${port}/get-online-features`, { method: "POST", body: body(i) }))
      .arrayBuffer();
  }
  const runs = [];
  for (let r = 0; r < RUNS; r++) {
    const before = await serverHistogram();
    const lat: number[] = [], pings: number[] = [], lag: number[] = [];
    let stop = false;
    const pinger = (async () => {
      while (!stop) {
        const t = performance.now();
        await redis.client.ping();
        pings.push(performance.now() - t);
        await new Promise((ok) => setTimeout(ok, 10));
      }
    })();
    const lagger = (async () => {
      while (!stop) {
        const t = performance.now();
        await new Promise((ok) => setTimeout(ok, 5));
        lag.push(performance.now() - t - 5);
      }
    })();
    const total = RATE * SECONDS, t0 = performance.now(), inflight: Promise<void>[] = [];
    let errors = 0;
    for (let i = 0; i < total; i++) {
      const wait = t0 + (i * 1000) / RATE - performance.now();
      if (wait > 1) await new Promise((ok) => setTimeout(ok, wait));
      const s = performance.now();
      inflight.push(
        fetch(`http://127.0.0.1:${port}/get-online-features`, { method: "POST", body: body(i) })
          .then((x) => x.arrayBuffer())
          .then(() => void lat.push(performance.now() - s), () => void errors++),
      );
    }
    await Promise.all(inflight);
    stop = true;
    await Promise.all([pinger, lagger]);
    const after = await serverHistogram();
    // Server-side: the share of this run's requests the server answered within each bound.
    const n = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
    const within: Record<string, number> = {};
    for (const [le, c] of after) if (Number.isFinite(le)) within[`${le * 1000}ms`] = (c - (before.get(le) ?? 0)) / n;
    const row = {
      clientP50: median(lat),
      clientP99: pct(lat, 0.99),
      answered: lat.length,
      errors,
      serverWithin: within,
      redisPingP50: median(pings),
      redisPingP99: pct(pings, 0.99),
      clientLoopLagP99: pct(lag, 0.99),
      load: Deno.loadavg(),
    };
    runs.push(row);
    log(
      `open loop ${RATE} req/s run ${r + 1}: client p50 ${ms(row.clientP50)} p99 ${
        ms(row.clientP99)
      } (${errors} errors); ` +
        `server answered ${(100 * (within["2ms"] ?? NaN)).toFixed(1)}% within 2 ms, ${
          (100 * (within["5ms"] ?? NaN)).toFixed(1)
        }% within 5 ms; Redis PING p50 ${ms(row.redisPingP50)} p99 ${ms(row.redisPingP99)}; client event-loop lag p99 ${
          ms(row.clientLoopLagP99)
        }`,
    );
  }
  result.openLoop = runs;
  redis.client.disconnect();
} finally {
  child.kill("SIGTERM");
  await child.status;
  await fs.online.clear();
  for (const t of ["objects", "materializations", "feature_stats", "releases"]) {
    await fs.pg.sql.unsafe(`delete from ${fs.registry.schema}.${t} where project = $1`, [project]);
  }
  await fs.close();
  await Deno.remove(dir, { recursive: true });
}
await Deno.writeTextFile(`${ROOT}/bench/results/features_serving_profile.json`, JSON.stringify(result, null, 2) + "\n");
console.log(JSON.stringify(result));
