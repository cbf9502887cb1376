import assert from "node:assert/strict";
import { DEFAULT_PORTS, MercuryError } from "@mercury/core";
import { connectPostgres } from "@mercury/core/services/postgres";
import { connectRedis } from "@mercury/core/services/redis";
import { Launcher, plainUpServices } from "../../tasks/services/launcher.ts";
import { alive, portFree, run } from "../../tasks/services/_process.ts";
import { integration, ROOT, runScript, uniqueName } from "../_helpers.ts";

interface Row {
  service: string;
  mode: string;
  pid?: number;
  health: { ok: boolean };
  notes: string;
}

async function status(): Promise<Row[]> {
  const r = await runScript("tasks/services.ts", ["status", "--json"]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return JSON.parse(r.stdout);
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test({
  name: "services up twice: the second is a no-op that keeps the same processes",
  ...integration,
  async fn() {
    const first = await runScript("tasks/services.ts", ["up"]);
    assert.equal(first.code, 0, first.stderr);
    const before = await status();
    const t0 = performance.now();
    const second = await runScript("tasks/services.ts", ["up"]);
    const elapsed = performance.now() - t0;
    assert.equal(second.code, 0, second.stderr);
    // The core three plus what plugins declare (observe: mlflow, prometheus).
    const plain = (await plainUpServices(ROOT)).length;
    assert.equal(second.stdout.match(/already running/g)?.length, plain, second.stdout);
    assert.doesNotMatch(second.stderr, /: up \(/);
    const after = await status();
    assert.deepEqual(after.map((r) => [r.service, r.pid]), before.map((r) => [r.service, r.pid]));
    assert.ok(after.every((r) => r.health.ok && r.mode === "native"));
    // Not a speed claim (that is the README's measured number), only a sign nothing restarted.
    assert.ok(elapsed < 20_000, `second up took ${elapsed} ms`);
  },
});

Deno.test({
  name: "services status reports mode, pid, health and TimescaleDB availability",
  ...integration,
  async fn() {
    const r = await runScript("tasks/services.ts", ["status"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.match(lines[0]!, /^service\s+mode\s+endpoint\s+pid\s+health/);
    for (const name of ["postgres", "redis", "kafka"]) {
      assert.match(r.stdout, new RegExp(`^${name}\\s+native\\s+\\S+\\s+\\d+\\s+ok`, "m"));
    }
    assert.match(r.stdout, /timescaledb: (available|not available)/);
    const file = JSON.parse(Deno.readTextFileSync(".mercury/services.json"));
    assert.equal(file.kafka.brokers[0], `127.0.0.1:${DEFAULT_PORTS.kafka}`);
    assert.equal(file.postgres.url, `postgres://mercury@127.0.0.1:${DEFAULT_PORTS.postgres}/mercury`);
  },
});

Deno.test({
  name: "services down then up: processes stop, restart, and data survives",
  ...integration,
  async fn() {
    const key = uniqueName("mercury_persist");
    const pg = await connectPostgres();
    await pg.sql`create table if not exists mercury_persist_test (k text primary key)`;
    await pg.sql`insert into mercury_persist_test values (${key})`;
    await pg.close();
    const redis = await connectRedis();
    await redis.client.set(key, "kept");
    await redis.close();
    const before = await status();

    const down = await runScript("tasks/services.ts", ["down"]);
    assert.equal(down.code, 0, down.stderr);
    const plain = (await plainUpServices(ROOT)).length;
    // Everything that was running stops, named-only services (hdfs) too if another test left them up.
    const running = before.filter((row) => row.mode !== "stopped" && row.pid !== undefined).length;
    assert.ok(running >= plain, `status listed ${running} running services, fewer than the ${plain} of a plain up`);
    assert.equal(down.stdout.match(/stopped \(pid \d+\)/g)?.length, running, down.stdout);
    for (const row of before) assert.equal(alive(row.pid), false, `${row.service} pid ${row.pid} still alive`);
    const stopped = await runScript("tasks/services.ts", ["status"]);
    assert.equal(stopped.code, 69);
    assert.match(stopped.stdout, /^redis\s+stopped/m);

    const again = await runScript("tasks/services.ts", ["down"]);
    assert.match(again.stdout, /not started by Mercury, left alone/);

    const up = await runScript("tasks/services.ts", ["up"]);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(up.stderr.match(/: up \(native/g)?.length, plain, up.stderr);

    const pg2 = await connectPostgres();
    const rows = await pg2.sql`select k from mercury_persist_test where k = ${key}`;
    await pg2.sql`delete from mercury_persist_test where k = ${key}`;
    await pg2.close();
    assert.equal(rows.length, 1);
    const redis2 = await connectRedis();
    assert.equal(await redis2.client.get(key), "kept");
    await redis2.client.del(key);
    await redis2.close();
  },
});

Deno.test({
  name: "services up refuses a port that another process holds, naming it",
  ...integration,
  async fn() {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    const root = Deno.makeTempDirSync({ prefix: "mercury-root-" });
    try {
      const launcher = new Launcher({ root, mode: "native", ports: { redis: port }, log: () => {} });
      await assert.rejects(launcher.up(["redis"]), (err) => {
        assert.ok(err instanceof MercuryError);
        assert.equal(err.code, "conflict");
        assert.match(err.message, new RegExp(`port ${port} for redis is already taken`));
        assert.match(err.hint ?? "", /MERCURY_REDIS_URL/);
        return true;
      });
      // Nothing was recorded as started.
      assert.deepEqual(JSON.parse(Deno.readTextFileSync(`${root}/.mercury/services.json`)), {});
      let state = "{}";
      try {
        state = Deno.readTextFileSync(`${root}/.mercury/state.json`);
      } catch { /* never written: nothing started */ }
      assert.equal(JSON.parse(state).redis, undefined);
    } finally {
      listener.close();
    }
  },
});

Deno.test({
  name: "a service that does not answer in time: timeout naming the log, process stopped",
  ...integration,
  async fn() {
    const root = Deno.makeTempDirSync({ prefix: "mercury-root-" });
    const port = freePort();
    // A zero budget: even a Redis that answers at once is past it (1 ms raced a fast start and lost once).
    const launcher = new Launcher({ root, mode: "native", ports: { redis: port }, timeoutSec: 0, log: () => {} });
    await assert.rejects(launcher.up(["redis"]), (err) => {
      assert.ok(err instanceof MercuryError);
      assert.equal(err.code, "timeout");
      assert.match(err.where ?? "", /\.mercury\/redis\/redis\.log$/);
      return true;
    });
    for (let i = 0; i < 50 && !portFree(port); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(portFree(port), true, "the half-started server was not stopped");
  },
});

Deno.test({
  name: "a launcher on free ports starts its own Redis and down stops only it",
  ...integration,
  async fn() {
    const root = Deno.makeTempDirSync({ prefix: "mercury-root-" });
    const port = freePort();
    const launcher = new Launcher({ root, mode: "native", ports: { redis: port }, log: () => {} });
    const [row] = await launcher.up(["redis"]);
    assert.equal(row!.health.ok, true);
    assert.equal(
      JSON.parse(Deno.readTextFileSync(`${root}/.mercury/services.json`)).redis.url,
      `redis://127.0.0.1:${port}`,
    );
    const lines = await launcher.down(["redis", "kafka"], true);
    assert.match(lines[0]!, /redis: stopped/);
    assert.match(lines.join("\n"), /kafka: not started by Mercury, left alone/);
    assert.equal(alive(row!.pid), false);
    // The project's own Redis is untouched.
    const r = await connectRedis();
    assert.equal(await r.client.ping(), "PONG");
    await r.close();
  },
});

Deno.test("services: bad input gets one line, a hint and a non-zero exit", async (t) => {
  await t.step("unknown service", async () => {
    const r = await runScript("tasks/services.ts", ["up", "mongo"]);
    assert.equal(r.code, 64);
    assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.match(r.stderr, /unknown service "mongo".*hint: services: postgres, redis, kafka/);
  });
  await t.step("unknown command", async () => {
    const r = await runScript("tasks/services.ts", ["upp"]);
    assert.equal(r.code, 64);
    assert.match(r.stderr, /unknown command "upp"/);
  });
  await t.step("bad --timeout", async () => {
    const r = await runScript("tasks/services.ts", ["up", "--timeout", "soon"]);
    assert.equal(r.code, 64);
    assert.match(r.stderr, /--timeout must be an integer ≥ 1, got 'soon'/);
  });
  await t.step("a malformed endpoint in the environment", async () => {
    const r = await runScript("tasks/services.ts", ["status", "redis"], { MERCURY_REDIS_URL: "redis//nohost" });
    assert.equal(r.code, 78);
    assert.match(r.stderr, /^error\[config\]: "redis\/\/nohost" is not a valid URL \(at MERCURY_REDIS_URL\)/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
  await t.step("help on every level", async () => {
    const r = await runScript("tasks/services.ts", ["--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /up\s+start services/);
    const up = await runScript("tasks/services.ts", ["up", "--help"]);
    assert.match(up.stdout, /--timeout SEC/);
  });
  await t.step("a missing binary is a not_found error naming it", async () => {
    await assert.rejects(run("mercury-no-such-binary", []), (err) => {
      assert.ok(err instanceof MercuryError);
      assert.equal(err.code, "not_found");
      assert.match(err.message, /mercury-no-such-binary/);
      return true;
    });
  });
});

Deno.test("services logs: a -n that is not a whole number of lines ≥ 1 is a usage error naming the option", async (t) => {
  for (const args of [["-n", "abc"], ["-n=-5"], ["-n", "0"], ["-n", "2.5"]]) {
    await t.step(args.join(" "), async () => {
      const r = await runScript("tasks/services.ts", ["logs", "kafka", ...args]);
      assert.equal(r.code, 64, r.stdout + r.stderr);
      assert.equal(r.stdout, "", "no log printed");
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, /^error\[usage\]: --lines must be an integer ≥ 1, got '.*'.*hint: see `.*logs --help`/);
    });
  }
  await t.step("-n 3 prints at most 3 lines of the log", async () => {
    const r = await runScript("tasks/services.ts", ["logs", "kafka", "-n", "3"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.trim().split("\n").length <= 4, r.stdout); // the header and 3 lines
  });
});
