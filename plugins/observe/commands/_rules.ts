/**
 * Reads alert rules from a JSON file (an array of rules) with a clear error.
 *
 * @module
 */
import { MercuryError } from "@mercury/core/plugin";
import { type AlertRule, checkRules } from "../alerts.ts";

/** The rules in `path`, validated. */
export async function readRules(path: string): Promise<AlertRule[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await Deno.readTextFile(path));
  } catch (err) {
    throw new MercuryError("input", `cannot read alert rules ${path}: ${(err as Error).message}`, {
      where: path,
      hint: 'a JSON array: [{"name": "AucDrop", "kind": "change", "model": "*", "value": 0.05}]',
    });
  }
  if (!Array.isArray(parsed)) {
    throw new MercuryError("input", `alert rules ${path} is not a JSON array`, { where: path });
  }
  return checkRules(parsed);
}
