/**
 * Kafka over TLS and SASL against a real broker (tasks/services/kafka_secure.ts,
 * started once for this file beside the default broker, certificates made
 * with openssl at set-up): the wire producer and fetcher, `@platformatic/kafka`
 * and kafkajs on an SSL listener with a client certificate, on SASL_SSL with
 * SCRAM-SHA-512 and PLAIN, and on SASL_PLAINTEXT with SCRAM-SHA-256; the CLI
 * configured only through the environment; and the failures a user meets — a
 * wrong password, an unknown CA, no client certificate, a plaintext client on
 * a TLS listener — each a clear error, not a hang.
 */
import assert from "node:assert/strict";
import { Admin } from "@platformatic/kafka";
import type { KafkaSecurity } from "@mercury/core";
import { connectKafka } from "@mercury/core/services/kafka";
import { Fetcher, platformaticSecurity, PostgresSink, RecordProducer } from "@mercury/stream";
import { connectPostgres } from "@mercury/core/services/postgres";
import { KafkaConnection } from "../../plugins/stream/wire.ts";
import { integration, ROOT, uniqueName } from "../_helpers.ts";
import { KafkaSecureBroker } from "../../tasks/services/kafka_secure.ts";

const secure = new KafkaSecureBroker({ root: ROOT, state: `${ROOT}/.mercury`, log: () => {} });

/** Writes `n` records with the wire producer and reads them back with the wire fetcher, both with `security`. */
async function roundTrip(broker: string, security: KafkaSecurity, n: number): Promise<void> {
  const topic = uniqueName("tls");
  {
    await using k = await connectKafka({ brokers: [broker], security, timeoutMs: 10_000 });
    assert.ok(await k.admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true }));
  }
  const producer = await RecordProducer.open({ brokers: [broker], topic, security, requestTimeoutMs: 10_000 });
  try {
    for (let i = 0; i < n; i++) producer.append(`k${i % 7}`, `v${i}`, Date.now());
    await producer.flush();
    assert.equal(producer.acknowledged, n);
  } finally {
    await producer.close();
  }
  const [host, port] = broker.split(":");
  const fetcher = new Fetcher({
    topic,
    clientId: "tls-test",
    leader: () => Promise.resolve({ host: host!, port: Number(port) }),
    security,
    isolationLevel: 0,
  });
  const seen = new Set<string>();
  try {
    fetcher.assign(new Map([[0, 0], [1, 0]]));
    const deadline = Date.now() + 20_000;
    while (seen.size < n && Date.now() < deadline) {
      fetcher.visit(await fetcher.next(), (_p, _o, _ts, buf, _ks, _ke, vs, ve) => {
        seen.add(new TextDecoder().decode(buf.subarray(vs, ve)));
      });
    }
  } finally {
    fetcher.close();
  }
  assert.equal(seen.size, n);
  assert.ok(seen.has("v0") && seen.has(`v${n - 1}`));

  // @platformatic/kafka (the worker's group client, the Kafka sink's producer) with the same settings.
  const admin = new Admin({ clientId: "tls-test", bootstrapBrokers: [broker], ...platformaticSecurity(security) });
  try {
    assert.ok((await admin.listTopics()).includes(topic));
  } finally {
    await admin.close();
  }
  // kafkajs (connectKafka: topics, tests, the features push source) with the same settings.
  await using k = await connectKafka({ brokers: [broker], security, timeoutMs: 10_000 });
  const offsets = await k.admin.fetchTopicOffsets(topic);
  assert.equal(offsets.reduce((s, o) => s + Number(o.high), 0), n);
  await k.admin.deleteTopics({ topics: [topic] });
}

/** Runs `deno run -A tasks/mercury.ts …args` with only `env` pointing at the broker. */
async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/tasks/mercury.ts`, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: r.code, out: new TextDecoder().decode(r.stdout), err: new TextDecoder().decode(r.stderr) };
}

Deno.test({
  name: "Kafka over TLS and SASL: the wire client, @platformatic/kafka, kafkajs and the CLI; clear refusals",
  ...integration,
  async fn(t) {
    try {
      await secure.up(180); // inside: a broker that starts but never answers is stopped too
      await t.step("SSL with a client certificate (the listener requires one)", async () => {
        const { broker, security } = secure.client("ssl");
        await roundTrip(broker, security, 500);
      });
      await t.step("SASL_SSL with SCRAM-SHA-512", async () => {
        const { broker, security } = secure.client("sasl_ssl", "SCRAM-SHA-512");
        await roundTrip(broker, security, 500);
      });
      await t.step("SASL_SSL with PLAIN", async () => {
        const { broker, security } = secure.client("sasl_ssl", "PLAIN");
        await roundTrip(broker, security, 300);
      });
      await t.step("SASL_PLAINTEXT with SCRAM-SHA-256", async () => {
        const { broker, security } = secure.client("sasl", "SCRAM-SHA-256");
        await roundTrip(broker, security, 300);
      });

      await t.step("the CLI finds TLS and SCRAM through the environment", async () => {
        const env = secure.env("sasl_ssl", "SCRAM-SHA-512");
        const topic = uniqueName("tls-cli");
        const produced = await cli(
          ["stream", "produce", "--topic", topic, "--count", "2000", "--partitions", "2"],
          env,
        );
        assert.equal(produced.code, 0, produced.err);
        const listed = await cli(["stream", "topics", "--json"], env);
        assert.equal(listed.code, 0, listed.err);
        const row = (JSON.parse(listed.out) as { topic: string; messages: number }[]).find((r) => r.topic === topic);
        assert.equal(row?.messages, 2000);
        // The worker: group membership, the wire fetcher and the dead-letter producer, all over TLS + SCRAM.
        const processed = await cli(
          ["stream", "process", "--topic", topic, "--window", "tumbling:1m", "--no-enrich", "--until-done"],
          env,
        );
        assert.equal(processed.code, 0, processed.err);
        assert.match(processed.err, /done: every partition of .* is checkpointed to its end/);
        const pg = await connectPostgres({ max: 1 });
        try {
          const [c] = await pg.sql`
            select sum(events + dead)::int as n from stream_checkpoints where pipeline = ${topic}`;
          assert.ok(c!.n >= 2000 - 50, `${c!.n} of 2000 events checkpointed`);
          await (await PostgresSink.open(pg.sql, topic)).reset();
        } finally {
          await pg.close();
        }
      });

      await t.step("a wrong SCRAM password is refused, naming the user", async () => {
        const { broker, security } = secure.client("sasl_ssl", "SCRAM-SHA-512");
        const wrong = { ...security, sasl: { ...security.sasl!, password: "not-the-password" } };
        const [host, port] = broker.split(":");
        await assert.rejects(
          KafkaConnection.open(host!, Number(port), 10_000, wrong),
          /SASL SCRAM-SHA-512 as "mercury" at 127\.0\.0\.1:\d+ was refused: .*[Aa]uthentication failed/,
        );
      });

      await t.step("a wrong PLAIN password through the CLI: one line, non-zero exit", async () => {
        const env = { ...secure.env("sasl_ssl", "PLAIN"), MERCURY_KAFKA_SASL_PASSWORD: "nope" };
        const t0 = performance.now();
        const r = await cli(["stream", "produce", "--topic", uniqueName("tls-bad"), "--count", "10"], env);
        assert.notEqual(r.code, 0);
        assert.match(r.err, /error\[unavailable\]: .*(SASL|[Aa]uthentication)/);
        assert.ok(performance.now() - t0 < 60_000, "it took a minute");
      });

      await t.step("a server certificate from an unknown CA is refused", async () => {
        const { broker } = secure.client("sasl_ssl");
        const [host, port] = broker.split(":");
        await assert.rejects(
          KafkaConnection.open(host!, Number(port), 10_000, { tls: {} }), // the system's roots only
          /TLS handshake with 127\.0\.0\.1:\d+ failed: .*(UnknownIssuer|certificate).*MERCURY_KAFKA_TLS_CA/i,
        );
      });

      await t.step("the SSL listener refuses a client without a certificate", async () => {
        const { broker, security } = secure.client("ssl");
        const [host, port] = broker.split(":");
        const noCert = { tls: { ca: security.tls!.ca } };
        await assert.rejects(async () => {
          const c = await KafkaConnection.open(host!, Number(port), 10_000, noCert);
          try {
            // The refusal may come with the first request (TLS 1.3 checks the client's certificate after the handshake).
            await c.request(apiVersionsRequest());
          } finally {
            c.close();
          }
        }, /certificate|closed|handshake/i);
      });

      await t.step("a plaintext client on the TLS listener fails at once with a hint", async () => {
        const { broker } = secure.client("sasl_ssl");
        const [host, port] = broker.split(":");
        const t0 = performance.now();
        await assert.rejects(async () => {
          const c = await KafkaConnection.open(host!, Number(port), 10_000, undefined);
          try {
            await c.request(apiVersionsRequest());
          } finally {
            c.close();
          }
        }, /(before it answered|answered with TLS).*(TLS|MERCURY_KAFKA_TLS)/);
        assert.ok(performance.now() - t0 < 9_000, `took ${performance.now() - t0} ms`);

        const r = await cli(["stream", "topics", "--request-timeout", "5s"], { MERCURY_KAFKA_BROKERS: broker });
        assert.notEqual(r.code, 0);
        assert.match(r.err, /^error\[unavailable\]: cannot reach Kafka at 127\.0\.0\.1:\d+/m);
      });

      await t.step("a malformed setting is refused, naming the variable", async () => {
        const r = await cli(["stream", "topics"], {
          ...secure.env("sasl_ssl"),
          MERCURY_KAFKA_SASL_MECHANISM: "GSSAPI",
        });
        assert.notEqual(r.code, 0);
        assert.match(r.err, /MERCURY_KAFKA_SASL_MECHANISM.*GSSAPI/);
        const missing = await cli(["stream", "topics"], {
          ...secure.env("ssl"),
          MERCURY_KAFKA_TLS_CA: "/nonexistent.pem",
        });
        assert.notEqual(missing.code, 0);
        assert.match(missing.err, /MERCURY_KAFKA_TLS_CA.*\/nonexistent\.pem/);
      });
    } finally {
      await secure.down(true);
    }
  },
});

/** An ApiVersions v0 request (any broker answers it first). */
function apiVersionsRequest(): Uint8Array {
  const client = new TextEncoder().encode("tls-test");
  const buf = new Uint8Array(4 + 2 + 2 + 4 + 2 + client.length);
  const v = new DataView(buf.buffer);
  v.setInt32(0, buf.length - 4);
  v.setInt16(4, 18);
  v.setInt16(6, 0);
  v.setInt32(8, 1);
  v.setInt16(12, client.length);
  buf.set(client, 14);
  return buf;
}
