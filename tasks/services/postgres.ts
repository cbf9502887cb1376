/**
 * PostgreSQL from Debian's packages, as a cluster of our own (initdb) under
 * `.mercury/postgres`, on loopback port 55432. As root, the server runs as the
 * `postgres` system user (PostgreSQL refuses to run as root).
 *
 * @module
 */
import { DEFAULT_PORTS, type HealthReport, MercuryError } from "@mercury/core";
import { connectPostgres } from "@mercury/core/services/postgres";
import { aptInstall, isRoot, onPath, run, runOk, stopPid } from "./_process.ts";
import { type NativeService, servicePaths } from "./native.ts";

const USER = "mercury";
const DB = "mercury";

async function binDir(): Promise<string | undefined> {
  const fromPath = await onPath("pg_ctl");
  const candidates: string[] = [];
  try {
    for (const e of Deno.readDirSync("/usr/lib/postgresql")) candidates.push(e.name);
  } catch { /* none */ }
  const newest = candidates.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))[0];
  if (newest) return `/usr/lib/postgresql/${newest}/bin`;
  if (fromPath) return Deno.realPathSync(fromPath).replace(/\/pg_ctl$/, "");
  return undefined;
}

/** The native PostgreSQL service. */
export function postgresService(state: string, port: number = DEFAULT_PORTS.postgres): NativeService {
  const paths = servicePaths(state, "postgres");
  const url = `postgres://${USER}@127.0.0.1:${port}/${DB}`;
  let bin = "";
  const osUser = isRoot() ? "postgres" : undefined;
  const asUser = (cmd: string, args: string[]): [string, string[]] =>
    osUser ? ["runuser", ["-u", osUser, "--", cmd, ...args]] : [cmd, args];

  return {
    name: "postgres",
    ports: [port],
    paths,
    marker: "postgres",
    endpoint: url,
    async install() {
      let dir = await binDir();
      if (!dir) {
        await aptInstall(["postgresql"], "PostgreSQL (initdb, pg_ctl, postgres)");
        dir = await binDir();
      }
      if (!dir) {
        throw new MercuryError("not_found", "PostgreSQL binaries not found", { hint: "apt-get install postgresql" });
      }
      bin = dir;
      if (osUser && (await run("id", ["-u", osUser])).code !== 0) {
        await runOk(
          "useradd",
          ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", osUser],
          "useradd postgres",
        );
      }
    },
    async start() {
      await Deno.mkdir(paths.dir, { recursive: true });
      if (osUser) await runOk("chown", [osUser, paths.dir], "chown .mercury/postgres");
      let fresh = false;
      try {
        Deno.statSync(`${paths.data}/PG_VERSION`);
      } catch {
        fresh = true;
        await Deno.remove(paths.data, { recursive: true }).catch(() => {});
        const [cmd, args] = asUser(`${bin}/initdb`, [
          "-D",
          paths.data,
          "-U",
          USER,
          "--auth=trust",
          "-E",
          "UTF8",
          "--no-locale",
        ]);
        await runOk(cmd, args, "initdb", { logFile: paths.log });
      }
      if (osUser) await runOk("chown", [osUser, paths.log], "chown postgres log");
      const opts = [
        `-p ${port}`,
        "-c listen_addresses=127.0.0.1",
        "-c unix_socket_directories=''",
        "-c max_connections=200",
        "-c shared_buffers=256MB",
      ].join(" ");
      const [cmd, args] = asUser(`${bin}/pg_ctl`, [
        "-D",
        paths.data,
        "-l",
        paths.log,
        "-o",
        opts,
        "-w",
        "-t",
        "60",
        "start",
      ]);
      await runOk(cmd, args, "pg_ctl start", { logFile: `${paths.dir}/pg_ctl.log` });
      const pidLine = Deno.readTextFileSync(`${paths.data}/postmaster.pid`).split("\n")[0] ?? "";
      const pid = Number(pidLine);
      if (fresh) await this.afterStart?.();
      return pid;
    },
    async afterStart() {
      const admin = await connectPostgres({ url: `postgres://${USER}@127.0.0.1:${port}/postgres` });
      try {
        const rows = await admin.sql`select 1 from pg_database where datname = ${DB}`;
        if (rows.length === 0) await admin.sql.unsafe(`create database ${DB}`);
      } finally {
        await admin.close();
      }
    },
    async stop(pid) {
      if (bin) {
        const [cmd, args] = asUser(`${bin}/pg_ctl`, ["-D", paths.data, "-m", "fast", "-w", "stop"]);
        const r = await run(cmd, args);
        if (r.code === 0) return;
      }
      await stopPid(pid, "SIGINT");
    },
    async health(timeoutMs = 3000): Promise<HealthReport> {
      try {
        const pg = await connectPostgres({ url, timeoutMs, max: 1 });
        try {
          return await pg.health();
        } finally {
          await pg.close();
        }
      } catch (err) {
        return { service: "postgres", endpoint: url, ok: false, latencyMs: 0, detail: (err as Error).message };
      }
    },
    async notes() {
      try {
        const pg = await connectPostgres({ url, timeoutMs: 3000, max: 1 });
        try {
          return (await pg.timescaleAvailable())
            ? "timescaledb: available"
            : "timescaledb: not available (plugins use native partitioning)";
        } finally {
          await pg.close();
        }
      } catch {
        return "";
      }
    },
  };
}
