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
 * Tables and columns are names (quoted as identifiers), intervals are `<number> <unit>`: a body is checked by
 * zod, and a bad field is a 400 naming it. An unknown table is a 404, an unknown column a 400 from DuckDB's binder.
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
const name = (what: string) =>
  z.string(err(`must be a ${what} name`)).regex(/^[^(\s]/, err(`must be a ${what} name, not a subquery`)).max(
    256,
    err(`must be a ${what} name of at most 256 characters`),
  );
const names = (what: string, min = 1) =>
  z.array(name(what), err(`must be a list of ${what} names`)).min(min, err(`must list at least ${min} ${what}s`));
const INTERVAL = /^\d+(\.\d+)? ?(microsecond|millisecond|second|minute|hour|day|week|month|year)s?$/i;
const interval = (example: string) =>
  z.string(err(`must be an interval such as "${example}"`)).regex(
    INTERVAL,
    err(`must be an interval such as "${example}" (a number and a unit)`),
  );
const common = {
  table: name("table"),
  format: z.unknown().optional(),
  limit: z.number(err("must be a non-negative integer")).int(err("must be a non-negative integer")).min(
    0,
    err("must be a non-negative integer"),
  ).optional(),
  offset: z.number(err("must be a non-negative integer")).int(err("must be a non-negative integer")).min(
    0,
    err("must be a non-negative integer"),
  ).optional(),
};
const AGGS = ["avg", "sum", "min", "max", "count", "stddev"] as const;
const enumOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, err(`must be one of ${values.join(", ")}`));

/** The bodies of the time-series routes. */
export const timeSeriesBodies = {
  "gap-fill": z.object({
    ...common,
    time: name("column"),
    every: interval("1 hour"),
    values: names("column"),
    by: names("column", 0).optional(),
    method: enumOf(["locf", "linear"]).optional(),
    agg: enumOf(["avg", "sum", "min", "max", "last"]).optional(),
  }),
  "asof-join": z.object({
    ...common,
    right: name("table"),
    time: name("column"),
    rightTime: name("column").optional(),
    columns: names("column"),
    by: names("column", 0).optional(),
  }),
  moving: z.object({
    ...common,
    time: name("column"),
    value: name("column"),
    window: interval("7 days"),
    agg: enumOf(AGGS).optional(),
    by: names("column", 0).optional(),
    as: name("column").optional(),
  }),
  sessionize: z.object({ ...common, user: name("column"), time: name("column"), gap: interval("30 minutes") }),
  retention: z.object({
    ...common,
    user: name("column"),
    time: name("column"),
    period: enumOf(["day", "week", "month"]),
  }),
  funnel: z.object({
    ...common,
    user: name("column"),
    time: name("column"),
    event: name("column"),
    steps: z.array(z.string(err("must be a list of event names")), err("must be a list of event names")).min(
      2,
      err("must list at least 2 steps"),
    ),
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
  }
  return app;
}
