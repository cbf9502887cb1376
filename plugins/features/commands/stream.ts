/**
 * `stream`: a stream feature view fed from a Kafka topic by the stream plugin's windows, into Redis and the view's
 * Parquet history, until SIGINT or SIGTERM (then the remaining history and a checkpoint are written). A restart
 * resumes from the checkpoint in the history directory (also after a crash).
 *
 * @module
 */
import { type CommandArgs, type CommandContext, MercuryError } from "@mercury/core";
import { untilSignal } from "@mercury/core/signal";
import type { FeatureStore } from "../feature_store.ts";
import { open } from "./_open.ts";

/**
 * Where a stream feature view's history parts go: `given`, or the directory of the view's `<dir>/*.parquet` file
 * source (a usage error naming `where` otherwise).
 */
export function historyDirOf(fs: FeatureStore, viewName: string, given?: string, where = "--history-dir"): string {
  if (given) return given;
  const view = fs.offline.view(viewName);
  const m = view.source.kind === "file_source" ? /^(.*)\/\*\.parquet$/.exec(view.source.path) : null;
  if (!m) {
    throw new MercuryError("usage", `feature view "${viewName}" does not read a directory of Parquet parts`, {
      where,
      hint: "give --history-dir, or a fileSource whose path is <dir>/*.parquet",
    });
  }
  return m[1]!;
}

/** `stream --view VIEW --topic TOPIC [--history-dir DIR]`. */
export async function stream(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const viewName = args.values.view as string | undefined;
  const topic = args.values.topic as string | undefined;
  if (!viewName) throw new MercuryError("usage", "--view is required", { hint: "--view card_tx_10m" });
  if (!topic) throw new MercuryError("usage", "--topic is required", { hint: "--topic transactions" });
  const fs = await open(args, { served: true });
  try {
    const historyDir = historyDirOf(fs, viewName, args.values["history-dir"] as string | undefined);
    const { startStreamFeatures } = await import("../stream_features.ts");
    let batches = 0;
    const job = await startStreamFeatures({
      repo: fs.repo,
      view: viewName,
      online: fs.online,
      connection: fs.duck.connection,
      historyDir,
      brokers: ctx.endpoints().kafka.brokers,
      topic,
      keyField: (args.values["key-field"] as string | undefined) || undefined,
      valueField: (args.values["value-field"] as string | undefined) || undefined,
      timeField: (args.values["time-field"] as string | undefined) || undefined,
      group: (args.values.group as string | undefined) || undefined,
      historyEveryMs: args.values["checkpoint-every"] as number,
      onBatch: () => void batches++,
    });
    const r = job.resumed;
    ctx.print(
      `streaming ${topic} into ${fs.repo.project}/${fs.env} ${viewName} (${fs.source.describe}); history ${historyDir}; ` +
        (r
          ? `resumed from the checkpoint of ${r.at} (${r.events} events, offsets ${
            Object.entries(r.offsets).map(([p, o]) => `${p}:${o}`).join(" ") || "none"
          })`
          : "no checkpoint: empty windows"),
    );
    await untilSignal();
    await job.stop();
    ctx.print(
      `${viewName}: ${job.received} events in ${batches} batches, ${job.rejected} rejected` +
        (job.skipped ? `, ${job.skipped} skipped (already in the checkpoint)` : "") +
        `; checkpoint ${historyDir}/_checkpoint.json`,
    );
  } finally {
    await fs.close();
  }
}
