/**
 * What produced a notebook run: the git commit and whether the tree was
 * dirty, Deno's version, the hash of `deno.lock`, each service's version and
 * mode, and the seeds the notebook's source names. `deno task nb` records it
 * in `reports/index.json`, the executed notebook's metadata and the report's
 * footer, so a report says what made it.
 *
 * Service versions are asked of the running servers (PostgreSQL
 * `server_version`, Redis `INFO`, MLflow `/version`, Prometheus build info);
 * Kafka's and Spark's come from the artefacts the native launcher installed
 * (the `kafka-clients` jar, the `pyspark` distribution), so they read
 * "unknown" for a broker or cluster Mercury did not start.
 *
 * @module
 */
import { projectRoot, redact, resolveEndpoints, stateDir } from "@mercury/core";
import { sha256Hex } from "../services/_process.ts";

/** One service as a run saw it. */
export interface ServiceRecord {
  mode: string;
  version: string;
  endpoint: string;
}

/** The facts recorded with every run. */
export interface Provenance {
  git: { commit: string; dirty: boolean; branch: string };
  deno: string;
  typescript: string;
  v8: string;
  lockSha256: string;
  services: Record<string, ServiceRecord>;
}

async function git(root: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command("git", { args, cwd: root, stdin: "null", stderr: "null" }).output();
    return out.code === 0 ? new TextDecoder().decode(out.stdout).trim() : "";
  } catch {
    return "";
  }
}

function timed<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.catch(() => undefined),
    new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), ms)),
  ]).finally(() => clearTimeout(timer));
}

async function httpJson(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return text.trim();
  }
}

function fileVersion(dir: string, pattern: RegExp): string | undefined {
  try {
    for (const e of Deno.readDirSync(dir)) {
      const m = pattern.exec(e.name);
      if (m) return m[1];
    }
  } catch { /* not installed here */ }
  return undefined;
}

async function serviceVersions(root: string): Promise<Record<string, ServiceRecord>> {
  let file: Record<string, { mode?: string }> = {};
  try {
    file = JSON.parse(Deno.readTextFileSync(`${stateDir(root)}/services.json`));
  } catch { /* services never started: endpoints come from env or defaults */ }
  const eps = resolveEndpoints();
  // An endpoint given by environment variable is a server Mercury did not start, whatever services.json says.
  const mode = (s: string) => eps[s as keyof typeof eps]?.source === "env" ? "external" : file[s]?.mode ?? "unknown";
  const state = stateDir(root);

  const pg = timed(
    (async () => {
      const { connectPostgres } = await import("@mercury/core/services/postgres");
      const c = await connectPostgres({ timeoutMs: 5000 });
      try {
        const [row] = await c.sql`select current_setting('server_version') as v,
          exists(select 1 from pg_extension where extname = 'timescaledb') as ts`;
        return `PostgreSQL ${row?.v}${row?.ts ? " + TimescaleDB" : ""}`;
      } finally {
        await c.close();
      }
    })(),
    8000,
  );
  const redis = timed(
    (async () => {
      const { connectRedis } = await import("@mercury/core/services/redis");
      const c = await connectRedis({ timeoutMs: 5000 });
      try {
        const info = await c.client.info("server");
        return `Redis ${/redis_version:([^\r\n]+)/.exec(info)?.[1] ?? "?"}`;
      } finally {
        await c.close();
      }
    })(),
    8000,
  );
  const mlflow = timed(httpJson(`${eps.mlflow.url}/version`).then((v) => `MLflow ${String(v)}`), 6000);
  const prometheus = timed(
    httpJson(`${eps.prometheus.url}/api/v1/status/buildinfo`).then((v) =>
      `Prometheus ${(v as { data?: { version?: string } }).data?.version ?? "?"}`
    ),
    6000,
  );
  // The launcher's install says nothing about a broker or cluster given by environment variable.
  const kafka = mode("kafka") === "external"
    ? undefined
    : fileVersion(`${state}/kafka/libs`, /^kafka-clients-([\d.]+)\.jar$/);
  let spark: string | undefined;
  if (mode("spark") !== "external") {
    try {
      for (const e of Deno.readDirSync(`${state}/spark/venv/lib`)) {
        spark ??= fileVersion(`${state}/spark/venv/lib/${e.name}/site-packages`, /^pyspark-([\d.]+)\.dist-info$/);
      }
    } catch { /* no Spark venv */ }
  }

  const [p, r, m, pr] = await Promise.all([pg, redis, mlflow, prometheus]);
  const rec = (name: string, version: string | undefined, endpoint: string): ServiceRecord => ({
    mode: mode(name),
    version: version ?? "unknown (not reachable)",
    endpoint,
  });
  return {
    kafka: rec("kafka", kafka ? `Apache Kafka ${kafka} (installed jars)` : "unknown", eps.kafka.brokers.join(",")),
    postgres: rec("postgres", p, redact(eps.postgres.url)),
    redis: rec("redis", r, redact(eps.redis.url)),
    mlflow: rec("mlflow", m, eps.mlflow.url),
    prometheus: rec("prometheus", pr, eps.prometheus.url),
    spark: rec("spark", spark ? `Apache Spark ${spark} (installed pyspark)` : "unknown", eps.spark.remote),
  };
}

/** Gathers the run's provenance (a few local probes in parallel: under a second on an idle machine; each gives up after 5–8 s). */
export async function provenance(root = projectRoot()): Promise<Provenance> {
  const [commit, status, branch, lock, services] = await Promise.all([
    git(root, ["rev-parse", "HEAD"]),
    git(root, ["status", "--porcelain", "--untracked-files=no"]),
    git(root, ["rev-parse", "--abbrev-ref", "HEAD"]),
    Deno.readTextFile(`${root}/deno.lock`).then(sha256Hex).catch(() => "none"),
    serviceVersions(root),
  ]);
  return {
    git: { commit: commit || "unknown", dirty: status.length > 0, branch: branch || "unknown" },
    deno: Deno.version.deno,
    typescript: Deno.version.typescript,
    v8: Deno.version.v8,
    lockSha256: lock,
    services,
  };
}

/**
 * The seeds a notebook's code names: `seededRandom(7)`, `seed: 7`, `seed = 7`
 * (a parameter's value when the seed is one), in order, without repeats.
 */
export function seedsOf(code: string, parameters: Record<string, unknown> = {}): string[] {
  const out = new Set<string>();
  const re = /\b(seed\w*)\s*(?:[:=]|\()\s*([\w.]+)/gi;
  for (const m of code.matchAll(re)) {
    const v = m[2]!;
    const resolved = /^\d/.test(v) ? v : v in parameters ? String(parameters[v]) : undefined;
    if (resolved !== undefined) out.add(`${m[1]}=${resolved}`);
  }
  return [...out];
}
