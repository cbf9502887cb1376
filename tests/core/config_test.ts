import assert from "node:assert/strict";
import { DEFAULT_PORTS, MercuryError, resolveEndpoints } from "@mercury/core";

function tempFile(content: string): string {
  const path = Deno.makeTempFileSync({ suffix: ".json" });
  Deno.writeTextFileSync(path, content);
  return path;
}

const fileJson = JSON.stringify({
  kafka: { brokers: ["file-host:9092"] },
  postgres: { url: "postgres://u@file-host:5432/db" },
  redis: { url: "redis://file-host:6379" },
});

Deno.test("resolveEndpoints() applies env > services.json > defaults", async (t) => {
  await t.step("defaults when nothing is set", () => {
    const eps = resolveEndpoints({ env: () => undefined, servicesFile: "/nonexistent/services.json" });
    assert.deepEqual(eps.kafka, { brokers: [`127.0.0.1:${DEFAULT_PORTS.kafka}`], source: "default" });
    assert.equal(eps.postgres.url, `postgres://mercury@127.0.0.1:${DEFAULT_PORTS.postgres}/mercury`);
    assert.equal(eps.redis.source, "default");
  });
  await t.step("the services file beats defaults", () => {
    const eps = resolveEndpoints({ env: () => undefined, servicesFile: tempFile(fileJson) });
    assert.deepEqual(eps.kafka, { brokers: ["file-host:9092"], source: "file" });
    assert.equal(eps.postgres.url, "postgres://u@file-host:5432/db");
    assert.equal(eps.redis.source, "file");
  });
  await t.step("environment beats the file, per service", () => {
    const env = new Map([["MERCURY_KAFKA_BROKERS", "a:1,b:2"], ["MERCURY_PG_URL", "postgresql://x@env-host/db"]]);
    const eps = resolveEndpoints({ env: (k) => env.get(k), servicesFile: tempFile(fileJson) });
    assert.deepEqual(eps.kafka, { brokers: ["a:1", "b:2"], source: "env" });
    assert.deepEqual(eps.postgres, { url: "postgresql://x@env-host/db", source: "env" });
    assert.equal(eps.redis.source, "file");
  });
  await t.step("an empty variable counts as unset", () => {
    const eps = resolveEndpoints({ env: () => "  ", servicesFile: "/nonexistent.json" });
    assert.equal(eps.redis.source, "default");
  });
});

Deno.test("resolveEndpoints() refuses malformed endpoints, naming the variable", async (t) => {
  const cases: [string, string, RegExp][] = [
    ["MERCURY_PG_URL", "not a url", /not a valid URL/],
    ["MERCURY_PG_URL", "mysql://h/db", /postgres:\/\/ or postgresql:\/\//],
    ["MERCURY_REDIS_URL", "http://h:6379", /redis:\/\//],
    ["MERCURY_KAFKA_BROKERS", "host-without-port", /not a valid broker/],
    ["MERCURY_KAFKA_BROKERS", "h:99999", /not a valid broker/],
    ["MERCURY_KAFKA_BROKERS", ",,", /names no broker/],
  ];
  for (const [name, value, re] of cases) {
    await t.step(`${name}=${value}`, () => {
      assert.throws(
        () => resolveEndpoints({ env: (k) => (k === name ? value : undefined), servicesFile: "/none" }),
        (err) => {
          assert.ok(err instanceof MercuryError);
          assert.equal(err.code, "config");
          assert.equal(err.where, name);
          assert.match(err.message, re);
          return true;
        },
      );
    });
  }
  await t.step("a password is not echoed", () => {
    assert.throws(
      () =>
        resolveEndpoints({
          env: (k) => (k === "MERCURY_PG_URL" ? "mysql://u:s3cret@h/db" : undefined),
          servicesFile: "/none",
        }),
      (err: Error) => !err.message.includes("s3cret"),
    );
  });
});

Deno.test("resolveEndpoints() names a corrupt services file and how to fix it", () => {
  const path = tempFile("{ not json");
  assert.throws(() => resolveEndpoints({ env: () => undefined, servicesFile: path }), (err) => {
    assert.ok(err instanceof MercuryError);
    assert.equal(err.where, path);
    assert.match(err.hint ?? "", /services up/);
    return true;
  });
});
