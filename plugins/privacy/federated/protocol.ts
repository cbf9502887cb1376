/**
 * The messages coordinator and clients exchange (over a WebSocket per
 * client, or HTTP: `GET /task`, `POST /result`; see `hub.ts`), and the
 * checks a coordinator applies to what a client sends before it counts:
 * every answer is validated here, and one that fails is a dropout with the
 * reason recorded, never an exception.
 *
 * @example
 * ```ts
 * import { checkResult } from "@mercury/privacy/federated/coordinator";
 * import assert from "node:assert/strict";
 *
 * assert.equal(checkResult("train", { n: 10, delta: [0.1, 0.2] }, 2), undefined);
 * assert.match(checkResult("train", { n: 10, delta: [0.1] }, 2)!, /2 numbers/);
 * ```
 *
 * @module
 */
import { isFieldVector } from "../secagg/field.ts";
import type { ModelKind, TrainOptions } from "./models.ts";

/** The steps a coordinator asks of a client. */
export type Op = "train" | "keys" | "share" | "masked" | "unmask" | "stop" | "wait";

/** A task as the client receives it. */
export interface Task {
  seq: number;
  op: Op;
  round: number;
  [key: string]: unknown;
}

/** What a client process is started with (JSON in its `--config`). */
export interface ClientConfig {
  id: number;
  coordinator: string;
  /** The client's bearer token; the coordinator refuses requests without it. */
  token: string;
  data: string;
  model: ModelKind;
  /** Threshold t of secure aggregation. */
  threshold: number;
  dropRate: number;
  seed: number;
  /** A deliberate misbehaviour from `round` on (tests and demos). */
  fault?: { kind: FaultKind; round: number };
}

/** Misbehaviours a client can be told to show. */
export const FAULT_KINDS = [
  "silent",
  "malformed",
  "oversized",
  "wrong-type",
  "slowloris",
  "crash",
  "drop-after-mask",
] as const;
/** One of {@linkcode FAULT_KINDS}. */
export type FaultKind = typeof FAULT_KINDS[number];

/** The training settings a train or masked task carries. */
export interface TrainTask {
  weights: number[];
  train: TrainOptions;
  /** L2 clip of the model delta (DP-FedAvg); absent without DP. */
  clip?: number;
}

const isNumArray = (v: unknown, len: number): v is number[] =>
  Array.isArray(v) && v.length === len && v.every((e) => typeof e === "number" && Number.isFinite(e));
const B64_KEY = /^[A-Za-z0-9_-]{43}$/;

/** Why a client's answer to `op` is unacceptable, or undefined when it is fine. */
export function checkResult(op: Op, body: Record<string, unknown>, dim: number): string | undefined {
  switch (op) {
    case "train":
      if (!(Number.isInteger(body.n) && (body.n as number) > 0)) return "n must be a positive whole number";
      if (!isNumArray(body.delta, dim)) return `delta must be ${dim} numbers`;
      return;
    case "keys":
      if (!(typeof body.c === "string" && B64_KEY.test(body.c) && typeof body.s === "string" && B64_KEY.test(body.s))) {
        return "keys must be two base64url X25519 public keys";
      }
      return;
    case "share": {
      const out = body.shares;
      if (!(out && typeof out === "object" && Object.values(out).every((s) => typeof s === "string"))) {
        return "shares must map client ids to ciphertexts";
      }
      return;
    }
    case "masked":
      if (!(Array.isArray(body.y) && body.y.length === dim + 1 && isFieldVector(body.y))) {
        return `y must be ${dim + 1} field elements`;
      }
      return;
    case "unmask":
      if (!(body.b && typeof body.b === "object" && body.s && typeof body.s === "object")) {
        return "a reveal needs b and s share maps";
      }
      return;
    default:
      return `unexpected answer to ${op}`;
  }
}
