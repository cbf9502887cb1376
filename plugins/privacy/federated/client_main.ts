/**
 * A federated client process: `deno run client_main.ts <config.json>`. It
 * reads its own data partition, long-polls the coordinator for tasks, trains
 * locally and answers; with secure aggregation it runs its side of the
 * protocol ({@linkcode SecAggClient}) and only ever sends masked vectors.
 *
 * @module
 */
import { seededRandom } from "@mercury/core/random";
import { SecAggClient } from "../secagg/protocol.ts";
import { encode } from "../secagg/field.ts";
import type { Table } from "./data.ts";
import { loadModel, type Model } from "./models.ts";
import type { ClientConfig, Task, TrainTask } from "./protocol.ts";

const cfg: ClientConfig = JSON.parse(await Deno.readTextFile(Deno.args[0]!));
const data: Table = JSON.parse(await Deno.readTextFile(cfg.data));
const model: Model = await loadModel(cfg.model, data.d);
const rnd = seededRandom(cfg.seed);
let secagg: SecAggClient | undefined;
let droppedRound = -1;
let seenRound = -1;

async function localUpdate(t: TrainTask): Promise<number[]> {
  const w = await model.train(t.weights, data, t.train);
  const delta = w.map((v, j) => v - t.weights[j]!);
  if (t.clip !== undefined) {
    const norm = Math.hypot(...delta);
    const f = Math.min(1, t.clip / (norm || 1));
    for (let j = 0; j < delta.length; j++) delta[j]! *= f;
  }
  return delta;
}

async function handle(task: Task): Promise<Record<string, unknown> | undefined> {
  switch (task.op) {
    case "train":
      return { n: data.y.length, delta: await localUpdate(task as unknown as Task & TrainTask) };
    case "keys":
      secagg = new SecAggClient(cfg.id, cfg.threshold);
      return { ...(await secagg.advertise()) };
    case "share":
      return { shares: await secagg!.shareKeys(task.roster as Record<string, { c: string; s: string }>) };
    case "masked": {
      const t = task as unknown as Task & TrainTask;
      const delta = await localUpdate(t);
      // Without DP the sum is weighted by rows: send n·Δ and n; with DP every client weighs 1.
      const n = t.clip === undefined ? data.y.length : 1;
      const x = encode([...delta.map((v) => v * n), n]);
      const y = await secagg!.maskedInput(x, task.inbox as Record<string, string>, task.u2 as number[]);
      if (cfg.fault?.kind === "drop-after-mask" && task.round >= cfg.fault.round) droppedRound = task.round;
      return { y: Array.from(y) };
    }
    case "unmask":
      return { ...secagg!.unmask(task.survivors as number[], task.dropped as number[]) };
    default:
      return undefined;
  }
}

/** The slowloris fault: announce a result, send half of it, and never finish (the process waits to be stopped). */
async function slowloris(task: Task): Promise<never> {
  const u = new URL(`${cfg.coordinator}/result?client=${cfg.id}&seq=${task.seq}`);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  await conn.write(new TextEncoder().encode(
    `POST ${u.pathname}${u.search} HTTP/1.1\r\nhost: ${u.host}\r\nauthorization: Bearer ${cfg.token}\r\n` +
      `content-type: application/json\r\ncontent-length: 1000\r\n\r\n{"n": 5, "delta": [`,
  ));
  return await new Promise<never>(() => setInterval(() => {}, 60_000));
}

const base = cfg.coordinator;
const auth = { authorization: `Bearer ${cfg.token}` };

// Tasks arrive over one WebSocket (see hub.ts) and are handled one at a time, in order.
const inbox: Task[] = [];
let wake: (() => void) | undefined;
let closed = false;
const ws = new WebSocket(
  `${base.replace(/^http/, "ws")}/ws?client=${cfg.id}&token=${encodeURIComponent(cfg.token)}`,
);
ws.onmessage = (e) => {
  inbox.push(JSON.parse(e.data as string) as Task);
  wake?.();
};
ws.onclose = () => {
  closed = true;
  wake?.();
};
ws.onerror = () => {};
const nextTask = async (): Promise<Task | undefined> => {
  while (inbox.length === 0 && !closed) await new Promise<void>((r) => wake = r);
  wake = undefined;
  return inbox.shift();
};
const reply = (seq: number, text: string) => {
  if (ws.readyState === WebSocket.OPEN) ws.send(text);
  else console.error(`client ${cfg.id}: the coordinator is gone (task ${seq} not answered)`);
};

for (let task = await nextTask(); task && task.op !== "stop"; task = await nextTask()) {
  if (task.op === "wait") continue;
  if (task.round !== seenRound) {
    seenRound = task.round;
    if (cfg.dropRate > 0 && rnd() < cfg.dropRate) droppedRound = task.round;
  }
  const fault = cfg.fault && task.round >= cfg.fault.round ? cfg.fault.kind : undefined;
  if (fault === "crash") Deno.exit(3);
  if (fault === "slowloris") await slowloris(task);
  if (fault === "silent" || droppedRound === task.round) continue;
  if (fault === "malformed") reply(task.seq, `{"seq": ${task.seq}, "body": {"n": "lots", "delta": [1, 2`);
  else if (fault === "oversized") {
    reply(task.seq, JSON.stringify({ seq: task.seq, body: { padding: "x".repeat(8 << 20) } }));
  } else if (fault === "wrong-type") {
    // Over HTTP, labelled text/plain: the hub refuses it (415).
    const res = await fetch(`${base}/result?client=${cfg.id}&seq=${task.seq}`, {
      method: "POST",
      body: JSON.stringify(await handle(task)),
      headers: { ...auth, "content-type": "text/plain" },
    }).catch(() => undefined);
    await res?.body?.cancel();
  } else {
    // A step this client cannot complete (e.g. secure aggregation refusing an unsafe unmask) is a dropout for
    // this step only: say why on stderr, send nothing, stay in the federation.
    const out = await handle(task).catch((err) => {
      console.error(`client ${cfg.id}, round ${task!.round}, ${task!.op}: ${(err as Error).message}`);
      return undefined;
    });
    if (out !== undefined) reply(task.seq, JSON.stringify({ seq: task.seq, body: out }));
  }
}
ws.close();
