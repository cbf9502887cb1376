/**
 * `materialize --engine spark` (the seed's `spark-submit
 * materialize_features.py --mode batch`): the latest row per entity of a
 * view's window computed as Spark SQL on the cluster, over the view's
 * date-partitioned offline Parquet, through the Spark Connect client of
 * `@mercury/spark`. It answers {@linkcode LatestEngine}: the same window
 * (`[start, end)` on the event time, UTC), the same winner (latest event
 * time, then latest created time, nulls last), the same entity key text and
 * order, and the same JSON payload (timestamps as epoch milliseconds, null
 * values kept) as the DuckDB path, so `materialize()` writes, expires and
 * records progress exactly as it does for DuckDB. The view's offline Parquet
 * itself and the run's quality statistics are still computed by DuckDB.
 *
 * Loaded on demand by the `materialize` command: the features manifest and
 * `@mercury/features` do not import the Spark client.
 *
 * @example Materialise a view on Spark
 * ```ts ignore
 * import { SparkLatest } from "@mercury/features/materialize_spark";
 *
 * await using engine = await SparkLatest.connect();
 * await fs.materialize(["card_tx_stats"], { engine });
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { SparkError, SparkSession } from "@mercury/spark";
import type { FeatureView } from "./definitions.ts";
import type { LatestEngine, LatestQuery, LatestRow } from "./materialize.ts";

/** A Spark SQL identifier in backticks. */
const sid = (name: string) => `\`${name.replaceAll("`", "``")}\``;
/** A Spark SQL string literal (Spark reads backslash escapes in literals). */
const slit = (s: string) => `'${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;

/** The Spark SQL of `entityKeySql`: the key as text, parts escaped (`\` → `\\`, `|` → `\|`) and joined by `|`. */
export function entityKeySparkSql(keys: readonly string[]): string {
  const text = (c: string) => `cast(${sid(c)} as string)`;
  if (keys.length === 1) return text(keys[0]!);
  const escaped = (c: string) => `replace(replace(${text(c)}, ${slit("\\")}, ${slit("\\\\")}), '|', ${slit("\\|")})`;
  // `||` is NULL when any part is NULL, as in DuckDB (concat_ws would skip it).
  return keys.map(escaped).join(" || '|' || ");
}

/** The Spark SQL that gives a window's latest row per entity, ordered by key text (nulls last), from `offset`. */
export function latestSparkSql(view: FeatureView, keys: readonly string[], from: string, offset: number): string {
  const value = (f: FeatureView["features"][number]) =>
    f.type === "timestamp" ? `unix_millis(cast(${sid(f.name)} as timestamp))` : sid(f.name);
  const payload = `to_json(named_struct(${
    view.features.map((f) => `${slit(f.name)}, ${value(f)}`).join(", ")
  }), map('ignoreNullFields', 'false'))`;
  return `select ${entityKeySparkSql(keys)} as __key, unix_millis(cast(event_timestamp as timestamp)) as __ts,
      coalesce(unix_millis(cast(created_timestamp as timestamp)), 0) as __cr, ${payload} as __v
    from (select *, row_number() over (partition by ${keys.map(sid).join(", ")}
        order by event_timestamp desc, created_timestamp desc nulls last) as __rn
      from ${from}) as w
    where __rn = 1
    order by __key asc nulls last
    offset ${offset}`;
}

/** Options of {@linkcode SparkLatest.connect}. */
export interface SparkLatestOptions {
  /** `sc://host:port` (default: MERCURY_SPARK_REMOTE, then `.mercury/services.json`, then `sc://127.0.0.1:55002`). */
  remote?: string;
  /** Wait this long for Spark to answer the connection (default 10 s). */
  connectTimeoutMs?: number;
  /** Deadline of each Spark operation in ms (default none). */
  timeoutMs?: number;
}

/** The Spark engine of `materialize()`: one Spark Connect session, UTC session time zone. */
export class SparkLatest implements LatestEngine {
  readonly name = "spark";
  readonly session: SparkSession;
  #timeoutMs: number | undefined;

  private constructor(session: SparkSession, timeoutMs?: number) {
    this.session = session;
    this.#timeoutMs = timeoutMs;
  }

  /** Connects; Spark not answering is one line naming the service and how to start it. */
  static async connect(options: SparkLatestOptions = {}): Promise<SparkLatest> {
    try {
      const session = await SparkSession.connect({
        remote: options.remote,
        connectTimeoutMs: options.connectTimeoutMs,
      });
      await session.setConf({ "spark.sql.session.timeZone": "UTC" });
      return new SparkLatest(session, options.timeoutMs);
    } catch (err) {
      if (err instanceof SparkError && err.code === "unavailable") {
        throw new MercuryError(
          "unavailable",
          `materialize --engine spark: the spark service is not answering at ${err.where ?? "its address"}`,
          {
            where: "service spark",
            hint: "start it with `deno task services up spark` (or set MERCURY_SPARK_REMOTE), or use --engine duckdb",
            cause: err,
          },
        );
      }
      throw err;
    }
  }

  async latest(
    q: LatestQuery,
  ): Promise<{ rows: number; keys: number; values: AsyncIterable<LatestRow> | Iterable<LatestRow> }> {
    const o = { timeoutMs: this.#timeoutMs, tags: ["mercury-features-materialize"] };
    const view = `__mat_${q.view.name.replace(/[^A-Za-z0-9_]/g, "_")}`;
    // Epoch microseconds compare exactly with the window's millisecond bounds (no time zone involved).
    const window = `unix_micros(cast(event_timestamp as timestamp)) >= ${q.start.getTime() * 1000}
      and unix_micros(cast(event_timestamp as timestamp)) < ${q.end.getTime() * 1000}`;
    const src = this.session.read.option("mergeSchema", "true").parquet(q.dir);
    await src.filter(window).createOrReplaceTempView(view);
    const distinct = q.keys.length === 1 ? sid(q.keys[0]!) : `struct(${q.keys.map(sid).join(", ")})`;
    const counts = await (await this.session.sql(
      `select count(*) as n, count(distinct ${distinct}) as k from ${view}`,
      undefined,
      o,
    )).toArrow(o);
    const rows = Number(counts.getChild("n")!.get(0));
    const keys = Number(counts.getChild("k")!.get(0));
    const table = await (await this.session.sql(latestSparkSql(q.view, q.keys, view, q.offset), undefined, o))
      .toArrow(o);
    await this.session.sql(`drop view if exists ${view}`);
    const [key, ts, cr, v] = ["__key", "__ts", "__cr", "__v"].map((n) => table.getChild(n)!);
    const values = function* (): Generator<LatestRow> {
      for (let i = 0; i < table.numRows; i++) {
        const k = key!.get(i) as string | null;
        yield {
          key: k,
          eventMs: Number(ts!.get(i)),
          createdMs: Number(cr!.get(i)),
          payload: String(v!.get(i)),
        };
      }
    };
    return { rows, keys, values: values() };
  }

  async close(): Promise<void> {
    await this.session.close().catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
