/**
 * How the `forecast` commands print numbers and write dates.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";

/** A number for a table: 1 decimal from 1000 up, else 5 significant digits; "—" when not finite. */
export const fmt = (x: number): string =>
  Number.isFinite(x) ? (Math.abs(x) >= 1000 ? x.toFixed(1) : x.toPrecision(5)) : "—";

/** A timestamp as written in outputs: the index itself for index series, else ISO 8601 (UTC). */
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
