/**
 * Brokers that accept TCP and then misbehave — never answer ("silent"), close
 * at once, or answer garbage — against the stream CLI (`produce`, `process`,
 * `topics`) and the hand-written wire client: each is `error[unavailable]`
 * (exit 69) naming the broker, within a bound set by `--request-timeout`, and
 * nothing is checkpointed.
 */
import assert from "node:assert/strict";
import { connectPostgres } from "@mercury/core/services/postgres";
import { Fetcher, FetchError } from "@mercury/stream";
import { KafkaConnection, RequestWriter } from "../../plugins/stream/wire.ts";
import { integration, runScript, uniqueName } from "../_helpers.ts";
import { silentPeer } from "../_hostile.ts";

type Behaviour = "silent" | "close" | "garbage";

/** A TCP server on a free port that accepts connections and misbehaves as told (silent: held open, never answered). */
function fakeBroker(behaviour: Behaviour): { address: string; port: number; close(): void } {
  return silentPeer((conn) => {
    if (behaviour === "close") conn.close();
    else if (behaviour === "garbage") void garbage(conn);
  });
}

/** Answers every read with a well-framed response of the wrong correlation id and no body. */
async function garbage(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  try {
    while ((await conn.read(buf)) !== null) await conn.write(new Uint8Array([0, 0, 0, 8, 9, 9, 9, 9, 1, 2, 3, 4]));
  } catch {
    // closed
  }
}

const stream = (broker: string, ...args: string[]) =>
  runScript("tasks/mercury.ts", ["stream", ...args, "--request-timeout", "2s"], { MERCURY_KAFKA_BROKERS: broker });

/** The run failed with exit 69 and one error line naming the broker and the hint, within `boundMs`. */
function assertUnavailable(r: { code: number; stderr: string }, broker: string, ms: number, boundMs: number): void {
  assert.equal(r.code, 69, r.stderr);
  const errors = r.stderr.split("\n").filter((l) => l.startsWith("error"));
  assert.equal(errors.length, 1, r.stderr);
  assert.match(errors[0]!, /^error\[unavailable\]: cannot reach Kafka at 127\.0\.0\.1:\d+/);
  assert.ok(errors[0]!.includes(`(at ${broker})`), errors[0]);
  assert.match(errors[0]!, /hint: .*deno task services up kafka.*MERCURY_KAFKA_BROKERS/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  assert.ok(ms < boundMs, `took ${Math.round(ms)} ms`);
}

for (const behaviour of ["silent", "close", "garbage"] as const) {
  Deno.test({
    name: `stream CLI against a ${behaviour} broker: produce, process and topics exit 69 naming it within 20 s`,
    ...integration,
    async fn(t) {
      const broker = fakeBroker(behaviour);
      const pipeline = uniqueName("unresp");
      try {
        for (
          const args of [
            ["topics"],
            ["produce", "--topic", pipeline, "--count", "100"],
            ["process", "--topic", pipeline, "--no-enrich", "--pipeline", pipeline],
            ["process", "--topic", pipeline, "--no-enrich", "--pipeline", pipeline, "--threads", "2"],
          ]
        ) {
          await t.step(args.filter((a) => !a.startsWith("unresp")).join(" "), async () => {
            const t0 = performance.now();
            const r = await stream(broker.address, ...args);
            assertUnavailable(r, broker.address, performance.now() - t0, 20_000);
          });
        }
      } finally {
        broker.close();
      }
      await t.step("no checkpoint was written", async () => {
        const pg = await connectPostgres({ max: 1 });
        try {
          const rows = await pg.sql`
            select count(*)::int as n from stream_checkpoints where pipeline = ${pipeline}`.catch(() => [{ n: 0 }]);
          assert.equal(rows[0]!.n, 0);
        } finally {
          await pg.close();
        }
      });
    },
  });
}

Deno.test({
  name: "wire client: a request to a silent, closing or garbage broker fails naming it within its deadline",
  ...integration,
  async fn(t) {
    const client = new TextEncoder().encode("test");
    for (const behaviour of ["silent", "close", "garbage"] as const) {
      await t.step(behaviour, async () => {
        const broker = fakeBroker(behaviour);
        try {
          const t0 = performance.now();
          await assert.rejects(
            (async () => {
              const conn = await KafkaConnection.open("127.0.0.1", broker.port, 500);
              try {
                // Metadata v1, all topics.
                await conn.request(new RequestWriter(3, 1, 1, client).int32(-1).done());
              } finally {
                conn.close();
              }
            })(),
            (err: Error) => {
              assert.ok(err.message.includes(broker.address), err.message);
              return true;
            },
          );
          assert.ok(performance.now() - t0 < 5_000, `took ${performance.now() - t0} ms`);
        } finally {
          broker.close();
        }
      });
    }
    await t.step("a Fetcher's fetch from a silent leader fails (retriable) within its deadline", async () => {
      const broker = fakeBroker("silent");
      const fetcher = new Fetcher({
        topic: "t",
        clientId: "test",
        requestTimeoutMs: 500,
        leader: () => Promise.resolve({ host: "127.0.0.1", port: broker.port }),
      });
      try {
        fetcher.assign(new Map([[0, 0]]));
        const t0 = performance.now();
        await assert.rejects(fetcher.next(), (err: Error) => {
          assert.ok(err instanceof FetchError && err.retriable, String(err));
          assert.match(err.message, new RegExp(`no answer from ${broker.address} within 600 ms`));
          return true;
        });
        assert.ok(performance.now() - t0 < 5_000);
      } finally {
        fetcher.close();
        broker.close();
      }
    });
  },
});
