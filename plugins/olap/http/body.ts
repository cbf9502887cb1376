/**
 * The hono middleware that reads a route's JSON body with the server's byte
 * limit (413 before an oversized body is read, 400 for anything but a JSON
 * object) and checks it against a zod schema (400 naming the field); the
 * handler reads the result with `c.get("body")`.
 *
 * @module
 */
import { createMiddleware } from "hono/factory";
import type { z } from "zod";
import { readJsonObject } from "@mercury/core/http_body";
import { parseInput } from "../http_input.ts";
import type { ApiEnv, ApiState } from "./context.ts";

/** Reads and checks the body against `schema`; `c.get("body")` is the parsed value. */
export function jsonBody<S extends z.ZodType>(s: ApiState, schema: S) {
  return createMiddleware<ApiEnv & { Variables: { body: z.output<S> } }>(async (c, next) => {
    const raw = await readJsonObject(c.req.raw, {
      maxBytes: s.maxBodyBytes,
      hint: `send a JSON object of at most ${s.maxBodyBytes} bytes, e.g. {"sql": "select …", "format": "json"}`,
    });
    c.set("body", parseInput(schema, raw));
    await next();
  });
}
