/**
 * `stream autoscale` on real worker processes: a burst the pool's one worker cannot keep up with (each worker is
 * held to 5,000 events/s with --worker-max-rate) makes it scale up at once, the native Prometheus scrapes every
 * worker through the file_sd list the pool maintains, the pool scales back down once the backlog is gone, and
 * `stream verify` finds every window exact.
 */
import assert from "node:assert/strict";
import { ensureTopic, PostgresSink } from "@mercury/stream";
import { resolveEndpoints } from "@mercury/core";
import { connectPostgres } from "@mercury/core/services/postgres";
import { prometheusPaths } from "@mercury/core/services/prometheus";
import { ROOT, uniqueName } from "../_helpers.ts";

const mercury = (args: string[]) =>
  new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/tasks/mercury.ts`, "stream", ...args],
    stdout: "piped",
    stderr: "piped",
  });

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const got = await probe();
    if (got !== undefined) return got;
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

Deno.test({
  name: "autoscale on real workers: scales up on a burst, Prometheus scrapes the workers, scales down, exact results",
  async fn() {
    const topic = uniqueName("autoscale");
    const prometheus = resolveEndpoints().prometheus.url;
    const ready = await fetch(`${prometheus}/-/ready`).then((r) => r.ok, () => false);
    assert.ok(ready, `Prometheus must answer at ${prometheus} (deno task services up prometheus)`);
    const pg = await connectPostgres({ max: 1 });
    const sink = await PostgresSink.open(pg.sql, topic);
    await ensureTopic(resolveEndpoints().kafka.brokers, topic, { partitions: 4 });
    const targetsFile = `${prometheusPaths(ROOT).targets}/stream-${topic}.json`;
    const listed = async () => {
      try {
        return (JSON.parse(await Deno.readTextFile(targetsFile)) as { targets: string[] }[])[0]!.targets;
      } catch {
        return undefined;
      }
    };
    const scaler = mercury([
      "autoscale",
      "--topic",
      topic,
      "--min",
      "1",
      "--max",
      "3",
      "--scale-up-lag",
      "4000",
      "--scale-down-lag",
      "1000",
      "--cooldown",
      "3s",
      "--worker-max-rate",
      "5000",
    ]).spawn();
    let log = "";
    const logDone = (async () => {
      for await (const c of scaler.stderr.pipeThrough(new TextDecoderStream())) log += c;
    })();
    const stdout = new Response(scaler.stdout).text();
    const decisions = () => [...log.matchAll(/scale (\d) → (\d) workers/g)].map((m) => [Number(m[1]), Number(m[2])]);
    let producer: Promise<Deno.CommandOutput> | undefined;
    let failure: unknown;
    try {
      // One worker first, listed for Prometheus once it serves /metrics.
      await until(
        "the first worker's metrics listed",
        60_000,
        async () => ((await listed())?.length === 1 ? 1 : undefined),
      );

      // A burst: 15,000 events/s for 8 s against one worker held to 5,000/s.
      const t0 = Date.now();
      producer = mercury([
        "produce",
        "--topic",
        topic,
        "--partitions",
        "4",
        "--events-per-sec",
        "15000",
        "--duration",
        "8s",
        "--users",
        "500",
      ]).output();
      const up = await until("a scale-up", 20_000, () => decisions().find(([from, to]) => to! > from! && from! >= 1));
      const upAfter = (Date.now() - t0) / 1000;
      assert.ok(upAfter < 10, `scaled up ${upAfter} s after the burst began (cooldown 3 s, a look every second)`);
      assert.ok(up[1]! >= 2);

      // Every worker of the scaled-up pool is listed, and Prometheus scrapes each of them.
      const targets = await until(
        "the scaled-up workers listed",
        30_000,
        async () => ((await listed())?.length ?? 0) >= 2 ? (await listed())! : undefined,
      );
      await until("Prometheus scraping the listed workers", 40_000, async () => {
        const r = await (await fetch(`${prometheus}/api/v1/targets?state=active`)).json() as {
          data: { activeTargets: { labels: Record<string, string>; health: string }[] };
        };
        const up = r.data.activeTargets.filter((a) => a.labels.job === `stream-${topic}` && a.health === "up")
          .map((a) => a.labels.instance);
        return targets.every((t) => up.includes(t)) ? up : undefined;
      });

      const produced = await producer;
      assert.equal(produced.code, 0, new TextDecoder().decode(produced.stderr));
      // The backlog drains and the pool goes back to one worker, one step per cooldown.
      await until("the scale-down to one worker", 90_000, () => {
        const d = decisions();
        return d.length >= 2 && d.at(-1)![1] === 1 && d.at(-1)![0]! > 1 ? true : undefined;
      });
      assert.equal((await listed())?.length, 1, "the stopped workers left the list");
    } catch (err) {
      failure = err;
    } finally {
      scaler.kill("SIGTERM");
    }
    const status = await scaler.status;
    await logDone;
    const out = await stdout;
    await producer?.catch(() => {});
    try {
      if (failure) throw new Error(`${(failure as Error).message}\nautoscale's log:\n${log.slice(-4000)}`);
      assert.equal(status.code, 0, log);
      // Every change was logged with its lag and the JSON of decisions printed at the end.
      assert.ok(JSON.parse(out.trim().split("\n").at(-1)!).length >= 2, out);
      assert.equal(await listed(), undefined, "the list is removed when the pool stops");
      const verified = await mercury(["verify", "--topic", topic]).output();
      const text = new TextDecoder().decode(verified.stdout) + new TextDecoder().decode(verified.stderr);
      assert.equal(verified.code, 0, text);
      // Every record produced is accounted for: counted, late (the generator plants some) or malformed.
      const m = /: (\d+) events, (\d+) late, (\d+) malformed/.exec(text);
      assert.ok(m, text);
      assert.equal(Number(m[1]) + Number(m[2]) + Number(m[3]), 120_000, text);
      assert.match(text, /exact: every window matches the ground truth/);
    } finally {
      await sink.reset();
      await pg.close();
    }
  },
});
