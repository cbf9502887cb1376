/**
 * The Kafka → Kafka exactly-once fault test: window results, a state
 * changelog and the consumer offsets go in one Kafka transaction; the worker
 * is SIGKILLed at random moments and the broker is killed and restarted once
 * under a running worker, which must ride it out;
 * the output read with read_committed must equal a ground truth recomputed
 * from the input topic. The kill timing is seeded (printed; replay with
 * MERCURY_FAULT_SEED=<seed>).
 */
import assert from "node:assert/strict";
import {
  compareTotals,
  ensureTopic,
  groundTruth,
  kafkaSinkTotals,
  produceEvents,
  readTopic,
  tumbling,
} from "@mercury/stream";
import { resolveEndpoints } from "@mercury/core";
import { connectKafka } from "@mercury/core/services/kafka";
import { integration, uniqueName } from "../_helpers.ts";
import { FAULT_WORKER, faultRandom, killBroker, servicesUp, startWorker } from "./_fault.ts";

const brokers = resolveEndpoints().kafka.brokers;
// Large enough that a restarted worker cannot commit the whole rest of the topic in its first checkpoint (a fresh-clone
// CI run with 200,000 saw the fifth kill land after the end: 42,609 → 200,000 in one 200 ms checkpoint).
const COUNT = 600_000;

const WORKER = [
  ...FAULT_WORKER,
  "--sink",
  "kafka",
  "--no-enrich",
  "--instance-id",
  "kafka-fault-worker",
];

/** Offsets the worker's group has committed (in its transactions), summed over partitions. */
async function committed(topic: string): Promise<number> {
  const k = await connectKafka({ brokers, timeoutMs: 3000 });
  try {
    const [t] = await k.admin.fetchOffsets({ groupId: `mercury-stream-${topic}`, topics: [topic] });
    return (t?.partitions ?? []).reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
  } finally {
    await k.close();
  }
}

Deno.test({
  name: "exactly-once Kafka → Kafka: SIGKILLed workers and a killed broker lose nothing and count nothing twice",
  ...integration,
  async fn() {
    const topic = uniqueName("eosk");
    await ensureTopic(brokers, topic, { partitions: 6 });
    const sent = await produceEvents({
      brokers,
      topic,
      count: COUNT,
      seed: 17,
      users: 300,
      // 600,000 × 10 ms: 100 minutes of event time ending 20 minutes ago (at 20 ms the last events were stamped in the
      // future, and their windows differed from the ground truth).
      stepMs: 10,
      disorderMs: 3000,
      lateShare: 0.0005,
      malformedShare: 0.002,
      start: Date.now() - 3_600_000 * 2,
      inFlight: 1,
    });
    assert.equal(sent.sent, COUNT);

    const log: string[] = [];
    const atKill: number[] = [];
    const waitForProgress = async (child: Deno.ChildProcess, above: number) => {
      let exited = false;
      void child.status.then(() => (exited = true));
      for (let i = 0; i < 300 && !exited; i++) {
        const n = await committed(topic).catch(() => above);
        if (n > above) return n;
        await new Promise((r) => setTimeout(r, 100));
      }
      return above;
    };
    const random = faultRandom("exactly_once_kafka_test");
    let kills = 0;
    let brokerKilled = false;
    let survived = false;
    let finished = false;
    let last = 0;
    // Five rounds: start a worker, wait until it has committed a transaction, let it run a random
    // moment more, SIGKILL it. Then the broker is killed under a sixth worker and restarted; the
    // worker may die with it. Workers then run until one finishes.
    for (let round = 0; round < 40 && !finished; round++) {
      const child = startWorker(topic, log, WORKER);
      if (kills < 5) {
        last = await waitForProgress(child, last);
        await new Promise((r) => setTimeout(r, random() * 150));
        try {
          child.kill("SIGKILL");
          kills++;
          atKill.push(await committed(topic));
          // What the killed worker committed after it was seen: the next one must go past it (without this, a
          // fresh-clone CI run killed the fifth worker at the fourth's offset, before it had done anything).
          last = Math.max(last, atKill.at(-1)!);
        } catch { /* it had already exited */ }
      } else if (!brokerKilled) {
        last = await waitForProgress(child, last);
        killBroker();
        brokerKilled = true;
        await new Promise((r) => setTimeout(r, 1000));
        await servicesUp("kafka");
        // The worker rides out the broker's restart: it retries its checkpoint and goes on to the end.
        survived = (await child.status).success;
      }
      finished = (await child.status).success;
    }
    assert.ok(kills >= 5, `only ${kills} kills, at ${atKill.join(", ")}; last ${last}\n${log.join("").slice(-1500)}`);
    const midStream = atKill.filter((n, i) => n < COUNT && n > (atKill[i - 1] ?? 0));
    assert.ok(midStream.length >= 5, `kills at ${atKill.join(", ")} committed offsets`);
    assert.ok(brokerKilled);
    assert.ok(survived, `the worker died with the broker:\n${log.join("").slice(-2000)}`);
    assert.ok(finished, `the worker never finished:\n${log.join("").slice(-3000)}`);

    const truth = groundTruth(await readTopic(brokers, topic), tumbling(60_000), 5000, 0);
    assert.equal(truth.events + truth.late + truth.malformed, COUNT);
    const actual = await kafkaSinkTotals(brokers, `${topic}.windows`, `${topic}.state`);
    assert.deepEqual(compareTotals(truth.totals, actual), []);
    const k = await connectKafka({ brokers });
    try {
      await k.admin.deleteTopics({ topics: [topic, `${topic}.windows`, `${topic}.state`, `${topic}.dlq`] });
    } finally {
      await k.close();
    }
  },
});
