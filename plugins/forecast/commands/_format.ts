/**
 * How the `forecast` commands print numbers and write dates.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";

/**
 * A number for a table: 1 decimal from 1000 up, else 5 significant digits; "—" when not finite.
 *
 * @example
 * ```ts
 * import { fmt } from "./_format.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual([fmt(1234.567), fmt(0.123456), fmt(NaN)], ["1234.6", "0.12346", "—"]);
 * ```
 */
export const fmt = (x: number): string =>
  Number.isFinite(x) ? (Math.abs(x) >= 1000 ? x.toFixed(1) : x.toPrecision(5)) : "—";

/**
 * A timestamp as written in outputs: the index itself for index series, else ISO 8601 (UTC).
 *
 * @example
 * ```ts
 * import { dateOf } from "./_format.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(dateOf(7, { unit: "index" }), "7");
 * assert.equal(dateOf(0, { unit: "ms" }), "1970-01-01T00:00:00.000Z");
 * assert.throws(() => dateOf(9e15, { unit: "ms" }), /past \+275760-09-13/);
 * ```
 */
export const dateOf = (t: number, d: { unit: string }): string => {
  if (d.unit === "index") return String(t);
  // Dates end at +275760-09-13; a forecast past it (a row in year 9999 and a long horizon) cannot be written as a date.
  if (!(Math.abs(t) <= 8.64e15)) {
    throw new MercuryError("input", `a forecast date falls past +275760-09-13, the last date JavaScript represents`, {
      hint: "check the series' last timestamp and --freq, or forecast fewer steps",
    });
  }
  return new Date(t).toISOString();
};
