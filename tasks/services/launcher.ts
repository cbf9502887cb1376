/**
 * `deno task services up|down|status|logs`: starts Mercury's real services
 * with Docker Compose where a Docker engine runs, otherwise as native
 * processes under `.mercury/`, and writes their endpoints to
 * `.mercury/services.json`.
 *
 * @module
 */
import {
  CORE_SERVICE_NAMES,
  discoverPlugins,
  ENV_VARS,
  type HealthReport,
  MercuryError,
  redact,
  resolveEndpoints,
  SERVICE_NAMES,
  type ServiceName,
  type ServicesFile,
  servicesFilePath,
  stateDir,
} from "@mercury/core";
import { retry, sleep } from "@mercury/core/retry";
import { alive, portFree, portHolder, run, tail, writeAtomic } from "./_process.ts";
import { kafkaService } from "./kafka.ts";
import { httpHealth, mlflowService } from "./mlflow.ts";
import { prometheusService } from "./prometheus.ts";
import { sparkEndpoints, sparkService } from "./spark.ts";
import { hdfsHealth, hdfsService } from "./hdfs.ts";
import { s3Health, s3Service } from "./s3.ts";
import type { NativeService } from "./native.ts";
import { postgresService } from "./postgres.ts";
import { redisService } from "./redis.ts";

/** How a service is run. */
export type Mode = "native" | "compose" | "external";

/** What the launcher remembers about a service it started. */
export interface StartedService {
  mode: "native" | "compose";
  pid?: number;
  endpoint: string;
  startedAt: string;
}

/** `.mercury/state.json`: only what this project started. */
export type LauncherState = Partial<Record<ServiceName, StartedService>>;

/** One row of `status`. */
export interface ServiceStatus {
  service: ServiceName;
  mode: Mode | "stopped";
  endpoint: string;
  pid?: number;
  health: HealthReport;
  notes: string;
}

/** Launcher options. */
export interface LauncherOptions {
  root: string;
  /** Seconds to wait for a service to answer (default 90). */
  timeoutSec?: number;
  /** Force a mode (default: `MERCURY_SERVICES_MODE`, else compose when Docker answers). */
  mode?: "native" | "compose";
  log?: (line: string) => void;
  /** Port overrides (tests use free ports to prove conflict handling). */
  ports?: Partial<
    { postgres: number; redis: number; kafka: number; kafkaController: number; mlflow: number; prometheus: number }
  >;
}

/** Starts, stops and inspects the services. */
export class Launcher {
  readonly root: string;
  readonly state: string;
  readonly timeoutSec: number;
  readonly services: Record<ServiceName, NativeService>;
  #mode: "native" | "compose" | undefined;
  #log: (line: string) => void;

  constructor(options: LauncherOptions) {
    this.root = options.root;
    this.state = stateDir(options.root);
    this.timeoutSec = options.timeoutSec ?? 90;
    this.#mode = options.mode ?? envMode();
    this.#log = options.log ?? ((l) => console.error(l));
    this.services = {
      postgres: postgresService(this.state, options.ports?.postgres),
      redis: redisService(this.state, options.ports?.redis),
      kafka: kafkaService(this.root, this.state, options.ports?.kafka, options.ports?.kafkaController),
      mlflow: mlflowService(this.root, this.state, options.ports?.mlflow),
      prometheus: prometheusService(this.state, options.ports?.prometheus),
      spark: sparkService(this.root, this.state),
      hdfs: hdfsService(this.root, this.state),
      s3: s3Service(this.root, this.state),
    };
  }

  /** Names to act on: the given ones (checked) or all. */
  select(names: string[]): ServiceName[] {
    if (names.length === 0) return [...SERVICE_NAMES];
    return names.map((n) => {
      if (!(SERVICE_NAMES as readonly string[]).includes(n)) {
        throw new MercuryError("usage", `unknown service "${n}"`, {
          where: "deno task services",
          hint: `services: ${SERVICE_NAMES.join(", ")}`,
        });
      }
      return n as ServiceName;
    });
  }

  /** Starts the named services (all by default); returns when each answers a real request. */
  async up(names: ServiceName[]): Promise<ServiceStatus[]> {
    await Deno.mkdir(this.state, { recursive: true });
    return await this.#locked(async () => {
      const mode = await this.#resolveMode();
      // Every service gets its chance; those that came up are recorded even when another failed.
      const settled = await Promise.allSettled(names.map((n) => this.#upOne(n, mode)));
      await this.#writeServicesFile();
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
      if (failed) throw failed.reason;
      return settled.map((s) => (s as PromiseFulfilledResult<ServiceStatus>).value);
    });
  }

  async #upOne(name: ServiceName, composeOrNative: "native" | "compose"): Promise<ServiceStatus> {
    const svc = this.services[name];
    const mode = svc.nativeOnly ? "native" : composeOrNative;
    const external = Deno.env.get(ENV_VARS[name]);
    if (external) {
      const health = await this.#externalHealth(name);
      if (!health.ok) {
        throw new MercuryError(
          "unavailable",
          `${name} at ${health.endpoint} (from ${ENV_VARS[name]}) does not answer: ${health.detail}`,
          {
            where: ENV_VARS[name],
            hint: `start that server, or unset ${ENV_VARS[name]} to let Mercury run its own`,
          },
        );
      }
      return { service: name, mode: "external", endpoint: health.endpoint, health, notes: `from ${ENV_VARS[name]}` };
    }

    const state = this.#readState();
    const known = state[name];
    if (known && (known.mode === "compose" || alive(known.pid, svc.marker))) {
      const health = await svc.health();
      if (health.ok) {
        return {
          service: name,
          mode: known.mode,
          endpoint: svc.endpoint,
          pid: known.pid,
          health,
          notes: "already running",
        };
      }
    }

    const t0 = performance.now();
    let pid: number | undefined;
    if (mode === "compose") {
      await this.#compose(["up", "-d", name]);
    } else {
      if (known?.pid && alive(known.pid, svc.marker)) {
        // Ours but not answering: restart it.
        await svc.stop(known.pid);
      }
      for (const port of svc.ports) {
        if (!portFree(port)) {
          const holder = await portHolder(port);
          throw new MercuryError(
            "conflict",
            `port ${port} for ${name} is already taken${holder ? ` by ${holder}` : ""}`,
            {
              where: `127.0.0.1:${port}`,
              hint: `stop what holds it, or point ${ENV_VARS[name]} at a ${name} server of yours`,
            },
          );
        }
      }
      await svc.install();
      try {
        pid = await svc.start();
      } catch (err) {
        if (err instanceof MercuryError) {
          throw new MercuryError(err.code, `${name} did not start: ${err.message}`, {
            where: svc.paths.log,
            hint: `read ${svc.paths.log}`,
            cause: err,
          });
        }
        throw err;
      }
    }
    // A port just released by a stopped server can still refuse a bind for a moment
    // ("Address already in use"): wait and start once more, three starts in all.
    const health: HealthReport = await retry(async (attempt) => {
      if (attempt > 1) pid = await svc.start();
      return await this.#waitHealthy(svc, pid);
    }, {
      attempts: 3,
      baseMs: 3000,
      factor: 1,
      retryable: (err) =>
        mode === "native" && err instanceof MercuryError && /already in use/i.test(tail(svc.paths.log, 40)),
      onRetry: () => this.#log(`${name}: its port was not free yet; starting again`),
    });
    this.#updateState(name, { mode, pid, endpoint: svc.endpoint, startedAt: new Date().toISOString() });
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    this.#log(`${name}: up (${mode}, ${svc.endpoint}) in ${secs}s`);
    return { service: name, mode, endpoint: svc.endpoint, pid, health, notes: `started in ${secs}s` };
  }

  async #waitHealthy(svc: NativeService, pid: number | undefined): Promise<HealthReport> {
    // A service that starts slowly by nature (Spark: four JVMs) may ask for more than --timeout.
    const timeoutSec = Math.max(this.timeoutSec, svc.minStartSec ?? 0);
    const deadline = Date.now() + timeoutSec * 1000;
    let last: HealthReport | undefined;
    while (Date.now() < deadline) {
      if (pid !== undefined && !alive(pid)) {
        throw new MercuryError("unavailable", `${svc.name} exited while starting: ${lastLine(svc.paths.log)}`, {
          where: svc.paths.log,
          hint: `read ${svc.paths.log}`,
        });
      }
      last = await svc.health(2000);
      if (last.ok) return last;
      await sleep(250);
    }
    if (pid !== undefined) await svc.stop(pid);
    throw new MercuryError(
      "timeout",
      `${svc.name} did not answer within ${timeoutSec}s: ${last?.detail ?? "no answer"}`,
      {
        where: svc.paths.log,
        hint: `read ${svc.paths.log}; raise --timeout on a slow machine`,
      },
    );
  }

  /** Stops the named services that this project started; leaves others alone. */
  async down(names: ServiceName[], purge = false): Promise<string[]> {
    return await this.#locked(async () => {
      const state = this.#readState();
      const lines: string[] = [];
      for (const name of names) {
        const known = state[name];
        const svc = this.services[name];
        if (!known) {
          lines.push(`${name}: not started by Mercury, left alone`);
        } else if (known.mode === "compose") {
          await this.#compose(["stop", name]);
          lines.push(`${name}: stopped (compose)`);
        } else if (known.pid && alive(known.pid, svc.marker)) {
          await svc.stop(known.pid);
          lines.push(`${name}: stopped (pid ${known.pid})`);
        } else {
          lines.push(`${name}: was not running`);
        }
        delete state[name];
        if (purge && known?.mode !== "compose") {
          await Deno.remove(svc.paths.data, { recursive: true }).catch(() => {});
          lines.push(`${name}: data removed`);
        }
      }
      await writeAtomic(`${this.state}/state.json`, JSON.stringify(state, null, 2) + "\n");
      await this.#writeServicesFile();
      return lines;
    });
  }

  /** Health of each named service, as `status` prints it. */
  async status(names: ServiceName[]): Promise<ServiceStatus[]> {
    const state = this.#readState();
    await Promise.all(names.map((name) => this.services[name].prepare?.()));
    return await Promise.all(names.map(async (name): Promise<ServiceStatus> => {
      const svc = this.services[name];
      if (Deno.env.get(ENV_VARS[name])) {
        const health = await this.#externalHealth(name);
        return { service: name, mode: "external", endpoint: health.endpoint, health, notes: `from ${ENV_VARS[name]}` };
      }
      const known = state[name];
      const running = known && (known.mode === "compose" || alive(known.pid, svc.marker));
      const health = await svc.health(2000);
      const notes = health.ok && svc.notes ? await svc.notes() : "";
      return {
        service: name,
        mode: running ? known.mode : "stopped",
        endpoint: svc.endpoint,
        pid: running ? known.pid : undefined,
        health,
        notes: running || !health.ok ? notes : `answering, but not started by Mercury${notes ? "; " + notes : ""}`,
      };
    }));
  }

  /** The last `lines` lines of each named service's log. */
  logs(names: ServiceName[], lines: number): string {
    return names.map((n) => {
      const log = this.services[n].paths.log;
      return `==> ${n}: ${log} <==\n${tail(log, lines) || "(empty)"}`;
    }).join("\n\n");
  }

  async #externalHealth(name: ServiceName): Promise<HealthReport> {
    const eps = resolveEndpoints();
    if (name === "mlflow") return await httpHealth(name, eps.mlflow.url, `${eps.mlflow.url}/health`, 3000);
    if (name === "spark") {
      const { sparkHealth } = await import("./spark.ts");
      return await sparkHealth(eps.spark.remote, 3000);
    }
    if (name === "prometheus") {
      return await httpHealth(name, eps.prometheus.url, `${eps.prometheus.url}/-/ready`, 3000);
    }
    if (name === "hdfs") {
      // An external NameNode's web UI is assumed on its default port beside the RPC port's host.
      const host = new URL(eps.hdfs.url).hostname;
      return await hdfsHealth(eps.hdfs.url, `http://${host}:9870`, 3000);
    }
    if (name === "s3") return await s3Health(eps.s3.url, eps.s3, 3000);
    if (name === "kafka") {
      const { connectKafka } = await import("@mercury/core/services/kafka");
      return await probe(name, eps.kafka.brokers.join(","), async () => {
        await using k = await connectKafka({ brokers: eps.kafka.brokers, timeoutMs: 3000 });
        return await k.health();
      });
    }
    if (name === "postgres") {
      const { connectPostgres } = await import("@mercury/core/services/postgres");
      return await probe(name, redact(eps.postgres.url), async () => {
        await using pg = await connectPostgres({ url: eps.postgres.url, timeoutMs: 3000, max: 1 });
        return await pg.health();
      });
    }
    const { connectRedis } = await import("@mercury/core/services/redis");
    return await probe(name, redact(eps.redis.url), async () => {
      await using r = await connectRedis({ url: eps.redis.url, timeoutMs: 3000 });
      return await r.health();
    });
  }

  async #resolveMode(): Promise<"native" | "compose"> {
    if (this.#mode) return this.#mode;
    const docker = await run("docker", ["info", "--format", "{{.ServerVersion}}"]).catch(() => ({ code: 1 }));
    this.#mode = docker.code === 0 ? "compose" : "native";
    return this.#mode;
  }

  async #compose(args: string[]): Promise<void> {
    const file = `${this.root}/services/compose.yml`;
    const full = ["compose", "-f", file, ...args];
    if (args[0] === "up") full.push("--wait");
    const r = await run("docker", full);
    if (r.code !== 0) {
      throw new MercuryError("unavailable", `docker ${full.join(" ")} failed: ${r.stderr.trim().split("\n").pop()}`, {
        where: file,
        hint: "check `docker compose -f services/compose.yml logs`, or set MERCURY_SERVICES_MODE=native",
      });
    }
  }

  #readState(): LauncherState {
    try {
      return JSON.parse(Deno.readTextFileSync(`${this.state}/state.json`));
    } catch {
      return {};
    }
  }

  #updateState(name: ServiceName, entry: StartedService): void {
    const state = this.#readState();
    state[name] = entry;
    const path = `${this.state}/state.json`;
    const tmp = `${path}.tmp-${Deno.pid}-${name}`;
    Deno.writeTextFileSync(tmp, JSON.stringify(state, null, 2) + "\n");
    Deno.renameSync(tmp, path);
  }

  async #writeServicesFile(): Promise<void> {
    const state = this.#readState();
    const file: ServicesFile = {};
    if (state.kafka) file.kafka = { brokers: [state.kafka.endpoint], mode: state.kafka.mode };
    if (state.postgres) file.postgres = { url: state.postgres.endpoint, mode: state.postgres.mode };
    if (state.redis) file.redis = { url: state.redis.endpoint, mode: state.redis.mode };
    if (state.mlflow) file.mlflow = { url: state.mlflow.endpoint, mode: state.mlflow.mode };
    if (state.prometheus) file.prometheus = { url: state.prometheus.endpoint, mode: state.prometheus.mode };
    if (state.hdfs) file.hdfs = { url: state.hdfs.endpoint, mode: state.hdfs.mode };
    if (state.s3) file.s3 = { url: state.s3.endpoint, mode: state.s3.mode };
    if (state.spark) {
      file.spark = { ...sparkEndpoints(this.state), remote: state.spark.endpoint, mode: state.spark.mode };
    }
    await writeAtomic(servicesFilePath(this.root), JSON.stringify(file, null, 2) + "\n");
  }

  /** Serialises launchers of this project: one `up`/`down` at a time. */
  async #locked<T>(fn: () => Promise<T>): Promise<T> {
    const lock = `${this.state}/launcher.lock`;
    const deadline = Date.now() + (this.timeoutSec + 120) * 1000;
    for (;;) {
      try {
        const f = Deno.openSync(lock, { createNew: true, write: true });
        f.writeSync(new TextEncoder().encode(String(Deno.pid)));
        f.close();
        break;
      } catch (err) {
        if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
        const holder = Number(tail(lock, 1));
        if (!alive(holder)) {
          await Deno.remove(lock).catch(() => {});
          continue;
        }
        if (Date.now() > deadline) {
          throw new MercuryError("timeout", `another launcher (pid ${holder}) holds ${lock}`, { where: lock });
        }
        await sleep(200);
      }
    }
    try {
      return await fn();
    } finally {
      await Deno.remove(lock).catch(() => {});
    }
  }
}

/**
 * What a plain `services up` starts: the core services (PostgreSQL, Redis,
 * Kafka) and every other service a discovered plugin's manifest declares
 * (the observe plugin's MLflow and Prometheus), in start order.
 */
export async function plainUpServices(root: string): Promise<ServiceName[]> {
  const wanted = new Set<ServiceName>(CORE_SERVICE_NAMES);
  for (const p of await discoverPlugins({ root })) for (const s of p.manifest.services) wanted.add(s);
  return SERVICE_NAMES.filter((s) => wanted.has(s));
}

async function probe(service: string, endpoint: string, fn: () => Promise<HealthReport>): Promise<HealthReport> {
  try {
    return await fn();
  } catch (err) {
    return { service, endpoint, ok: false, latencyMs: 0, detail: (err as Error).message };
  }
}

function envMode(): "native" | "compose" | undefined {
  const m = Deno.env.get("MERCURY_SERVICES_MODE");
  if (m === undefined || m === "" || m === "auto") return undefined;
  if (m === "native" || m === "compose") return m;
  throw new MercuryError("config", `MERCURY_SERVICES_MODE="${m}" is not native, compose or auto`, {
    where: "MERCURY_SERVICES_MODE",
  });
}

function lastLine(path: string): string {
  const lines = tail(path, 30).split("\n").filter((l) => /ERROR|FATAL|Exception|error/i.test(l));
  return (lines.pop() ?? tail(path, 1)).slice(0, 300) || "(log empty)";
}

/** Formats `status` rows as an aligned table. */
export function statusTable(rows: ServiceStatus[]): string {
  const table = [["service", "mode", "endpoint", "pid", "health", "latency", "notes"]];
  for (const r of rows) {
    table.push([
      r.service,
      r.mode,
      r.endpoint,
      r.pid ? String(r.pid) : "-",
      r.health.ok ? "ok" : "down",
      r.health.ok ? `${r.health.latencyMs.toFixed(1)}ms` : "-",
      [r.health.ok ? r.health.detail : "", r.notes].filter(Boolean).join("; "),
    ]);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}
