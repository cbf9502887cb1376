/**
 * Argument helpers shared by the olap commands.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";

/** `v` if it is a string, else `d`. */
export const str = (v: unknown, d = ""): string => (typeof v === "string" ? v : d);

/** `v` as a non-negative integer, or a usage error naming `--name`. */
export const int = (v: unknown, name: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new MercuryError("usage", `--${name} "${v}" is not a non-negative integer`);
  return n;
};
