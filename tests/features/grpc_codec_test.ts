import assert from "node:assert/strict";
import protobuf from "protobufjs";
import { PROTO_PATH, toProtoValue } from "@mercury/features/grpc";
import { encodeOnlineResponse, type OnlineAnswer } from "../../plugins/features/grpc_codec.ts";

const root = new protobuf.Root().loadSync(PROTO_PATH, { keepCase: true });
const Res = root.lookupType("mercury.features.v1.GetOnlineFeaturesResponse");
const CODES: Record<string, number> = { PRESENT: 1, NULL_VALUE: 2, NOT_FOUND: 3, OUTSIDE_MAX_AGE: 4 };

/** What the protobufjs path (the grpc-js engine's) writes for the same answer. */
const reference = (a: OnlineAnswer) =>
  Res.encode({
    feature_names: a.metadata.featureNames,
    results: a.results.map((c) => ({
      values: c.values.map(toProtoValue),
      statuses: c.statuses.map((s) => CODES[s]),
      event_timestamps_ms: c.eventTimestamps.map((t) => t ?? 0),
    })),
  }).finish();

Deno.test("encodeOnlineResponse writes protobufjs' bytes for every kind of value", () => {
  const awkward: unknown[] = [
    0,
    1,
    127,
    128,
    300,
    2 ** 31,
    2 ** 32 + 5,
    2 ** 53 - 1,
    -1,
    -128,
    -(2 ** 40),
    Number.MIN_SAFE_INTEGER,
    0.5,
    -2.25,
    1e300,
    Number.NaN,
    Infinity,
    -Infinity,
    "",
    "a",
    "é",
    "日本語",
    "emoji 😀",
    "x".repeat(200),
    "x".repeat(20_000),
    true,
    false,
    null,
    undefined,
    12345678901234567890n,
  ];
  const answer: OnlineAnswer = {
    metadata: { featureNames: ["id", "naïve", ""] },
    results: [
      {
        values: awkward.map((_, i) => i),
        statuses: awkward.map(() => "PRESENT"),
        eventTimestamps: awkward.map(() => null),
      },
      {
        values: awkward,
        statuses: awkward.map((_, i) => ["PRESENT", "NULL_VALUE", "NOT_FOUND", "OUTSIDE_MAX_AGE"][i % 4]!),
        eventTimestamps: awkward.map((_, i) => (i % 3 ? 1_764_950_000_000 + i : i % 2 ? null : 0)),
      },
      { values: [], statuses: [], eventTimestamps: [] },
    ],
  };
  assert.deepEqual([...encodeOnlineResponse(answer)], [...reference(answer)]);
});

Deno.test("encodeOnlineResponse agrees with protobufjs on random answers (seeded)", () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let round = 0; round < 200; round++) {
    const cols = 1 + Math.floor(rnd() * 6);
    const rows = Math.floor(rnd() * 20);
    const value = () => {
      const k = rnd();
      if (k < 0.2) return null;
      if (k < 0.4) return Math.floor((rnd() - 0.5) * 2 ** (rnd() * 60));
      if (k < 0.6) return (rnd() - 0.5) * 1e6;
      if (k < 0.7) return rnd() < 0.5;
      return String.fromCharCode(
        ...Array.from({ length: Math.floor(rnd() * 12) }, () => 32 + Math.floor(rnd() * 2000)),
      );
    };
    const answer: OnlineAnswer = {
      metadata: { featureNames: Array.from({ length: cols }, (_, c) => `f${c}`) },
      results: Array.from({ length: cols }, () => ({
        values: Array.from({ length: rows }, value),
        statuses: Array.from({ length: rows }, () => "PRESENT"),
        eventTimestamps: Array.from({ length: rows }, () => (rnd() < 0.3 ? null : Math.floor(rnd() * 2e12))),
      })),
    };
    assert.deepEqual([...encodeOnlineResponse(answer)], [...reference(answer)], `round ${round}`);
  }
});
