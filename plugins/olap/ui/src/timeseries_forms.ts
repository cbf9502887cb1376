/**
 * The web UI's time-series actions: one form per `POST /timeseries/<route>` (the fields of its body, in the
 * route's names), the body a filled form sends, and the curl line that sends the same body. The server checks
 * the body (400 naming the field); the form only helps fill it.
 *
 * @example A gap-fill form's body and its curl line
 * ```ts
 * import { formBody, curlFor } from "./timeseries_forms.ts";
 * import assert from "node:assert/strict";
 *
 * const body = formBody("gap-fill", "sales", { time: "ts", every: "1 hour", values: ["qty"], by: [], method: "" });
 * assert.deepEqual(body, { table: "sales", time: "ts", every: "1 hour", values: ["qty"] });
 * assert.match(curlFor("http://localhost:8000/", "gap-fill", body), /^curl -s http:\/\/localhost:8000\/timeseries\/gap-fill -d '/);
 * ```
 *
 * @module
 */
import type { FieldKind } from "./chart_pick.ts";

/** The routes. */
export type TimeSeriesOp = "gap-fill" | "asof-join" | "moving" | "sessionize" | "retention" | "funnel";

/** One field of a route's body. */
export interface FormField {
  key: string;
  label: string;
  /** `column(s)` of the table (or of `right` when `ofRight`), `interval`, `enum`, `steps`, `table`, free `text`. */
  kind: "column" | "columns" | "interval" | "enum" | "steps" | "table" | "text";
  optional?: boolean;
  /** Columns of this kind are offered first and picked by default. */
  prefer?: FieldKind;
  ofRight?: boolean;
  options?: readonly string[];
  placeholder?: string;
  help?: string;
}

/** One form. */
export interface FormSpec {
  op: TimeSeriesOp;
  title: string;
  what: string;
  fields: readonly FormField[];
}

const time: FormField = { key: "time", label: "time", kind: "column", prefer: "temporal", help: "the time column" };
const user: FormField = { key: "user", label: "user", kind: "column", prefer: "nominal", help: "who acts" };
const by: FormField = {
  key: "by",
  label: "by",
  kind: "columns",
  optional: true,
  prefer: "nominal",
  help: "series keys",
};

/** The six forms, in the order the UI lists them. */
export const TIME_SERIES_FORMS: readonly FormSpec[] = [
  {
    op: "gap-fill",
    title: "Gap fill",
    what: "One row per bucket from first to last, empty buckets filled (last value or linear).",
    fields: [
      time,
      { key: "every", label: "every", kind: "interval", placeholder: "1 hour" },
      { key: "values", label: "values", kind: "columns", prefer: "quantitative" },
      by,
      { key: "method", label: "method", kind: "enum", optional: true, options: ["locf", "linear"] },
      { key: "agg", label: "agg", kind: "enum", optional: true, options: ["avg", "sum", "min", "max", "last"] },
    ],
  },
  {
    op: "moving",
    title: "Moving aggregate",
    what: "Adds an aggregate over a time window back from each row.",
    fields: [
      time,
      { key: "value", label: "value", kind: "column", prefer: "quantitative" },
      { key: "window", label: "window", kind: "interval", placeholder: "7 days" },
      {
        key: "agg",
        label: "agg",
        kind: "enum",
        optional: true,
        options: ["avg", "sum", "min", "max", "count", "stddev"],
      },
      by,
      { key: "as", label: "as", kind: "text", optional: true, placeholder: "avg_value", help: "output column" },
    ],
  },
  {
    op: "asof-join",
    title: "ASOF join",
    what: "Each row with the latest row of another table at or before its time.",
    fields: [
      { key: "right", label: "right", kind: "table", help: "the table to look up" },
      time,
      { key: "rightTime", label: "right time", kind: "column", optional: true, prefer: "temporal", ofRight: true },
      { key: "columns", label: "columns", kind: "columns", ofRight: true, prefer: "quantitative" },
      by,
    ],
  },
  {
    op: "sessionize",
    title: "Sessionize",
    what: "Numbers each user's sessions: a new one after a gap of inactivity.",
    fields: [user, time, { key: "gap", label: "gap", kind: "interval", placeholder: "30 minutes" }],
  },
  {
    op: "retention",
    title: "Retention",
    what: "Cohorts by first period, and the share still active each period after.",
    fields: [user, time, { key: "period", label: "period", kind: "enum", options: ["day", "week", "month"] }],
  },
  {
    op: "funnel",
    title: "Funnel",
    what: "Users reaching each step after the previous one, and the conversion.",
    fields: [
      user,
      time,
      { key: "event", label: "event", kind: "column", prefer: "nominal" },
      { key: "steps", label: "steps", kind: "steps", placeholder: "view, cart, buy", help: "event names, in order" },
      { key: "within", label: "within", kind: "interval", optional: true, placeholder: "1 day" },
    ],
  },
];

/** The form of `op`. */
export function formOf(op: TimeSeriesOp): FormSpec {
  return TIME_SERIES_FORMS.find((f) => f.op === op)!;
}

/** A form's values: a string per field, a list for `columns`. */
export type FormValues = Record<string, string | readonly string[]>;

/** The body `POST /timeseries/<op>` gets for `values` over `table`: empty optional fields left out. */
export function formBody(op: TimeSeriesOp, table: string, values: FormValues): Record<string, unknown> {
  const body: Record<string, unknown> = { table };
  for (const f of formOf(op).fields) {
    const v = values[f.key];
    if (f.kind === "columns") {
      const list = Array.isArray(v) ? v : typeof v === "string" && v ? [v] : [];
      if (list.length || !f.optional) body[f.key] = list;
    } else if (f.kind === "steps") {
      body[f.key] = String(v ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    } else {
      const s = typeof v === "string" ? v.trim() : "";
      if (s || !f.optional) body[f.key] = s;
    }
  }
  return body;
}

/** The shell line that sends `body` to the route on `base` (a URL ending in `/`). */
export function curlFor(base: string, op: TimeSeriesOp, body: Record<string, unknown>): string {
  return `curl -s ${base}timeseries/${op} -d '${JSON.stringify(body).replace(/'/g, "'\\''")}'`;
}
