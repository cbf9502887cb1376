/**
 * `deno task bench:stream-clients`: Kafka client choice, measured.
 *
 * Produces N records of 100 bytes (acks=1, no compression, no key) into a
 * 12-partition topic with each Deno client — kafkajs, @platformatic/kafka and
 * the load generator's own `RecordProducer` —
 * and with Kafka's own Java `org.apache.kafka.tools.ProducerPerformance` from
 * the broker's jars, in the same run against the same broker; then reads each
 * topic back with each Deno client and with the stream worker's own fetch path
 * (`Fetcher`, which the worker uses since it measured fastest). Prints records/s and the ratio to the Java
 * tool; writes bench/results/stream_clients.json.
 *
 * usage: deno task bench:stream-clients [--records 500000] [--runs 3]
 *
 * @module
 */
import { Kafka, logLevel } from "kafkajs";
import { Admin, Consumer, MessagesStreamModes, Producer } from "@platformatic/kafka";
import { Buffer } from "node:buffer";
import { projectRoot, resolveEndpoints } from "@mercury/core";
import { Fetcher, RecordProducer } from "@mercury/stream";

const arg = (name: string, dflt: number) => {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : dflt;
};
const N = arg("records", 500_000);
const RUNS = arg("runs", 3);
const PARTITIONS = 12;
const BATCH = 10_000;
const IN_FLIGHT = 4;
const brokers = resolveEndpoints().kafka.brokers;
const root = projectRoot();
const value = Buffer.alloc(100, "x");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const admin = new Admin({ clientId: "bench-admin", bootstrapBrokers: brokers });
async function freshTopic(name: string): Promise<string> {
  const topic = `bench_${name}_${Date.now().toString(36)}`;
  await admin.createTopics({ topics: [topic], partitions: PARTITIONS, replicas: 1 });
  await new Promise((r) => setTimeout(r, 500));
  return topic;
}

async function pool(total: number, send: (n: number) => Promise<unknown>): Promise<void> {
  let sent = 0;
  const worker = async () => {
    while (sent < total) {
      const n = Math.min(BATCH, total - sent);
      sent += n;
      await send(n);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

async function produceKafkajs(topic: string): Promise<number> {
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: "bench-kafkajs" });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const messages = Array.from({ length: BATCH }, () => ({ value }));
  const t0 = performance.now();
  await pool(N, (n) => producer.send({ topic, acks: 1, messages: n === BATCH ? messages : messages.slice(0, n) }));
  const secs = (performance.now() - t0) / 1000;
  await producer.disconnect();
  return N / secs;
}

async function producePlatformatic(topic: string): Promise<number> {
  const producer = new Producer({ clientId: "bench-platformatic", bootstrapBrokers: brokers, acks: 1 });
  const messages = Array.from({ length: BATCH }, (_, i) => ({ topic, value, partition: i % PARTITIONS }));
  const t0 = performance.now();
  await pool(N, (n) => producer.send({ messages: n === BATCH ? messages : messages.slice(0, n) }));
  const secs = (performance.now() - t0) / 1000;
  await producer.close();
  return N / secs;
}

/** The load generator's lean path (`RecordProducer`): batches encoded in place, keyless records sticky per request. */
async function produceRecordProducer(topic: string): Promise<number> {
  const producer = await RecordProducer.open({ brokers, topic, acks: 1, inFlight: IN_FLIGHT });
  const bytes = new Uint8Array(value); // the same 100 bytes the other clients send
  const t0 = performance.now();
  for (let sent = 0; sent < N;) {
    const now = Date.now();
    const n = Math.min(BATCH, N - sent);
    for (let i = 0; i < n; i++) producer.append(null, bytes, now);
    sent += n;
    await producer.send();
  }
  await producer.flush();
  const secs = (performance.now() - t0) / 1000;
  if (producer.acknowledged !== N) throw new Error(`${producer.acknowledged} of ${N} acknowledged`);
  await producer.close();
  return N / secs;
}

async function produceJava(topic: string): Promise<number> {
  const out = await new Deno.Command("java", {
    args: [
      "-Xmx512m",
      "-cp",
      `${root}/.mercury/kafka/libs/*`,
      `-Dlog4j2.configurationFile=${root}/services/kafka/log4j2.yaml`,
      "org.apache.kafka.tools.ProducerPerformance",
      "--topic",
      topic,
      "--num-records",
      String(N),
      "--record-size",
      "100",
      "--throughput",
      "-1",
      "--producer-props",
      `bootstrap.servers=${brokers.join(",")}`,
      "acks=1",
      "linger.ms=5",
      "batch.size=262144",
      "compression.type=none",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const m = /(\d+) records sent, ([\d.]+) records\/sec/.exec(text.trim().split("\n").pop() ?? "");
  if (!m) {
    throw new Error(`ProducerPerformance printed no summary: ${new TextDecoder().decode(out.stderr).slice(-500)}`);
  }
  return Number(m[2]);
}

async function consumeKafkajs(topic: string): Promise<number> {
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: "bench-kafkajs-c" });
  const consumer = kafka.consumer({ groupId: `g_${topic}_kjs`, maxBytes: 50 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let t0 = 0;
  await new Promise<void>((resolve) => {
    consumer.run({
      eachBatchAutoResolve: true,
      eachBatch: ({ batch }) => {
        if (t0 === 0) t0 = performance.now();
        seen += batch.messages.length;
        if (seen >= N) resolve();
        return Promise.resolve();
      },
    });
  });
  const secs = (performance.now() - t0) / 1000;
  await consumer.disconnect();
  return N / secs;
}

async function consumePlatformatic(topic: string): Promise<number> {
  const consumer = new Consumer({
    clientId: "bench-platformatic-c",
    groupId: `g_${topic}_pf`,
    bootstrapBrokers: brokers,
    maxBytes: 50 * 1024 * 1024,
  });
  const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false });
  let seen = 0;
  let t0 = 0;
  for await (const _ of stream) {
    if (t0 === 0) t0 = performance.now();
    if (++seen >= N) break;
  }
  const secs = (performance.now() - t0) / 1000;
  await stream.close();
  await consumer.close();
  return N / secs;
}

/** The worker's own fetch path (`Fetcher`): records walked in place, no object per record. */
async function consumeFetcher(topic: string): Promise<number> {
  const [host, port] = [brokers[0]!.slice(0, brokers[0]!.lastIndexOf(":")), Number(brokers[0]!.split(":").pop())];
  const fetcher = new Fetcher({ topic, clientId: "bench-fetcher", leader: () => Promise.resolve({ host, port }) });
  fetcher.assign(new Map(Array.from({ length: PARTITIONS }, (_, p) => [p, 0])));
  let seen = 0;
  let bytes = 0;
  let t0 = 0;
  while (seen < N) {
    const response = await fetcher.next();
    if (t0 === 0 && response.bytes) t0 = performance.now();
    fetcher.visit(response, (_p, _o, _t, _b, _ks, _ke, vs, ve) => {
      seen++;
      bytes += ve - vs; // touch the value, as a consumer would
    });
  }
  const secs = (performance.now() - t0) / 1000;
  fetcher.close();
  if (bytes !== seen * value.length) throw new Error(`read ${bytes} value bytes for ${seen} records`);
  return N / secs;
}

const results: Record<string, number[]> = {
  "produce: Java ProducerPerformance": [],
  "produce: kafkajs": [],
  "produce: @platformatic/kafka": [],
  "produce: Mercury RecordProducer": [],
  "consume: kafkajs": [],
  "consume: @platformatic/kafka": [],
  "consume: Mercury Fetcher": [],
};
const topics: string[] = [];
for (let run = 0; run < RUNS; run++) {
  const tj = await freshTopic("java");
  results["produce: Java ProducerPerformance"]!.push(await produceJava(tj));
  const tk = await freshTopic("kafkajs");
  results["produce: kafkajs"]!.push(await produceKafkajs(tk));
  const tp = await freshTopic("platformatic");
  results["produce: @platformatic/kafka"]!.push(await producePlatformatic(tp));
  const tr = await freshTopic("recordproducer");
  results["produce: Mercury RecordProducer"]!.push(await produceRecordProducer(tr));
  results["consume: kafkajs"]!.push(await consumeKafkajs(tj));
  results["consume: @platformatic/kafka"]!.push(await consumePlatformatic(tj));
  results["consume: Mercury Fetcher"]!.push(await consumeFetcher(tj));
  topics.push(tj, tk, tp, tr);
}
await admin.deleteTopics({ topics });
await admin.close();

const java = median(results["produce: Java ProducerPerformance"]!);
const table = Object.entries(results).map(([name, xs]) => ({
  measure: name,
  "median records/s": Math.round(median(xs)),
  runs: xs.map((x) => Math.round(x)).join(", "),
  "ratio to Java producer": name.startsWith("produce") ? Number((median(xs) / java).toFixed(3)) : null,
}));
console.table(table);
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL("./results/stream_clients.json", import.meta.url),
  JSON.stringify(
    { date: new Date().toISOString(), records: N, recordSize: 100, partitions: PARTITIONS, runs: RUNS, table },
    null,
    2,
  ) +
    "\n",
);
Deno.exit(0);
