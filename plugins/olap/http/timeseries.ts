/**
 * Time-series routes: the builders of `timeseries.ts` over a catalog table, answered like `POST /query`
 * (`format` json by default, or ndjson, csv, parquet, arrow, xlsx; `limit`, `offset`). Read-only.
 *
 * | route | body (besides `table`, `format`, `limit`, `offset`) |
 * | --- | --- |
 * | `POST /timeseries/gap-fill` | `time`, `every` ("1 hour"), `values`, `by?`, `method?` (locf, linear), `agg?` |
 * | `POST /timeseries/asof-join` | `right`, `time`, `rightTime?`, `columns`, `by?` |
 * | `POST /timeseries/moving` | `time`, `value`, `window` ("7 days"), `agg?`, `by?`, `as?` |
 * | `POST /timeseries/sessionize` | `user`, `time`, `gap` ("30 minutes") |
 * | `POST /timeseries/retention` | `user`, `time`, `period` (day, week, month) |
 * | `POST /timeseries/funnel` | `user`, `time`, `event`, `steps` (2 or more), `within?` |
 *
 * `POST /timeseries/<route>/sql` takes the same body (checked the same way) and answers `{sql}`: the query the route
 * runs, without running it.
 *
 * Tables and columns are names (quoted as identifiers), at most 64 a list (32 funnel steps), intervals are
 * `<number> <unit>` up to 1,000 years: a body is checked by zod, and a bad or unknown field is a 400 naming it. A
 * gap fill that would make more than a million buckets is refused (400 naming `every`) before it is built. An unknown table is a 404, an unknown column a 400 from DuckDB's binder.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import { parseFormat } from "../formats.ts";
import { asofJoin, funnel, gapFill, movingAggregate, retention, sessionize } from "../timeseries.ts";
import { jsonBody } from "./body.ts";
import type { ApiEnv, ApiState } from "./context.ts";

const err = (message: string) => ({ error: message });
/** Most columns a list field (`values`, `columns`, `by`) may name, and most funnel steps. */
export const MAX_TS_COLUMNS = 64;
export const MAX_FUNNEL_STEPS = 32;
const name = (what: string) =>
  z.string(err(`must be a ${what} name`)).regex(/^[^(\s]/, err(`must be a ${what} name, not a subquery`)).max(
    256,
    err(`must be a ${what} name of at most 256 characters`),
  );
const names = (what: string, min = 1) =>
  z.array(name(what), err(`must be a list of ${what} names`)).min(min, err(`must list at least ${min} ${what}s`))
    .max(MAX_TS_COLUMNS, err(`must list at most ${MAX_TS_COLUMNS} ${what}s`));
const INTERVAL = /^(\d+(?:\.\d+)?) ?(microsecond|millisecond|second|minute|hour|day|week|month|year)s?$/i;
const UNIT_SECONDS: Record<string, number> = {
  microsecond: 1e-6,
  millisecond: 1e-3,
  second: 1,
  minute: 60,
  hour: 3600,
  day: 86_400,
  week: 604_800,
  month: 2_592_000,
  year: 31_536_000,
};
/** The longest interval a body may name: 1,000 years (DuckDB's interval fields overflow not far past 10^5 years). */
const MAX_INTERVAL_SECONDS = 1000 * 31_536_000;
/** An interval's length in seconds (months of 30 days), or NaN when it is not `<number> <unit>`. */
function intervalSeconds(text: string): number {
  const m = INTERVAL.exec(text);
  return m ? Number(m[1]) * UNIT_SECONDS[m[2]!.toLowerCase()]! : NaN;
}
/** `<number> <unit>`, at most 1,000 years; `positive` ones at least one microsecond. */
const interval = (example: string, positive = false) =>
  z.string(err(`must be an interval such as "${example}"`)).regex(
    INTERVAL,
    err(`must be an interval such as "${example}" (a number and a unit)`),
  ).refine(
    (v) => intervalSeconds(v) <= MAX_INTERVAL_SECONDS && (!positive || intervalSeconds(v) >= 1e-6),
    err(`must be an interval ${positive ? "from 1 microsecond " : ""}up to 1000 years, such as "${example}"`),
  );
const count = z.number(err("must be a non-negative integer")).int(err("must be a non-negative integer")).min(
  0,
  err("must be a non-negative integer"),
).max(Number.MAX_SAFE_INTEGER, err("must be a non-negative integer of at most 2^53 - 1")).optional();
const common = {
  table: name("table"),
  format: z.unknown().optional(),
  limit: count,
  offset: count,
};
const AGGS = ["avg", "sum", "min", "max", "count", "stddev"] as const;
const enumOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, err(`must be one of ${values.join(", ")}`));
/** Unknown fields are refused (400 naming the field), so a misspelt option is never silently ignored. */
const body = <S extends z.ZodRawShape>(shape: S) => z.strictObject(shape);

/** The bodies of the time-series routes. */
export const timeSeriesBodies = {
  "gap-fill": body({
    ...common,
    time: name("column"),
    every: interval("1 hour", true),
    values: names("column"),
    by: names("column", 0).optional(),
    method: enumOf(["locf", "linear"]).optional(),
    agg: enumOf(["avg", "sum", "min", "max", "last"]).optional(),
  }),
  "asof-join": body({
    ...common,
    right: name("table"),
    time: name("column"),
    rightTime: name("column").optional(),
    columns: names("column"),
    by: names("column", 0).optional(),
  }),
  moving: body({
    ...common,
    time: name("column"),
    value: name("column"),
    window: interval("7 days"),
    agg: enumOf(AGGS).optional(),
    by: names("column", 0).optional(),
    as: name("column").optional(),
  }),
  sessionize: body({ ...common, user: name("column"), time: name("column"), gap: interval("30 minutes") }),
  retention: body({
    ...common,
    user: name("column"),
    time: name("column"),
    period: enumOf(["day", "week", "month"]),
  }),
  funnel: body({
    ...common,
    user: name("column"),
    time: name("column"),
    event: name("column"),
    steps: z.array(z.string(err("must be an event name")), err("must be a list of event names")).min(
      2,
      err("must list at least 2 steps"),
    ).max(MAX_FUNNEL_STEPS, err(`must list at most ${MAX_FUNNEL_STEPS} steps`)),
    within: interval("1 day").optional(),
  }),
} as const;

type Bodies = typeof timeSeriesBodies;
type Op = keyof Bodies;

/** The SQL a time-series route runs for a checked body. */
export function timeSeriesSql(op: Op, body: unknown): string {
  const as = <O extends Op>(_o: O) => body as z.output<Bodies[O]>;
  switch (op) {
    case "gap-fill": {
      const o = as(op);
      return gapFill({ ...o, from: o.table });
    }
    case "asof-join": {
      const o = as(op);
      return asofJoin({ ...o, left: o.table, leftTime: o.time, rightTime: o.rightTime ?? o.time });
    }
    case "moving": {
      const o = as(op);
      return movingAggregate({ ...o, from: o.table });
    }
    case "sessionize": {
      const o = as(op);
      return sessionize({ ...o, from: o.table });
    }
    case "retention": {
      const o = as(op);
      return retention({ ...o, from: o.table });
    }
    case "funnel": {
      const o = as(op);
      return funnel({ ...o, from: o.table });
    }
  }
}

/** The time-series routes over `s`. */
export function timeSeriesRoutes(s: ApiState): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  for (const op of Object.keys(timeSeriesBodies) as Op[]) {
    app.post(`/timeseries/${op}`, jsonBody(s, timeSeriesBodies[op]), async (c) => {
      const t0 = performance.now();
      const b = c.get("body") as z.output<Bodies[Op]>;
      const format = parseFormat(b.format);
      const a = await s.olap.query(timeSeriesSql(op, b), { format, limit: b.limit, offset: b.offset });
      return new Response(a.body as BodyInit, {
        headers: {
          "content-type": a.contentType,
          "x-olap-cache": a.cache,
          "x-olap-ms": (performance.now() - t0).toFixed(2),
        },
      });
    });
    // The SQL the route above runs, so a client (the web UI's "open as SQL") can page, chart, export or edit it.
    app.post(
      `/timeseries/${op}/sql`,
      jsonBody(s, timeSeriesBodies[op]),
      (c) => Response.json({ sql: timeSeriesSql(op, c.get("body")) }),
    );
  }
  return app;
}
