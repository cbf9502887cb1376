/**
 * The analytics engine behind the HTTP API and the library: a {@linkcode
 * Catalog} of managed tables, an {@linkcode Executor} that runs queries over
 * views of them, the result cache, rollups, the query log and metrics.
 *
 * @example Ingest, query twice (the second answer comes from the cache)
 * ```ts
 * import { Olap } from "@mercury/olap";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/s.csv`, "region,amount\neu,1\neu,2\nus,5\n");
 * const olap = await Olap.open({ dataDir: dir });
 * await olap.ingest("sales", { file: `${dir}/s.csv` });
 * const q = "select region, sum(amount) as total from sales group by region order by region";
 * assert.deepEqual(await olap.rows(q), [{ region: "eu", total: 3 }, { region: "us", total: 5 }]);
 * const again = await olap.query(q);
 * assert.equal(again.cache, "hit");
 * await olap.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */
import { writeFileAtomic } from "@mercury/core/files";
import { quoteIdent as ident, quoteLiteral } from "@mercury/core/sql";
import { Registry } from "@mercury/core";
import { connectRedis } from "@mercury/core/services/redis";
import { join } from "node:path";
import { cacheKey, MemoryCache, RedisCache, type ResultCache } from "./cache.ts";
import { Catalog, type IngestOptions, type TableMeta } from "./catalog.ts";
import { type ColumnInfo, DuckDBExecutor, type Executor, type Params, toValues } from "./executor.ts";
import { explainQuery, type Explanation, type PlanNode } from "./explain.ts";
import { estimateNativeRowGroups, estimateRowGroups } from "./row_groups.ts";
import { OlapError } from "./errors.ts";
import { closePipes, CONTENT_TYPES, COPY_FORMATS, copyStream, encode, type Format, jsonCopyStream } from "./formats.ts";
import {
  checkRollup,
  rewriteForRollup,
  rollupSelect,
  type RollupSpec,
  type RollupSuggestion,
  suggestRollups,
} from "./rollups.ts";
import { readAhead } from "./spool.ts";
import { analyse, type Analysis } from "./sql_ast.ts";
import { logText, redactLiterals } from "./query_log.ts";
import { type Source } from "./sources.ts";
import { TIME_SERIES_MACROS } from "./timeseries.ts";

/** Options of {@linkcode Olap.open}. */
export interface OlapOptions {
  dataDir: string;
  /** Queries that run at once (DuckDB connections); default 4. */
  concurrency?: number;
  /** Default query timeout, ms (default 30,000; 0 = none). */
  timeoutMs?: number;
  /** Memory cache bound in bytes (default 256 MiB; 0 disables caching). */
  cacheBytes?: number;
  /** Largest single cached answer (default 16 MiB). */
  maxEntryBytes?: number;
  /** Share the cache through Redis (MERCURY_REDIS_URL) under this key prefix. */
  redisPrefix?: string;
  /** Queries slower than this are logged as slow (default 1,000 ms). */
  slowMs?: number;
  /** DuckDB threads for queries (default: DuckDB's choice). */
  threads?: number;
  /** Limit queries' file access to the data dir (default true). */
  restrictFiles?: boolean;
  /** After an append, compact a table whose files per partition exceed this (default 8; 0 = never). */
  compactAbove?: number;
  /**
   * Bytes of an answer read ahead of its reader (default 16 MiB): an answer that fits is computed in one go and
   * its connection freed whether or not the client reads.
   */
  spoolBytes?: number;
  /**
   * The longest an answer waits for its reader to take the next piece (default 5,000 ms; 0 = no limit): past it
   * the query is stopped, its connection freed and the answer ends in an error.
   */
  stallMs?: number;
  /** Keep string and number literals in the query log and slow log (default false: each becomes `?`). */
  logLiterals?: boolean;
}

/** Options of one query. */
export interface QueryOptions {
  params?: Params;
  format?: Format;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Page of the result (applied around the query). */
  limit?: number;
  offset?: number;
  /** Skip the cache for this query. */
  noCache?: boolean;
  /** Allow writes and DDL (the server sets this when the token matched). */
  allowWrites?: boolean;
  /** Use rollups (default true). */
  rollups?: boolean;
}

/** An answer: a body (bytes when cached or small, otherwise a stream) and what produced it. */
export interface QueryAnswer {
  contentType: string;
  body: ReadableStream<Uint8Array> | Uint8Array;
  cache: "hit" | "miss" | "bypass";
  /** The rollup that answered, if one did. */
  rollup?: string;
  /** The SQL that ran (after a rollup rewrite). */
  sql: string;
  tables: string[];
  /** For a streamed body: settles once the answer is over (all read, failed, cancelled, or dropped as stalled). */
  ended?: Promise<"done" | "failed" | "cancelled" | "stalled">;
}

/** One entry of the query log. */
export interface LogEntry {
  at: string;
  /** An excerpt of the statement (see `logText`): literals redacted unless `logLiterals`, at most 2,000 characters. */
  sql: string;
  /** The length of the whole statement. */
  sqlChars: number;
  /** The statement's kind, once parsed. */
  kind?: "select" | "write";
  /** Run by a token holder (`allowWrites`): shown only to token holders. */
  token?: boolean;
  ms: number;
  cache: string;
  rollup?: string;
  rows?: number;
  status: number;
  error?: string;
}

interface Memo {
  analysis: Analysis;
  /** A SELECT's columns as DuckDB bound them (for DuckDB-written JSON); undefined when unknown. */
  columns?: ColumnInfo[];
  runSql: string;
  rollup?: string;
  gen: number;
}

interface RollupState {
  specs: RollupSpec[];
  /** Source table version each rollup was built from. */
  built: Record<string, number>;
}

/** The engine: catalog + executor + cache + rollups + log + metrics. */
export class Olap {
  readonly catalog: Catalog;
  readonly executor: Executor;
  readonly cache: ResultCache | undefined;
  readonly metrics: Registry = new Registry();
  readonly log: LogEntry[] = [];
  readonly slowLog: LogEntry[] = [];
  /** What rollup suggestions read: the last 1,000 successful statements of at most 8 KiB (whole, for their AST). */
  #suggestLog: { sql: string; ms: number }[] = [];
  readonly options: Required<Omit<OlapOptions, "redisPrefix" | "threads">> & { redisPrefix?: string };
  #tables = new Map<string, TableMeta>();
  #catalogMtime = "";
  #keys = new Map<string, string>();
  #gen = 0;
  #memo = new Map<string, Memo>();
  #rollups: RollupState = { specs: [], built: {} };
  #statsCache = new Map<string, unknown>();
  #closeRedis?: () => Promise<void>;
  #m;

  private constructor(
    catalog: Catalog,
    executor: Executor,
    cache: ResultCache | undefined,
    options: Olap["options"],
  ) {
    this.catalog = catalog;
    this.executor = executor;
    this.cache = cache;
    this.options = options;
    const m = this.metrics;
    this.#m = {
      queries: m.counter("olap_queries_total", "Queries answered", ["format", "status"]),
      seconds: m.histogram("olap_query_seconds", "Query latency (seconds)", ["cache"]),
      hits: m.counter("olap_cache_hits_total", "Result cache hits"),
      misses: m.counter("olap_cache_misses_total", "Result cache misses"),
      cacheBytes: m.gauge("olap_cache_bytes", "Bytes held by the memory cache"),
      cacheEntries: m.gauge("olap_cache_entries", "Entries in the memory cache"),
      rewrites: m.counter("olap_rollup_rewrites_total", "Queries answered by a rollup", ["rollup"]),
      slow: m.counter("olap_slow_queries_total", "Queries slower than the slow-query threshold"),
      running: m.gauge("olap_queries_running", "Queries running"),
      waiting: m.gauge("olap_queries_waiting", "Queries waiting for a connection"),
      ingests: m.counter("olap_ingests_total", "Table writes", ["table"]),
    };
  }

  /** Opens the engine on a data directory (created if missing). */
  static async open(options: OlapOptions): Promise<Olap> {
    const opts = {
      dataDir: options.dataDir,
      concurrency: options.concurrency ?? 4,
      timeoutMs: options.timeoutMs ?? 30_000,
      cacheBytes: options.cacheBytes ?? 256 * 1024 * 1024,
      maxEntryBytes: options.maxEntryBytes ?? 16 * 1024 * 1024,
      slowMs: options.slowMs ?? 1000,
      restrictFiles: options.restrictFiles ?? true,
      compactAbove: options.compactAbove ?? 8,
      spoolBytes: options.spoolBytes ?? 16 * 1024 * 1024,
      stallMs: options.stallMs ?? 5_000,
      logLiterals: options.logLiterals ?? false,
      redisPrefix: options.redisPrefix,
    };
    const catalog = await Catalog.open(opts.dataDir);
    await Deno.mkdir(join(opts.dataDir, ".pipes"), { recursive: true });
    const config: Record<string, string> = {};
    if (options.threads) config.threads = String(options.threads);
    const executor = await DuckDBExecutor.create({ concurrency: opts.concurrency, config });
    let cache: ResultCache | undefined;
    let closeRedis: (() => Promise<void>) | undefined;
    if (opts.redisPrefix !== undefined) {
      const r = await connectRedis();
      cache = new RedisCache(r.client, opts.redisPrefix);
      closeRedis = () => r.close();
    } else if (opts.cacheBytes > 0) {
      cache = new MemoryCache(opts.cacheBytes);
    }
    const olap = new Olap(catalog, executor, cache, opts);
    olap.#closeRedis = closeRedis;
    await executor.setup([...TIME_SERIES_MACROS]);
    await olap.refresh(true);
    if (opts.restrictFiles) {
      const dir = await Deno.realPath(opts.dataDir);
      // Spill files go inside the data dir too, so large sorts and joins still work once access is locked down.
      await Deno.mkdir(join(dir, ".pipes", "spill"), { recursive: true });
      await executor.exec(`set temp_directory = ${quoteLiteral(join(dir, ".pipes", "spill"))}`);
      await executor.exec(`set allowed_directories = [${quoteLiteral(`${dir}/`)}]`);
      await executor.exec(`set enable_external_access = false`);
    }
    return olap;
  }

  /** Re-reads `catalog.json` when it changed (another process wrote) and re-creates the views. */
  async refresh(force = false): Promise<void> {
    // A synchronous stat (a few microseconds) keeps the cache-hit path off the async file-system thread pool.
    // catalog.json is replaced by rename, so its inode changes on every write.
    let mtime = "";
    try {
      const st = Deno.statSync(this.catalog.file);
      mtime = `${st.mtime?.getTime()}:${st.ino}:${st.size}`;
    } catch { /* new */ }
    if (!force && mtime === this.#catalogMtime) return;
    this.#catalogMtime = mtime;
    const tables = await this.catalog.tables();
    const changed: string[] = [];
    const stmts: string[] = [];
    for (const t of tables) {
      const old = this.#tables.get(t.name);
      if (!old || old.version !== t.version || force) {
        stmts.push(...this.catalog.viewStatements(t));
        if (old) changed.push(t.name);
      }
    }
    for (const name of this.#tables.keys()) {
      if (!tables.some((t) => t.name === name)) {
        stmts.push(`drop view if exists ${ident(name)}`);
        changed.push(name);
      }
    }
    if (stmts.length) {
      await this.executor.withConnection(async (c) => {
        for (const s of stmts) await c.run(s);
      });
    }
    this.#tables = new Map(tables.map((t) => [t.name, t]));
    this.#rollups = await this.#loadRollups();
    this.#gen++;
    this.#memo.clear();
    this.#keys.clear();
    for (const t of changed) await this.cache?.invalidate(t);
  }

  /** Tables in the catalog. */
  async tables(): Promise<TableMeta[]> {
    await this.refresh();
    return [...this.#tables.values()];
  }

  /** Ingests a source into a table, then rebuilds the table's rollups. */
  async ingest(name: string, source: Source, options: IngestOptions = {}): Promise<TableMeta> {
    let meta = await this.catalog.ingest(name, source, options);
    this.#m.ingests.inc({ table: name });
    // Appends add small files; past a threshold they are merged into one sorted file per partition.
    const limit = this.options.compactAbove;
    if (options.mode === "append" && limit > 0 && meta.files > limit * Math.max(1, meta.partitions)) {
      meta = await this.catalog.compact(name);
    }
    await this.refresh(false);
    await this.cache?.invalidate(name);
    await this.#rebuildRollupsOf(name);
    return meta;
  }

  /** Compacts a table's files (a new version). */
  async compact(name: string): Promise<TableMeta> {
    const meta = await this.catalog.compact(name);
    await this.refresh(false);
    await this.cache?.invalidate(name);
    return meta;
  }

  // ---- rollups ----

  get #rollupFile(): string {
    return join(this.catalog.dir, "rollups.json");
  }

  async #loadRollups(): Promise<RollupState> {
    try {
      return JSON.parse(await Deno.readTextFile(this.#rollupFile)) as RollupState;
    } catch {
      return { specs: [], built: {} };
    }
  }

  async #saveRollups(state: RollupState): Promise<void> {
    await writeFileAtomic(this.#rollupFile, JSON.stringify(state, null, 2));
    this.#rollups = state;
  }

  /** Declared rollups with whether each is fresh (built from the source's current version). */
  async rollups(): Promise<(RollupSpec & { fresh: boolean; rows?: number })[]> {
    await this.refresh();
    return this.#rollups.specs.map((s) => ({
      ...s,
      fresh: this.#rollups.built[s.name] === this.#tables.get(s.table)?.version,
      rows: this.#tables.get(rollupTable(s))?.rows,
    }));
  }

  /** Declares (or replaces) a rollup and builds it now. */
  async declareRollup(spec: RollupSpec): Promise<TableMeta> {
    checkRollup(spec);
    await this.refresh();
    const src = this.#tables.get(spec.table);
    if (!src) throw new OlapError(404, "unknown_table", `rollup "${spec.name}": table "${spec.table}" does not exist`);
    // Every dimension and measure column must be one of the table's: named here, not as a DuckDB binder error.
    const have = new Set(src.columns.map((c) => c.name));
    for (
      const [what, col] of [
        ...spec.dimensions.map((d) => ["dimension", d] as const),
        ...spec.measures.filter((m) => m.column !== undefined).map((m) => [`${m.agg} measure`, m.column!] as const),
      ]
    ) {
      if (!have.has(col)) {
        throw new OlapError(
          400,
          "unknown_column",
          `rollup "${spec.name}": ${what} column "${col}" is not in table "${spec.table}"`,
          {
            where: `${spec.table}.${col}`,
            hint: `columns of ${spec.table}: ${[...have].join(", ")}`,
          },
        );
      }
    }
    const state = await this.#loadRollups();
    state.specs = [...state.specs.filter((s) => s.name !== spec.name), spec];
    const meta = await this.#buildRollup(spec, src, state);
    return meta;
  }

  async #buildRollup(spec: RollupSpec, src: TableMeta, state: RollupState): Promise<TableMeta> {
    const meta = await this.catalog.ingestQuery(
      rollupTable(spec),
      rollupSelect(
        spec,
        this.catalog.relation(src),
        Object.fromEntries(src.columns.map((c) => [c.name, c.type])),
      ),
      {
        rollupOf: spec.table,
        sortBy: [...spec.dimensions],
        setup: src.storage !== "parquet" ? this.catalog.viewStatements(src).slice(0, 1) : [],
      },
    );
    state.built[spec.name] = src.version;
    await this.#saveRollups(state);
    await this.refresh(true);
    return meta;
  }

  async #rebuildRollupsOf(table: string): Promise<void> {
    const state = await this.#loadRollups();
    const src = this.#tables.get(table);
    if (!src) return;
    for (const s of state.specs.filter((x) => x.table === table)) await this.#buildRollup(s, src, state);
  }

  /** Rollups suggested by the query log (aggregate queries seen at least `minQueries` times). */
  async suggestRollups(minQueries = 2): Promise<RollupSuggestion[]> {
    const log = this.#suggestLog.slice();
    return await this.executor.withConnection((c) => suggestRollups(c, log, minQueries));
  }

  // ---- queries ----

  async #prepare(sql: string, opts: QueryOptions): Promise<Memo> {
    const key = `${opts.rollups === false ? "nr:" : ""}${sql}`;
    const memo = this.#memo.get(key);
    if (memo && memo.gen === this.#gen) return memo;
    const fresh = await this.executor.withConnection(async (c) => {
      const analysis = await analyse(c, sql);
      let runSql = sql;
      let rollup: string | undefined;
      if (analysis.kind === "select" && opts.rollups !== false && analysis.tables.length === 1) {
        for (const spec of this.#rollups.specs) {
          if (spec.table !== analysis.tables[0]) continue;
          if (this.#rollups.built[spec.name] !== this.#tables.get(spec.table)?.version) continue;
          if (!this.#tables.has(rollupTable(spec))) continue;
          const rewritten = await rewriteForRollup(c, sql, spec, rollupTable(spec));
          if (rewritten) {
            runSql = rewritten;
            rollup = spec.name;
            break;
          }
        }
      }
      let columns: ColumnInfo[] | undefined;
      if (analysis.kind === "select") {
        // Binding errors (unknown table or column, parameter count) surface here with their position.
        const p = await c.prepare(sql);
        try {
          columns = Array.from({ length: p.columnCount }, (_, i) => ({
            name: p.columnName(i),
            type: p.columnType(i).toString(),
          }));
        } catch {
          columns = undefined; // types left to the parameters' values: the JS encoder
        }
        p.destroySync?.();
      }
      return { analysis, columns, runSql, rollup, gen: this.#gen };
    }, { timeoutMs: opts.timeoutMs ?? this.options.timeoutMs });
    if (this.#memo.size > 10_000) this.#memo.clear();
    this.#memo.set(key, fresh);
    return fresh;
  }

  /**
   * Answers a query in `format`. Cached when the query is a deterministic
   * `SELECT` and the answer fits `maxEntryBytes`; a rollup answers when one can.
   */
  async query(sql: string, opts: QueryOptions = {}): Promise<QueryAnswer> {
    const t0 = performance.now();
    const format = opts.format ?? "json";
    const literals = this.options.logLiterals;
    const entry: LogEntry = {
      at: new Date().toISOString(),
      sql: logText(sql, { literals }),
      sqlChars: sql.length,
      ms: 0,
      cache: "bypass",
      status: 200,
      ...(opts.allowWrites ? { token: true } : {}),
    };
    const done = (status: number, err?: unknown) => {
      entry.ms = performance.now() - t0;
      entry.status = status;
      if (err) {
        // DuckDB quotes values in its messages ("Could not convert string 'x'"): redacted like the statement.
        const m = (err as Error).message.slice(0, 500);
        entry.error = literals ? m : m.replace(/'(?:[^']|'')*'?/g, (q) => redactLiterals(q));
      }
      if (status === 200 && !entry.rollup && entry.kind === "select" && sql.length <= 8192) {
        this.#suggestLog.push({ sql, ms: entry.ms });
        if (this.#suggestLog.length > 1000) this.#suggestLog.shift();
      }
      this.#m.queries.inc({ format, status: String(status) });
      this.#m.seconds.observe({ cache: entry.cache }, entry.ms / 1000);
      this.log.push(entry);
      if (this.log.length > 1000) this.log.shift();
      if (entry.ms >= this.options.slowMs) {
        this.#m.slow.inc();
        this.slowLog.push(entry);
        if (this.slowLog.length > 200) this.slowLog.shift();
        Deno.writeTextFile(join(this.catalog.dir, "slow_queries.ndjson"), JSON.stringify(entry) + "\n", {
          append: true,
        })
          .catch(() => {});
      }
    };
    try {
      await this.refresh();
      const memo = await this.#prepare(sql, opts);
      const { analysis } = memo;
      entry.kind = analysis.kind;
      if (analysis.kind === "write") {
        if (!opts.allowWrites) {
          throw new OlapError(
            403,
            "read_only",
            "the API is read-only: only SELECT queries run without the write token",
            {
              hint: "start the server with --token and send it as Authorization: Bearer <token>",
            },
          );
        }
        await this.executor.exec(sql, { params: opts.params, timeoutMs: opts.timeoutMs ?? this.options.timeoutMs });
        this.#memo.clear();
        this.#gen++;
        done(200);
        return {
          contentType: CONTENT_TYPES.json,
          body: new TextEncoder().encode(JSON.stringify({ ok: true })),
          cache: "bypass",
          sql,
          tables: [],
        };
      }
      toValues(opts.params); // parameter shape errors before anything runs
      let runSql = memo.runSql;
      if (opts.limit !== undefined || opts.offset !== undefined) {
        runSql = `select * from (${runSql}) as page${
          opts.limit !== undefined ? ` limit ${Math.max(0, Math.floor(opts.limit))}` : ""
        }${opts.offset ? ` offset ${Math.max(0, Math.floor(opts.offset))}` : ""}`;
      }
      entry.rollup = memo.rollup;
      if (memo.rollup) this.#m.rewrites.inc({ rollup: memo.rollup });
      const cacheable = this.cache !== undefined && !opts.noCache && !analysis.volatile;
      const deps = memo.rollup ? [...analysis.tables, rollupTableName(memo.rollup)] : analysis.tables;
      let key: string | undefined;
      if (cacheable) {
        const versions: Record<string, number | string> = {};
        for (const t of deps) versions[t] = this.#tables.get(t)?.version ?? "external";
        const memoKey = `${this.#gen}\u0000${sql}\u0000${
          JSON.stringify(opts.params ?? null)
        }\u0000${format}|${opts.limit}|${opts.offset}|${memo.rollup}`;
        key = this.#keys.get(memoKey) ?? await cacheKey(
          analysis.normalised,
          opts.params ?? null,
          `${format}|${opts.limit}|${opts.offset}`,
          versions,
        );
        if (this.#keys.size > 10_000) this.#keys.clear();
        this.#keys.set(memoKey, key);
        const hit = await this.cache!.get(key);
        if (hit) {
          this.#m.hits.inc();
          entry.cache = "hit";
          done(200);
          return {
            contentType: CONTENT_TYPES[format],
            body: hit,
            cache: "hit",
            rollup: memo.rollup,
            sql: runSql,
            tables: deps,
          };
        }
        this.#m.misses.inc();
        entry.cache = "miss";
      }
      const runOpts = { params: opts.params, timeoutMs: opts.timeoutMs ?? this.options.timeoutMs, signal: opts.signal };
      let body: ReadableStream<Uint8Array> | undefined;
      const pipes = join(this.catalog.dir, ".pipes");
      if (COPY_FORMATS.has(format)) {
        body = await copyStream(this.executor, runSql, format, { ...runOpts, dir: pipes });
      } else if (format === "json" && memo.columns) {
        // JSON rows written by DuckDB when every column type allows it: no JS value per cell.
        body = await jsonCopyStream(this.executor, runSql, memo.columns, { ...runOpts, dir: pipes });
      }
      body ??= encode(format, await this.executor.stream(runSql, runOpts));
      if (key) body = this.#tee(body, key, deps);
      let ended!: (how: "done" | "failed" | "cancelled" | "stalled") => void;
      const endedP = new Promise<"done" | "failed" | "cancelled" | "stalled">((resolve) => (ended = resolve));
      body = readAhead(body, { bytes: this.options.spoolBytes, stallMs: this.options.stallMs, onEnd: ended });
      const answer: QueryAnswer = {
        contentType: CONTENT_TYPES[format],
        body,
        ended: endedP,
        cache: key ? "miss" : "bypass",
        rollup: memo.rollup,
        sql: runSql,
        tables: deps,
      };
      done(200);
      this.#gauges();
      return answer;
    } catch (err) {
      const e = err instanceof OlapError ? err : new OlapError(500, "internal", (err as Error).message, { cause: err });
      done(e.status, e);
      throw e;
    }
  }

  /** The Prometheus exposition, with the cache and concurrency gauges brought up to date. */
  metricsResponse(): Response {
    this.#gauges();
    return this.metrics.response();
  }

  #gauges(): void {
    const s = this.cache?.stats();
    if (s && s.bytes >= 0) {
      this.#m.cacheBytes.set({}, s.bytes);
      this.#m.cacheEntries.set({}, s.entries);
    }
    this.#m.running.set({}, this.executor.busy.running);
    this.#m.waiting.set({}, this.executor.busy.waiting);
  }

  /** Passes `body` through, keeping a copy for the cache until it grows past `maxEntryBytes`. */
  #tee(body: ReadableStream<Uint8Array>, key: string, tables: string[]): ReadableStream<Uint8Array> {
    const parts: Uint8Array[] = [];
    let size = 0;
    let keep = true;
    const max = this.options.maxEntryBytes;
    const cache = this.cache!;
    return body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, ctl) {
          if (keep) {
            size += chunk.byteLength;
            if (size > max) {
              keep = false;
              parts.length = 0;
            } else parts.push(chunk.slice());
          }
          ctl.enqueue(chunk);
        },
        async flush() {
          if (!keep) return;
          const all = new Uint8Array(size);
          let off = 0;
          for (const p of parts) {
            all.set(p, off);
            off += p.byteLength;
          }
          await cache.set(key, all, tables);
        },
      }),
    );
  }

  /** Runs a query and returns its rows as objects (bigints as numbers when exact). */
  async rows(sql: string, params?: Params, opts: QueryOptions = {}): Promise<Record<string, unknown>[]> {
    const a = await this.query(sql, { ...opts, params, format: "json" });
    const text = a.body instanceof Uint8Array ? new TextDecoder().decode(a.body) : await new Response(a.body).text();
    const j = JSON.parse(text) as { columns: { name: string }[]; rows: unknown[][] };
    return j.rows.map((r) => Object.fromEntries(j.columns.map((c, i) => [c.name, r[i]])));
  }

  /** The plan with estimates, or with `analyze` the real profile. */
  async explain(sql: string, opts: { analyze?: boolean; params?: Params; timeoutMs?: number } = {}): Promise<
    Explanation & { rollup?: string; sql: string }
  > {
    await this.refresh();
    const memo = await this.#prepare(sql, {});
    if (memo.analysis.kind !== "select") {
      throw new OlapError(400, "bad_request", "only SELECT queries can be explained");
    }
    // One Parquet table read: estimate the row groups its scan's filters let min/max statistics skip.
    const only = memo.analysis.tables.length === 1 && !memo.rollup
      ? this.#tables.get(memo.analysis.tables[0]!)
      : undefined;
    const ex = await this.executor.withConnection(
      async (c) => {
        const ex = await explainQuery(c, memo.runSql, {
          analyze: opts.analyze,
          params: toValues(opts.params),
          dir: join(this.catalog.dir, ".pipes"),
        });
        if (!ex.profile || !only) return ex;
        const scans: string[] = [];
        const walk = (n: PlanNode) => {
          if (/PARQUET|READ_|TABLE_SCAN|SEQ_SCAN/.test(n.operator)) {
            for (const f of [n.details["Filters"], n.details["File Filters"]]) {
              scans.push(...(Array.isArray(f) ? f.map(String) : f ? [String(f)] : []));
            }
          }
          n.children.forEach(walk);
        };
        ex.plan.forEach(walk);
        // Parquet: the files' row-group statistics; DuckDB storage: the serving table's row groups (zone maps).
        const rowGroups =
          await (only.storage === "parquet"
            ? estimateRowGroups(c, quoteLiteral(`${join(this.catalog.dir, only.path)}/**/*.parquet`), scans, {
              hivePartitioning: !!only.partitionBy,
            })
            : estimateNativeRowGroups(c, this.catalog.relation(only), scans)).catch(() => undefined);
        if (!rowGroups) return ex;
        const line = `~${rowGroups.prunedEstimate}/${rowGroups.total} row groups pruned by ${
          only.storage === "parquet" ? "statistics" : "zone maps"
        } (estimate)`;
        const [head, ...rest] = ex.text.split("\n");
        return { ...ex, profile: { ...ex.profile, rowGroups }, text: [`${head}, ${line}`, ...rest].join("\n") };
      },
      { params: opts.params, timeoutMs: opts.timeoutMs ?? this.options.timeoutMs },
    );
    return { ...ex, rollup: memo.rollup, sql: memo.runSql };
  }

  /** Schema, rows, partitions and column statistics of a table. */
  async describe(name: string): Promise<Record<string, unknown>> {
    await this.refresh();
    const t = this.#tables.get(name);
    if (!t) {
      throw new OlapError(404, "unknown_table", `table "${name}" does not exist`, {
        hint: "GET /tables lists the tables",
      });
    }
    const key = `${name}@${t.version}`;
    const cached = this.#statsCache.get(key);
    if (cached) return cached as Record<string, unknown>;
    const v = ident(name);
    const stats = await this.executor.rows(`summarize select * from ${v}`);
    let partitions: Record<string, unknown>[] = [];
    const parquetDir = this.catalog.parquetDir(t);
    if (t.partitionBy && parquetDir) {
      partitions = await this.executor.rows(
        `select ${
          ident(t.partitionBy.name)
        } as value, count(*) as rows, count(distinct filename) as files from read_parquet(${
          quoteLiteral(`${parquetDir}/**/*.parquet`)
        }, hive_partitioning = true, filename = true) group by 1 order by 1`,
      );
    }
    // Row groups of what queries read: the Parquet files, or the DuckDB serving table.
    const rowGroups = Number(
      (await this.executor.rows(
        t.storage === "parquet"
          ? `select count(distinct (file_name, row_group_id)) as n from parquet_metadata(${
            quoteLiteral(`${parquetDir}/**/*.parquet`)
          })`
          : `select count(distinct row_group_id) as n from pragma_storage_info(${
            quoteLiteral(this.catalog.relation(t))
          })`,
      ).catch(() => [{ n: 0 }]))[0]?.n ?? 0,
    );
    const out = {
      ...t,
      rowGroups,
      partitionValues: partitions,
      columnStats: stats.map((s) => ({
        name: s.column_name,
        type: s.column_type,
        min: s.min,
        max: s.max,
        approxDistinct: s.approx_unique,
        nullPercent: s.null_percentage === null ? null : Number(s.null_percentage),
        avg: s.avg,
        std: s.std,
      })),
    };
    this.#statsCache.set(key, out);
    return out;
  }

  /** Closes the executor, the catalog's writer and Redis. */
  async close(): Promise<void> {
    await this.executor.close();
    await closePipes(join(this.catalog.dir, ".pipes"));
    await this.catalog.close();
    await this.#closeRedis?.();
  }
}

/** The managed table holding rollup `spec`. */
export function rollupTable(spec: RollupSpec): string {
  return rollupTableName(spec.name);
}

function rollupTableName(name: string): string {
  return `rollup_${name}`;
}
