/**
 * Time as instants. Everything the offline store compares is an instant: a
 * point on the UTC time line, kept in DuckDB as a `TIMESTAMP` holding UTC
 * wall-clock time (so `epoch_ms()` of it is the instant's epoch milliseconds).
 * Whatever a timestamp arrives as — a string with an offset
 * (`2024-03-01T12:00:00+02:00`), a `Date`, epoch milliseconds, a
 * `TIMESTAMPTZ` column of Parquet, CSV or PostgreSQL — it is turned into that
 * form without looking at the machine's time zone. A timestamp without an
 * offset (a naive `TIMESTAMP`, `"2024-03-01 12:00:00"`) is read as UTC.
 *
 * DuckDB's own casts are not enough: `'…+02:00'::TIMESTAMP` drops the offset,
 * and `TIMESTAMPTZ → TIMESTAMP` converts to the session's time zone, which
 * defaults to the machine's (`TZ`). So the store sets the session to UTC and
 * converts with {@linkcode instantSql}, which uses `timezone('UTC', …)`.
 *
 * @module
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { MercuryError } from "@mercury/core";

/**
 * Sets the DuckDB session's `TimeZone` to UTC, so that a string without an
 * offset cast to `TIMESTAMPTZ` is read as UTC and nothing depends on `TZ`.
 *
 * @example Naive strings are UTC afterwards
 * ```ts
 * import { openDuckDB } from "@mercury/core/services/duckdb";
 * import { useUtc } from "@mercury/features/instant";
 * import assert from "node:assert/strict";
 *
 * const db = await openDuckDB();
 * await useUtc(db.connection);
 * const r = await db.connection.runAndReadAll("select epoch_ms('2024-03-01 12:00:00'::TIMESTAMPTZ) as ms");
 * assert.equal(Number(r.getRowObjects()[0]!.ms), Date.parse("2024-03-01T12:00:00Z"));
 * db.close();
 * ```
 */
export async function useUtc(c: DuckDBConnection): Promise<void> {
  await c.run("set TimeZone = 'UTC'");
}

/**
 * A SQL expression turning `col`, of DuckDB type `duckType` (as `describe`
 * names it), into an instant: a `TIMESTAMP` in UTC. `TIMESTAMPTZ` is converted
 * with `timezone('UTC', …)`; text is parsed as `TIMESTAMPTZ` (its offset kept,
 * none meaning UTC under {@linkcode useUtc}); integers and floats are epoch
 * milliseconds; naive timestamps and dates are taken as UTC.
 *
 * @example
 * ```ts
 * import { instantSql } from "@mercury/features/instant";
 * import assert from "node:assert/strict";
 *
 * assert.equal(instantSql('"ts"', "TIMESTAMP WITH TIME ZONE"), `timezone('UTC', "ts")`);
 * assert.equal(instantSql('"ts"', "TIMESTAMP"), `cast("ts" as TIMESTAMP)`);
 * ```
 */
export function instantSql(col: string, duckType: string): string {
  const t = duckType.toUpperCase().replace(/\(.*\)$/, "").trim();
  if (t === "TIMESTAMPTZ" || t === "TIMESTAMP WITH TIME ZONE") return `timezone('UTC', ${col})`;
  if (t === "VARCHAR" || t === "JSON") return `timezone('UTC', cast(${col} as TIMESTAMPTZ))`;
  if (/^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|HUGEINT|UHUGEINT)$/.test(t)) return `epoch_ms(cast(${col} as BIGINT))`;
  if (t === "DOUBLE" || t === "FLOAT" || t === "REAL" || t === "DECIMAL") {
    return `epoch_ms(cast(round(${col}) as BIGINT))`;
  }
  return `cast(${col} as TIMESTAMP)`;
}

/**
 * A SQL literal of the instant `d`: `TIMESTAMP '2024-03-01 10:00:00.000'` (UTC).
 *
 * @example
 * ```ts
 * import { instantLiteral } from "@mercury/features/instant";
 * import assert from "node:assert/strict";
 *
 * assert.equal(instantLiteral(new Date("2024-03-01T12:00:00+02:00")), "TIMESTAMP '2024-03-01 10:00:00.000'");
 * ```
 */
export function instantLiteral(d: Date): string {
  const iso = toInstantString(d, "instant");
  if (iso === null) throw new MercuryError("input", "a time bound is missing", { where: "instant" });
  return `TIMESTAMP '${iso.slice(0, 10)} ${iso.slice(11, 23)}'`;
}

/**
 * A JS timestamp (`Date`, epoch milliseconds, a string) as text DuckDB parses
 * into the same instant: `Date`s and numbers become ISO strings in UTC
 * (`…Z`); strings are kept (an offset in them is honoured, none means UTC);
 * `null`/`undefined` stay `null`. Anything else, an invalid `Date` or a
 * non-finite number is an `input` MercuryError naming `where`.
 *
 * @example
 * ```ts
 * import { toInstantString } from "@mercury/features/instant";
 * import assert from "node:assert/strict";
 *
 * assert.equal(toInstantString(0, "row 0"), "1970-01-01T00:00:00.000Z");
 * assert.equal(toInstantString("2024-03-01T12:00:00-05:00", "row 1"), "2024-03-01T12:00:00-05:00");
 * assert.throws(() => toInstantString(new Date(NaN), "row 2"), /row 2/);
 * ```
 */
export function toInstantString(v: unknown, where: string): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "string") return v;
  let ms: number;
  if (v instanceof Date) ms = v.getTime();
  else if (typeof v === "number") ms = v;
  else if (typeof v === "bigint") ms = Number(v);
  else {
    throw new MercuryError("input", `${where} is not a timestamp (${typeof v})`, {
      where,
      hint: "give an ISO string (an offset is honoured, none means UTC), a Date or epoch milliseconds",
    });
  }
  const d = new Date(ms);
  if (!Number.isFinite(ms) || Number.isNaN(d.getTime())) {
    throw new MercuryError("input", `${where} is not a valid time (${String(v)})`, {
      where,
      hint: "give an ISO string (an offset is honoured, none means UTC), a Date or epoch milliseconds",
    });
  }
  return d.toISOString();
}

const ISO_TEXT =
  /^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?\s*$/i;

/**
 * Epoch milliseconds of an ISO 8601 / SQL timestamp text, read as the offline
 * store reads it: an offset (`Z`, `+02:00`, `-0500`, `+05`) is honoured, none
 * means UTC — unlike `Date.parse`, which reads `2024-03-01T12:00:00` in the
 * machine's time zone. `NaN` for anything else (including impossible dates).
 *
 * @example
 * ```ts
 * import { parseInstant } from "@mercury/features/instant";
 * import assert from "node:assert/strict";
 *
 * const noon = Date.UTC(2024, 2, 1, 12);
 * assert.equal(parseInstant("2024-03-01T12:00:00"), noon);
 * assert.equal(parseInstant("2024-03-01 14:00:00+02:00"), noon);
 * assert.equal(parseInstant("2024-03-01T07:00:00.000-05:00"), noon);
 * assert.ok(Number.isNaN(parseInstant("2024-02-30")));
 * ```
 */
export function parseInstant(text: string): number {
  const m = ISO_TEXT.exec(text);
  if (!m) return NaN;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const n = [y, mo, d, h ?? "0", mi ?? "0", s ?? "0"].map(Number) as [number, number, number, number, number, number];
  if (n[1] < 1 || n[1] > 12 || n[2] < 1 || n[3] > 23 || n[4] > 59 || n[5] > 59) return NaN;
  const date = new Date(0);
  date.setUTCFullYear(n[0], n[1] - 1, n[2]);
  if (date.getUTCMonth() !== n[1] - 1) return NaN; // 30 February
  let ms = date.getTime() + ((n[3] * 60 + n[4]) * 60 + n[5]) * 1000 + Number(`${frac ?? ""}000`.slice(0, 3));
  if (zone && !/^(Z|UTC|GMT)$/i.test(zone)) {
    const digits = zone.slice(1).replace(":", "");
    const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || "0");
    ms -= (zone[0] === "-" ? -1 : 1) * minutes * 60_000;
  }
  return ms;
}
