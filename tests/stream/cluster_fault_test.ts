/**
 * The cluster fault test: a native three-broker KRaft cluster (replication
 * factor 3, `min.insync.replicas` 2), started once for this file beside the
 * default broker and torn down at the end. For each sink (PostgreSQL, Kafka):
 * the leader of the busiest partition is SIGKILLed while events are being
 * produced and restarted; then, under a running worker, the leader of the
 * busiest partition is SIGKILLed again and restarted later. The producer
 * must deliver every event exactly once, the worker must ride out both the
 * leader move (NOT_LEADER_OR_FOLLOWER, a dead connection → a metadata refresh)
 * and the broker's return, and the sink must equal a ground truth recomputed
 * from the topic: nothing lost, nothing counted twice.
 */
import assert from "node:assert/strict";
import {
  compareTotals,
  ensureTopic,
  Fetcher,
  FetchError,
  groundTruth,
  kafkaSinkTotals,
  PostgresSink,
  produceEvents,
  readTopic,
  sinkTotals,
  tumbling,
} from "@mercury/stream";
import { connectKafka } from "@mercury/core/services/kafka";
import { retry } from "@mercury/core/retry";
import { connectPostgres } from "@mercury/core/services/postgres";
import { integration, ROOT, uniqueName } from "../_helpers.ts";
import { FAULT_WORKER } from "./_fault.ts";
import { KafkaCluster } from "../../tasks/services/kafka_cluster.ts";

const COUNT = 300_000;
const cluster = new KafkaCluster({ root: ROOT, state: `${ROOT}/.mercury`, log: () => {} });

/** Each partition's leader (node id) and end offset; asked again while leaders move (NOT_LEADER_OR_FOLLOWER). */
function partitions(topic: string): Promise<{ partition: number; leader: number; end: number }[]> {
  return retry(() => partitionsOnce(topic), { attempts: 40, baseMs: 250, factor: 1 });
}

async function partitionsOnce(topic: string): Promise<{ partition: number; leader: number; end: number }[]> {
  await using k = await connectKafka({ brokers: cluster.brokers, timeoutMs: 5000 });
  const meta = await k.admin.fetchTopicMetadata({ topics: [topic] });
  const ends = await k.admin.fetchTopicOffsets(topic);
  return meta.topics[0]!.partitions.map((p) => ({
    partition: p.partitionId,
    leader: p.leader,
    end: Number(ends.find((e) => e.partition === p.partitionId)?.high ?? 0),
  }));
}

/** The leader of the partition with the most records (the busiest). */
async function busiestLeader(topic: string): Promise<number> {
  const parts = await partitions(topic);
  parts.sort((a, b) => b.end - a.end);
  return parts[0]!.leader;
}

/** Waits until every partition of every topic (internal ones too) has all its replicas in sync. */
async function waitFullIsr(timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let short = "";
  while (Date.now() < deadline) {
    try {
      await using k = await connectKafka({ brokers: cluster.brokers, timeoutMs: 5000 });
      const meta = await k.admin.fetchTopicMetadata();
      const lagging = meta.topics.flatMap((t) =>
        t.partitions.filter((p) => p.isr.length < p.replicas.length).map((p) => `${t.name}/${p.partitionId}`)
      );
      if (lagging.length === 0) return;
      short = lagging.slice(0, 5).join(", ");
    } catch (err) {
      short = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.fail(`replicas still out of sync after ${timeoutMs} ms: ${short}`);
}

/** Kills node `id` (SIGKILL), waits until it is gone. */
async function crash(id: number): Promise<void> {
  assert.ok(cluster.kill(id) !== undefined, `node ${id} was not running`);
  await cluster.waitExit(id);
}

/** Starts the node again and waits until the cluster is whole and in sync. */
async function restart(id: number): Promise<void> {
  await cluster.startNode(id);
  await cluster.waitHealthy(120);
  await waitFullIsr();
}

/** `stream process --until-done` against the cluster (brokers from MERCURY_KAFKA_BROKERS), stderr into `log`. */
function startWorker(topic: string, log: string[], extra: string[]): Deno.ChildProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/tasks/mercury.ts`, "stream", "process", "--topic", topic, ...extra, "--until-done"],
    env: { MERCURY_KAFKA_BROKERS: cluster.brokers.join(",") },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const tee = Deno.env.get("MERCURY_FAULT_LOG"); // a file to follow the worker's log in while debugging
  void child.stderr.pipeTo(
    new WritableStream({
      write: (b) => {
        log.push(new TextDecoder().decode(b));
        if (tee) Deno.writeFileSync(tee, b, { append: true });
      },
    }),
  );
  return child;
}

/** The windows (`start` as an ISO time) that differences from {@linkcode compareTotals} fall in, with their counts. */
function windowsOf(diffs: string[]): string {
  const counts = new Map<string, number>();
  for (const d of diffs) {
    const start = Number(d.split("|")[1]);
    const at = Number.isFinite(start) ? new Date(start).toISOString() : "?";
    counts.set(at, (counts.get(at) ?? 0) + 1);
  }
  return [...counts].map(([w, n]) => `${w} (${n})`).join(", ");
}

/** Produces COUNT events while the busiest partition's leader is killed, then restarts it. */
async function produceThroughACrash(topic: string, seed: number): Promise<number> {
  await ensureTopic(cluster.brokers, topic, { partitions: 6 });
  const produced = produceEvents({
    brokers: cluster.brokers,
    topic,
    count: COUNT,
    seed,
    users: 300,
    stepMs: 20,
    disorderMs: 3000,
    lateShare: 0.0005,
    malformedShare: 0.002,
    start: Date.now() - 3_600_000 * 3,
    inFlight: 1,
  });
  // Kill once some records are in.
  let victim = 0;
  for (let i = 0; i < 600; i++) {
    const parts = await partitions(topic);
    if (parts.reduce((s, p) => s + p.end, 0) > COUNT / 10) {
      victim = await busiestLeader(topic);
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(victim > 0, "production never got going");
  const endsAtKill = (await partitions(topic)).reduce((s, p) => s + p.end, 0);
  await crash(victim);
  const sent = await produced;
  assert.equal(sent.sent, COUNT);
  assert.ok(endsAtKill < COUNT, `the broker was killed after production ended (${endsAtKill})`);
  await restart(victim);
  return victim;
}

/**
 * Runs a worker, kills the busiest partition's leader once the worker has made progress, restarts it once the
 * worker made progress without it, and waits for the worker to finish. Returns what was seen.
 */
async function processThroughACrash(
  topic: string,
  extra: string[],
  progress: () => Promise<number>,
): Promise<{ atKill: number; whileDown: number; victim: number; log: string }> {
  const log: string[] = [];
  const child = startWorker(topic, log, [...FAULT_WORKER, "--no-enrich", ...extra]);
  let exited = false;
  void child.status.then(() => (exited = true));
  let atKill = 0;
  for (let i = 0; i < 1200 && !exited && atKill === 0; i++) {
    atKill = await progress().catch(() => 0);
    if (atKill === 0) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(atKill > 0 && !exited, `the worker made no progress:\n${log.join("").slice(-2000)}`);
  const victim = await busiestLeader(topic);
  await crash(victim);
  // The worker goes on with the two brokers left (the partitions' new leaders).
  let whileDown = atKill;
  for (let i = 0; i < 600 && !exited && whileDown <= atKill; i++) {
    await new Promise((r) => setTimeout(r, 100));
    whileDown = await progress().catch(() => atKill);
  }
  // The worker may have finished before a reading got through (the group's coordinator moving): read once more,
  // still without the victim, asking again while the coordinator moves.
  if (whileDown <= atKill) {
    whileDown = await retry(progress, { attempts: 40, baseMs: 250, factor: 1 }).catch(() => atKill);
  }
  await restart(victim);
  // Bounded: a worker stuck after the leader moved would otherwise hang the test.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const status = await Promise.race([
    child.status,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`the worker did not finish within 240 s:\n${log.join("").slice(-4000)}`));
      }, 240_000);
    }),
  ]).finally(() => clearTimeout(timer));
  assert.ok(status.success, `the worker died (${status.code}):\n${log.join("").slice(-3000)}`);
  return { atKill, whileDown, victim, log: log.join("") };
}

Deno.test({
  name: "a three-broker cluster: its busiest leader killed while producing and while processing, and restarted, " +
    "loses nothing and counts nothing twice (PostgreSQL and Kafka sinks)",
  ...integration,
  async fn(t) {
    try {
      await cluster.up(180); // inside: a node that fails to start must not leave the others running
      await t.step("the cluster replicates topics three times, two in sync required", async () => {
        const topic = uniqueName("cluster-rf");
        await ensureTopic(cluster.brokers, topic, { partitions: 2 });
        await using k = await connectKafka({ brokers: cluster.brokers, timeoutMs: 5000 });
        const meta = await k.admin.fetchTopicMetadata({ topics: [topic] });
        for (const p of meta.topics[0]!.partitions) assert.equal(p.replicas.length, 3);
        const { resources } = await k.admin.describeConfigs({
          resources: [{ type: 2, name: topic, configNames: ["min.insync.replicas"] }],
          includeSynonyms: false,
        });
        assert.equal(resources[0]!.configEntries[0]!.configValue, "2");
        await k.admin.deleteTopics({ topics: [topic] });
      });

      await t.step(
        "a fetch sent to a broker that is not the leader is NOT_LEADER_OR_FOLLOWER (retriable); asked again at the leader, it reads",
        async () => {
          const topic = uniqueName("cluster-nl");
          // One replica: the other brokers hold no copy (a follower of a replicated partition would serve the read).
          // A new topic's metadata can lag on the broker asked ("does not host this topic-partition"): ask again.
          await retry(async () => {
            await using k = await connectKafka({ brokers: cluster.brokers, timeoutMs: 5000 });
            await k.admin.createTopics({
              topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
              waitForLeaders: true,
            });
          }, { attempts: 5, baseMs: 500, retryable: (err) => /does not host|leader/i.test(String(err)) });
          await produceEvents({ brokers: cluster.brokers, topic, count: 100, seed: 3, users: 10 });
          const [part] = await partitions(topic);
          const leader = cluster.node(part!.leader);
          const follower = cluster.nodes.find((n) => n.id !== leader.id)!;
          let asked = 0;
          // Stale metadata first (another broker), then what a refresh returns: how the worker's fetch pump uses it.
          const fetcher = new Fetcher({
            topic,
            clientId: "cluster-test",
            leader: () => Promise.resolve({ host: "127.0.0.1", port: asked++ === 0 ? follower.port : leader.port }),
          });
          try {
            fetcher.assign(new Map([[0, 0]]));
            await assert.rejects(fetcher.next(), (err: unknown) => {
              assert.ok(err instanceof FetchError);
              assert.equal(err.code, 6); // NOT_LEADER_OR_FOLLOWER
              assert.equal(err.retriable, true);
              return true;
            });
            let records = 0;
            for (let i = 0; i < 50 && records < 100; i++) fetcher.visit(await fetcher.next(), () => records++);
            assert.equal(records, 100);
          } finally {
            fetcher.close();
          }
          await using k = await connectKafka({ brokers: cluster.brokers, timeoutMs: 5000 });
          await k.admin.deleteTopics({ topics: [topic] });
        },
      );

      await t.step("PostgreSQL sink", async () => {
        const topic = uniqueName("cluster-pg");
        await produceThroughACrash(topic, 23);
        const progress = async () => {
          const pg = await connectPostgres({ max: 1 });
          try {
            const [row] = await pg.sql`
              select coalesce(sum(events), 0)::int as n from stream_checkpoints where pipeline = ${topic}`;
            return row!.n as number;
          } finally {
            await pg.close();
          }
        };
        const run = await processThroughACrash(topic, ["--instance-id", "cluster-pg-worker"], progress);
        assert.ok(run.atKill < COUNT, `the leader was killed after the worker finished (${run.atKill})`);
        assert.ok(
          run.whileDown > run.atKill,
          `no progress while node ${run.victim} was down:\n${run.log.slice(-2000)}`,
        );

        const truth = groundTruth(await readTopic(cluster.brokers, topic), tumbling(60_000), 5000, 0);
        assert.equal(truth.events + truth.late + truth.malformed, COUNT);
        const pg = await connectPostgres();
        try {
          assert.deepEqual(compareTotals(truth.totals, await sinkTotals(pg.sql, topic)), []);
          const [c] = await pg.sql`
            select sum(events)::int as events from stream_checkpoints where pipeline = ${topic}`;
          assert.equal(c!.events, COUNT);
          await (await PostgresSink.open(pg.sql, topic)).reset();
        } finally {
          await pg.close();
        }
      });

      await t.step("Kafka sink", async () => {
        const topic = uniqueName("cluster-k");
        await produceThroughACrash(topic, 29);
        const progress = async () => {
          await using k = await connectKafka({ brokers: cluster.brokers, timeoutMs: 3000 });
          const [t] = await k.admin.fetchOffsets({ groupId: `mercury-stream-${topic}`, topics: [topic] });
          return (t?.partitions ?? []).reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
        };
        const run = await processThroughACrash(
          topic,
          ["--sink", "kafka", "--instance-id", "cluster-k-worker"],
          progress,
        );
        assert.ok(run.atKill < COUNT, `the leader was killed after the worker finished (${run.atKill})`);
        assert.ok(
          run.whileDown > run.atKill,
          `no progress while node ${run.victim} was down:\n${run.log.slice(-2000)}`,
        );

        const truth = groundTruth(await readTopic(cluster.brokers, topic), tumbling(60_000), 5000, 0);
        assert.equal(truth.events + truth.late + truth.malformed, COUNT);
        const read = () => kafkaSinkTotals(cluster.brokers, `${topic}.windows`, `${topic}.state`);
        const first = compareTotals(truth.totals, await read(), Infinity);
        if (first.length > 0) {
          // Once seen in CI (a whole window missing): say which windows and what the worker went through, and read
          // again — a sink that lost results stays short, a first read that ended early does not.
          await new Promise((r) => setTimeout(r, 10_000));
          const again = compareTotals(truth.totals, await read(), Infinity);
          const report = [
            `first read: ${first.length} differences in windows ${windowsOf(first)}`,
            `read again 10 s later: ${again.length} differences${
              again.length ? ` in windows ${windowsOf(again)}` : ""
            }`,
            `worker log (checkpoints, fences, restarts):`,
            ...run.log.split("\n").filter((l) => /checkpoint|fenc|restart|reload|resuming|error/i.test(l)).slice(-40),
          ].join("\n");
          console.error(report);
          assert.deepEqual(again.slice(0, 10), [], report);
        }
      });
    } finally {
      await cluster.down(true);
    }
  },
});
