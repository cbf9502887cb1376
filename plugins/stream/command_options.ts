/**
 * Option specs shared by several stream commands. Light (no imports), so the
 * manifest can use them without loading any implementation.
 *
 * @example
 * ```ts
 * import { requestTimeoutOption } from "./command_options.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(requestTimeoutOption["request-timeout"].default, "10s");
 * ```
 *
 * @module
 */

/** The default deadline of one Kafka request (and of connecting), in ms: `--request-timeout 10s`. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** `--request-timeout DUR`, the option of every command that talks to Kafka. */
export const requestTimeoutOption = {
  "request-timeout": {
    type: "duration",
    min: 1,
    description: "deadline of connecting to Kafka and of each request",
    default: `${DEFAULT_REQUEST_TIMEOUT_MS / 1000}s`,
  },
} as const;

/** `--window`, the watermark options and `--pipeline`: what `process`, `verify` and `autoscale` share. */
export const windowOptions = {
  window: {
    type: "string",
    value: "SPEC",
    description: "tumbling:1m, hopping:1m/10s or session:30s",
    default: "tumbling:1m",
  },
  "max-out-of-orderness": { type: "duration", description: "watermark bound on disorder", default: "5s" },
  "allowed-lateness": {
    type: "duration",
    description: "how long windows stay open past the watermark",
    default: "0s",
  },
  pipeline: { type: "string", value: "NAME", description: "checkpoint/result namespace (default: the topic)" },
} as const;
