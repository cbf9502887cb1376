/**
 * Checks an online request at the edge, before any lookup: its shape, the
 * number of entities (a cap, so one request cannot grow the server without
 * bound), and every entity key and request value against the type its entity
 * or on-demand request field declares. A bad value is refused with its field
 * and row (`entities.card_id[3]`), never stringified into a lookup (`[[1]]` is
 * not card 1) or passed to a transform (`"abc"` as an amount). Also the
 * serving defaults: {@linkcode DEFAULT_MAX_ENTITIES} and
 * {@linkcode DEFAULT_STORE_TIMEOUT_MS}.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import type { ValueType } from "./definitions.ts";

/** Entities one request may ask for unless the server is given another limit. */
export const DEFAULT_MAX_ENTITIES = 10_000;

/** How long a read from the online store may take by default: 5,000 ms. */
export const DEFAULT_STORE_TIMEOUT_MS = 5_000;

/** The request fields whose shape is checked (the rest of `OnlineRequest` is checked against the repo). */
export interface RequestShape {
  features?: unknown;
  featureService?: unknown;
  entities?: unknown;
  requestData?: unknown;
  fullFeatureNames?: unknown;
}

function bad(where: string, message: string, hint?: string): never {
  throw new MercuryError("input", message, { where, hint });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * Throws a MercuryError (`input`) naming the field when the request is not shaped like an `OnlineRequest`.
 *
 * @example
 * ```ts
 * import { checkRequestShape } from "@mercury/features";
 * import assert from "node:assert/strict";
 * checkRequestShape({ features: ["v:a"], entities: { k: [1] } });
 * assert.throws(() => checkRequestShape({ features: [1], entities: { k: [1] } }), /features\[0\] is not a string/);
 * assert.throws(() => checkRequestShape({ features: ["v:a"], entities: { k: 1 } }), /entities\.k is not an array/);
 * ```
 */
export function checkRequestShape(req: RequestShape): void {
  if (!isRecord(req)) bad("body", "the request is not an object", "send { features | featureService, entities }");
  if (req.featureService !== undefined && typeof req.featureService !== "string") {
    bad("featureService", "featureService is not a string");
  }
  if (req.features !== undefined) {
    if (!Array.isArray(req.features)) bad("features", "features is not an array", 'send features: ["view:feature"]');
    for (const [i, f] of req.features.entries()) {
      if (typeof f !== "string") bad(`features[${i}]`, `features[${i}] is not a string`);
    }
  }
  if (req.fullFeatureNames !== undefined && typeof req.fullFeatureNames !== "boolean") {
    bad("fullFeatureNames", "fullFeatureNames is not a boolean");
  }
  if (!isRecord(req.entities)) {
    bad("entities", "the request has no entities", "send entities: { <join key>: [values…] }");
  }
  for (const [k, v] of Object.entries(req.entities)) {
    if (!Array.isArray(v)) bad(`entities.${k}`, `entities.${k} is not an array`, "send one value per entity");
  }
  if (req.requestData !== undefined) {
    if (!isRecord(req.requestData)) bad("requestData", "requestData is not an object", "send { <field>: [values…] }");
    for (const [k, v] of Object.entries(req.requestData)) {
      if (!Array.isArray(v)) bad(`requestData.${k}`, `requestData.${k} is not an array`, "send one value per entity");
    }
  }
}

/**
 * Whether `v` is a value of `type` as JSON (or a gRPC `Value`) carries it: int64 a safe integer, float64 a finite
 * number, string a string, bool a boolean, timestamp epoch milliseconds or a date string.
 *
 * @example
 * ```ts
 * import { isValueOf } from "@mercury/features";
 * import assert from "node:assert/strict";
 * assert.equal(isValueOf("int64", 7), true);
 * assert.equal(isValueOf("int64", 1.5), false);
 * assert.equal(isValueOf("int64", [1]), false);
 * assert.equal(isValueOf("float64", "abc"), false);
 * assert.equal(isValueOf("timestamp", "2024-05-01T00:00:00Z"), true);
 * ```
 */
export function isValueOf(type: ValueType, v: unknown): boolean {
  switch (type) {
    case "int64":
      return typeof v === "number" && Number.isSafeInteger(v);
    case "float64":
      return typeof v === "number" && Number.isFinite(v);
    case "string":
      return typeof v === "string";
    case "bool":
      return typeof v === "boolean";
    case "timestamp":
      return (typeof v === "number" && Number.isFinite(v)) || (typeof v === "string" && !Number.isNaN(Date.parse(v)));
  }
  return false;
}

function show(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 40 ? `${s.slice(0, 37)}…` : s;
}

/**
 * Checks one column of values against a declared type; `nullable` lets nulls through (request data may be null, an
 * entity key may not). Throws a MercuryError (`input`) naming the field and the row.
 *
 * @example
 * ```ts
 * import { checkColumn } from "@mercury/features";
 * import assert from "node:assert/strict";
 * checkColumn("entities.card_id", [1, 2], "int64", false);
 * assert.throws(
 *   () => checkColumn("entities.card_id", [1, [[1]]], "int64", false),
 *   /entities\.card_id\[1\]: \[\[1\]\] is not an int64/,
 * );
 * ```
 */
export function checkColumn(field: string, values: unknown[], type: ValueType, nullable: boolean): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null && nullable) continue;
    if (!isValueOf(type, v)) {
      const hint = type === "int64"
        ? "send integers (JSON numbers without a fraction, at most 2^53 − 1)"
        : type === "float64"
        ? "send finite JSON numbers"
        : type === "timestamp"
        ? "send epoch milliseconds or an ISO 8601 string"
        : `send JSON ${type === "bool" ? "booleans" : "strings"}`;
      bad(`${field}[${i}]`, `${field}[${i}]: ${show(v)} is not ${type === "int64" ? "an" : "a"} ${type}`, hint);
    }
  }
}

/**
 * Checks the number of entities of a request against the server's limit.
 *
 * @example
 * ```ts
 * import { checkEntityCount } from "@mercury/features";
 * import assert from "node:assert/strict";
 * checkEntityCount(10, 10);
 * assert.throws(() => checkEntityCount(11, 10), /11 entities, over the limit of 10/);
 * ```
 */
export function checkEntityCount(n: number, max: number): void {
  if (n > max) {
    bad(
      "entities",
      `the request asks for ${n} entities, over the limit of ${max} per request`,
      "split it into smaller requests, or start the server with a larger maxEntities (--max-entities)",
    );
  }
}
