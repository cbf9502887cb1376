/**
 * Time-series helpers. Scalar macros registered on every query connection
 * (`ts_bucket`, `ts_floor`, `ts_lerp`), and SQL builders for the table-shaped
 * operations — gap filling (LOCF or linear interpolation), ASOF joins, moving
 * aggregates over time ranges, sessionisation, retention cohorts and funnels.
 * Each builder returns one `SELECT` over a relation (a table name or a
 * parenthesised subquery) that runs anywhere a query runs: through
 * `POST /query`, the library, or as a subquery of a larger query.
 *
 * @example Fill gaps in an hourly series by linear interpolation
 * ```ts
 * import { gapFill, TIME_SERIES_MACROS } from "@mercury/olap";
 * import { DuckDBInstance } from "@duckdb/node-api";
 * import assert from "node:assert/strict";
 *
 * const c = await (await DuckDBInstance.create()).connect();
 * for (const m of TIME_SERIES_MACROS) await c.run(m);
 * await c.run("create table s as select * from (values (timestamp '2024-01-01 00:00', 1.0), (timestamp '2024-01-01 03:00', 4.0)) t(ts, v)");
 * const sql = gapFill({ from: "s", time: "ts", every: "1 hour", values: ["v"], method: "linear" });
 * const rows = (await c.runAndReadAll(sql)).getRowObjectsJS();
 * assert.deepEqual(rows.map((r) => r.v), [1, 2, 3, 4]);
 * c.closeSync();
 * ```
 *
 * @module
 */
import { quoteIdent as ident, quoteLiteral as lit } from "@mercury/core/sql";

/** Scalar macros created on the query engine. */
export const TIME_SERIES_MACROS: readonly string[] = [
  // Start of the bucket of width `width` holding `ts` (epoch-aligned), e.g. ts_bucket(interval 15 minute, ts).
  `create or replace macro ts_bucket(width, ts) as time_bucket(width, ts)`,
  // Floor to a named unit: ts_floor('hour', ts).
  `create or replace macro ts_floor(unit, ts) as date_trunc(unit, ts)`,
  // Linear interpolation between (t0, v0) and (t1, v1) at t.
  `create or replace macro ts_lerp(t, t0, v0, t1, v1) as
     case when t1 = t0 then v0
          else v0 + (v1 - v0) * (epoch(t) - epoch(t0)) / (epoch(t1) - epoch(t0)) end`,
];

const cols = (xs: readonly string[]) => xs.map(ident).join(", ");
const rel = (from: string) => (/^\s*\(/.test(from) ? `${from} as src` : `${ident(from)} as src`);

/** Options of {@linkcode gapFill}. */
export interface GapFillOptions {
  /** A table name or a parenthesised subquery. */
  from: string;
  time: string;
  /** Bucket width, e.g. `1 hour`. */
  every: string;
  values: readonly string[];
  /** Series keys; each gets its own grid. */
  by?: readonly string[];
  /** `locf` (last observation carried forward, default) or `linear`. */
  method?: "locf" | "linear";
  /** Aggregate for several points in one bucket (default avg). */
  agg?: "avg" | "sum" | "min" | "max" | "last";
  /**
   * Most buckets the grid may hold over all series (default {@linkcode GAP_FILL_MAX_POINTS}); a larger grid is an
   * error naming `every` before any bucket is made (a tiny table with a tiny `every` would otherwise make billions).
   */
  maxPoints?: number;
}

/** The default bound on a gap fill's grid: 1,000,000 buckets. */
export const GAP_FILL_MAX_POINTS = 1_000_000;

/** One row per series per bucket from each series' first to last bucket; empty buckets filled. */
export function gapFill(o: GapFillOptions): string {
  const by = o.by ?? [];
  const t = ident(o.time);
  const w = `interval '${o.every.replace(/'/g, "")}'`;
  const agg = o.agg ?? "avg";
  const max = Math.floor(o.maxPoints ?? GAP_FILL_MAX_POINTS);
  const part = by.length ? `partition by ${by.map((k) => `g.${ident(k)}`).join(", ")}` : "";
  const byList = by.length ? `${cols(by)}, ` : "";
  const aggOf = (v: string) => agg === "last" ? `arg_max(${ident(v)}, ${t})` : `${agg}(${ident(v)})`;
  const filled = o.values.map((v) => {
    const c = ident(v);
    if ((o.method ?? "locf") === "locf") {
      return `coalesce(b.${c}, last_value(b.${c} ignore nulls) over (${part} order by g.bucket rows between unbounded preceding and current row)) as ${c}`;
    }
    const prevV =
      `last_value(b.${c} ignore nulls) over (${part} order by g.bucket rows between unbounded preceding and current row)`;
    const prevT =
      `last_value(case when b.${c} is not null then g.bucket end ignore nulls) over (${part} order by g.bucket rows between unbounded preceding and current row)`;
    const nextV =
      `first_value(b.${c} ignore nulls) over (${part} order by g.bucket rows between current row and unbounded following)`;
    const nextT =
      `first_value(case when b.${c} is not null then g.bucket end ignore nulls) over (${part} order by g.bucket rows between current row and unbounded following)`;
    return `coalesce(b.${c}, ts_lerp(g.bucket, ${prevT}, ${prevV}, ${nextT}, ${nextV}), ${prevV}) as ${c}`;
  });
  const joinOn = ["g.bucket = b.bucket", ...by.map((k) => `g.${ident(k)} is not distinct from b.${ident(k)}`)].join(
    " and ",
  );
  return `with b as (
  select ${byList}time_bucket(${w}, ${t}) as bucket, ${o.values.map((v) => `${aggOf(v)} as ${ident(v)}`).join(", ")}
  from ${rel(o.from)} group by all
), span as (
  select *, sum((epoch(hi) - epoch(lo)) / epoch(${w}) + 1) over () as points from (
    select ${byList}min(bucket) as lo, max(bucket) as hi from b ${by.length ? `group by ${cols(by)}` : ""}
  )
), g as (
  select ${byList}unnest(generate_series(lo, case when points > ${max} then error(${
    lit(
      `every: a gap fill of ${o.every} over this data makes more than ${max} buckets; use a wider interval or a smaller table`,
    )
  }) else hi end, ${w})) as bucket from span
)
select ${by.map((k) => `g.${ident(k)}`).join(", ")}${by.length ? ", " : ""}g.bucket as ${t}, ${filled.join(", ")}
from g left join b on ${joinOn}
order by ${by.map((k) => `g.${ident(k)}`).join(", ")}${by.length ? ", " : ""}g.bucket`;
}

/** Options of {@linkcode asofJoin}. */
export interface AsofJoinOptions {
  left: string;
  right: string;
  /** Time columns on each side. */
  leftTime: string;
  rightTime: string;
  /** Equality keys (same name on both sides). */
  by?: readonly string[];
  /** Right-hand columns to bring over. */
  columns: readonly string[];
}

/** Each left row with the latest right row at or before its time (DuckDB `ASOF JOIN`). */
export function asofJoin(o: AsofJoinOptions): string {
  const l = /^\s*\(/.test(o.left) ? `${o.left} as l` : `${ident(o.left)} as l`;
  const r = /^\s*\(/.test(o.right) ? `${o.right} as r` : `${ident(o.right)} as r`;
  const on = [
    ...(o.by ?? []).map((k) => `l.${ident(k)} = r.${ident(k)}`),
    `l.${ident(o.leftTime)} >= r.${ident(o.rightTime)}`,
  ]
    .join(" and ");
  return `select l.*, ${o.columns.map((c) => `r.${ident(c)}`).join(", ")} from ${l} asof left join ${r} on ${on}`;
}

/** Options of {@linkcode movingAggregate}. */
export interface MovingOptions {
  from: string;
  time: string;
  value: string;
  /** Window length back from each row, e.g. `7 days`. */
  window: string;
  agg?: "avg" | "sum" | "min" | "max" | "count" | "stddev";
  by?: readonly string[];
  /** Output column (default `<agg>_<value>`). */
  as?: string;
}

/** Adds a moving aggregate over a time range (`RANGE BETWEEN INTERVAL … PRECEDING AND CURRENT ROW`). */
export function movingAggregate(o: MovingOptions): string {
  const agg = o.agg ?? "avg";
  const out = o.as ?? `${agg}_${o.value}`;
  const part = o.by?.length ? `partition by ${cols(o.by)} ` : "";
  return `select *, ${agg}(${ident(o.value)}) over (${part}order by ${ident(o.time)} range between interval '${
    o.window.replace(/'/g, "")
  }' preceding and current row) as ${ident(out)} from ${rel(o.from)} order by ${o.by?.length ? cols(o.by) + ", " : ""}${
    ident(o.time)
  }`;
}

/** Options of {@linkcode sessionize}. */
export interface SessionOptions {
  from: string;
  user: string;
  time: string;
  /** Inactivity that ends a session, e.g. `30 minutes`. */
  gap: string;
}

/** Adds `session_id` (1, 2… per user) and `session_start`: a new session after `gap` of inactivity. */
export function sessionize(o: SessionOptions): string {
  const u = ident(o.user), t = ident(o.time);
  return `with marked as (
  select *, case when lag(${t}) over (partition by ${u} order by ${t}) is null
    or ${t} - lag(${t}) over (partition by ${u} order by ${t}) > interval '${
    o.gap.replace(/'/g, "")
  }' then 1 else 0 end as __new
  from ${rel(o.from)}
), numbered as (
  select *, sum(__new) over (partition by ${u} order by ${t} rows between unbounded preceding and current row) as session_id
  from marked
)
select * exclude (__new), min(${t}) over (partition by ${u}, session_id) as session_start from numbered order by ${u}, ${t}`;
}

/** Options of {@linkcode retention}. */
export interface RetentionOptions {
  from: string;
  user: string;
  time: string;
  /** Cohort and period grain: `day`, `week` or `month`. */
  period: "day" | "week" | "month";
}

/** Cohort retention: users active `period_offset` periods after their first period, and the share of the cohort. */
export function retention(o: RetentionOptions): string {
  const u = ident(o.user), t = ident(o.time);
  const diff = `date_diff('${o.period}', f.cohort, a.period)`;
  return `with a as (
  select distinct ${u} as u, date_trunc('${o.period}', ${t}) as period from ${rel(o.from)}
), f as (
  select u, min(period) as cohort from a group by u
), c as (
  select f.cohort, ${diff} as period_offset, count(distinct a.u) as users
  from a join f using (u) group by all
)
select cohort, period_offset, users,
  users / first_value(users) over (partition by cohort order by period_offset) as share
from c order by cohort, period_offset`;
}

/** Options of {@linkcode funnel}. */
export interface FunnelOptions {
  from: string;
  user: string;
  time: string;
  /** Column naming the event. */
  event: string;
  /** Event names, in order. */
  steps: readonly string[];
  /** Each step must happen within this time of the first step (default unbounded). */
  within?: string;
}

/** Ordered funnel: users reaching each step after the previous one (and within `within` of step 1). */
export function funnel(o: FunnelOptions): string {
  const u = ident(o.user), t = ident(o.time), e = ident(o.event);
  const parts: string[] = [
    `s1 as (select ${u} as u, min(${t}) as t, min(${t}) as t0 from ${rel(o.from)} where ${e} = ${
      lit(o.steps[0]!)
    } group by ${u})`,
  ];
  for (let i = 1; i < o.steps.length; i++) {
    const within = o.within ? ` and x.${t} <= p.t0 + interval '${o.within.replace(/'/g, "")}'` : "";
    parts.push(
      `s${i + 1} as (select p.u, min(x.${t}) as t, p.t0 from s${i} p join ${
        rel(o.from).replace(/ as src$/, " as x")
      } on x.${u} = p.u and x.${e} = ${lit(o.steps[i]!)} and x.${t} >= p.t${within} group by p.u, p.t0)`,
    );
  }
  const union = o.steps.map((s, i) => `select ${i + 1} as step, ${lit(s)} as event, count(*) as users from s${i + 1}`)
    .join(" union all ");
  return `with ${parts.join(", ")}
select step, event, users, users / first_value(users) over (order by step) as conversion from (${union}) order by step`;
}
