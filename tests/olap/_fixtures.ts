/** Shared set-up for the olap tests: a temp data dir with a small events table. */
import { Olap, type OlapServer, serve, type ServeOptions } from "@mercury/olap";
import { DuckDBInstance } from "@duckdb/node-api";
import { loadBound, ROOT } from "../_helpers.ts";

/** A temp dir removed by the returned function. */
export async function tempDir(): Promise<[string, () => Promise<void>]> {
  const dir = await Deno.makeTempDir({ prefix: "olap-test-" });
  return [dir, () => Deno.remove(dir, { recursive: true }).catch(() => {})];
}

/** Runs SQL on a throwaway DuckDB (to write fixture files). */
export async function duck(sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  try {
    return (await c.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

/** Writes a small sales table (deterministic) as CSV into `dir` and returns the path. */
export async function salesCsv(dir: string, rows = 2000, name = "sales.csv"): Promise<string> {
  const path = `${dir}/${name}`;
  await duck(`copy (
    select timestamp '2024-01-01' + to_minutes(i * 17) as ts,
      ['eu', 'us', 'apac'][1 + i % 3] as region,
      ['a', 'b', 'c', 'd'][1 + (i * 7) % 4] as product,
      cast(i % 97 as integer) as qty,
      cast((i % 1000) / 10 as decimal(10, 2)) as amount
    from range(${rows}) t(i)
  ) to '${path}' (format csv, header true)`);
  return path;
}

/** What {@linkcode salesEngine} gives: the engine, its dir, and `close` (also run by `await using`). */
export interface SalesEngine extends AsyncDisposable {
  olap: Olap;
  dir: string;
  close(): Promise<void>;
}

/** An engine on a fresh dir with `sales` loaded (partitioned by day, sorted by ts). */
export async function salesEngine(opts: Partial<Parameters<typeof Olap.open>[0]> = {}): Promise<SalesEngine> {
  const [dir, rm] = await tempDir();
  const csv = await salesCsv(dir);
  const olap = await Olap.open({ dataDir: dir, restrictFiles: false, ...opts });
  await olap.ingest("sales", { file: csv }, { partitionBy: "day=cast(ts as date)", sortBy: ["ts"] });
  const close = async () => {
    await olap.close();
    await rm();
  };
  return { olap, dir, close, [Symbol.asyncDispose]: close };
}

/** Resolves once `ok()` holds (checked every 25 ms), or throws naming `what` after `ms` (stretched by the load). */
export async function until(what: string, ok: () => boolean | Promise<boolean>, bound = 5000): Promise<void> {
  const ms = loadBound(bound);
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * {@linkcode salesEngine} served over HTTP on a free port; `await using s = await servedSales(…)` shuts the server
 * down and closes the engine when the block ends, also when it throws.
 */
export async function servedSales(
  engine: Partial<Parameters<typeof Olap.open>[0]> = {},
  options: ServeOptions = {},
): Promise<{ env: SalesEngine; server: OlapServer; [Symbol.asyncDispose](): Promise<void> }> {
  const env = await salesEngine(engine);
  const server = serve(env.olap, { port: 0, ...options });
  return {
    env,
    server,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await env.close();
    },
  };
}

/** `deno task mercury olap <args…>` as a child process from the project root, stdout and stderr piped, no stdin. */
export function olapCli(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/tasks/mercury.ts`, "olap", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
}
