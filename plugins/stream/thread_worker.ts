/**
 * The inside of one `ThreadedProcessor` thread: builds the topology from its
 * module, runs a {@linkcode Processor} with manual assignment over the
 * partitions the coordinator hands it, and reports logs, metrics, committed
 * offsets and its end over `postMessage`.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { connectPostgres } from "@mercury/core/services/postgres";
import { Processor, type ProcessorStats } from "./processor.ts";
import type { Topology } from "./topology.ts";
import type { FromThread, ToThread } from "./threaded.ts";

const post = (m: FromThread) => self.postMessage(m);
let processor: Processor<unknown> | undefined;
let assignment: number[] | undefined;
let stopped = false;

self.onmessage = (e: MessageEvent<ToThread>) => {
  const m = e.data;
  if (m.type === "start") void start(m);
  else if (m.type === "assign") {
    assignment = m.partitions;
    processor?.assign(m.partitions);
  } else if (m.type === "stop") {
    stopped = true;
    processor?.stop();
  }
};

async function start(m: Extract<ToThread, { type: "start" }>): Promise<void> {
  let close: (() => Promise<void>) | undefined;
  let pg: Awaited<ReturnType<typeof connectPostgres>> | undefined;
  let metrics: ReturnType<typeof setInterval> | undefined;
  try {
    pg = await connectPostgres({ max: 2 });
    const mod = await import(m.topology.url);
    const make = mod[m.topology.export ?? "default"];
    if (typeof make !== "function") {
      throw new Error(`${m.topology.url} has no function export "${m.topology.export ?? "default"}"`);
    }
    const made = await make(m.topology.args);
    const topology = ("topology" in made ? made.topology : made) as Topology<unknown>;
    close = "topology" in made ? made.close : undefined;
    processor = new Processor({
      ...m.options,
      assignment: "manual",
      topology,
      sql: pg.sql,
      log: (line) => post({ type: "log", line }),
      onDone: () => post({ type: "done", partitions: assignment ?? [] }),
      onCommit: (offsets) => post({ type: "committed", offsets }),
    });
    if (assignment) processor.assign(assignment);
    if (stopped) processor.stop();
    post({ type: "ready" });
    metrics = setInterval(() => post({ type: "metrics", text: processor!.registry.expose() }), 1000);
    const stats: ProcessorStats = await processor.run();
    post({ type: "metrics", text: processor.registry.expose() });
    post({ type: "finished", stats });
  } catch (err) {
    post({ type: "failed", message: (err as Error).message, stack: (err as Error).stack });
  } finally {
    clearInterval(metrics);
    await close?.().catch(() => {});
    await pg?.close().catch(() => {});
    self.close();
  }
}
