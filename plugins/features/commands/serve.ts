/**
 * `serve`: the HTTP feature server, the gRPC one (loaded only when serving gRPC) and optionally Kafka push
 * ingestion (loaded only with `--push`), with drift and null-rate gauges refreshed from the registry every 30 s (and
 * drift alerts to `--alert-webhook`), retention pruning every `--prune-every-minutes`, and stream feature views fed
 * from Kafka (`--stream VIEW=TOPIC`, loaded only then; checkpointed as by the `stream` command).
 * Runs until SIGINT or SIGTERM.
 *
 * @module
 */
import { type CommandArgs, type CommandContext, MercuryError } from "@mercury/core";
import { DEFAULT_MAX_BODY_BYTES } from "@mercury/core/http_body";
import { untilSignal } from "@mercury/core/signal";
import { serveHttp } from "../http_server.ts";
import { FeatureServer } from "../online_features.ts";
import { DEFAULT_MAX_ENTITIES, DEFAULT_STORE_TIMEOUT_MS } from "../online_request.ts";
import { PiiAccessLog, TokenAuth } from "../pii.ts";
import { scheduleRetention } from "../retention.ts";
import { trainingSetHandler } from "../training_set.ts";
import { open } from "./_open.ts";

/** `serve`: HTTP + gRPC feature server until a stop signal. */
export async function serve(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const maxEntities = Number(args.values["max-entities"] ?? DEFAULT_MAX_ENTITIES);
  const maxBytes = Number(args.values["max-body-bytes"] ?? DEFAULT_MAX_BODY_BYTES);
  const storeTimeoutMs = Number(args.values["store-timeout-ms"] ?? DEFAULT_STORE_TIMEOUT_MS);
  const tokensPath = args.values.tokens as string | undefined;
  const auth = tokensPath ? await TokenAuth.fromFile(tokensPath) : undefined;
  const streamArgs = ((args.values.stream as string[] | undefined) ?? []).map((spec) => {
    const m = /^([^=]+)=(.+)$/.exec(spec);
    if (!m) {
      throw new MercuryError("usage", `--stream ${spec}: expected VIEW=TOPIC`, {
        where: "--stream",
        hint: "--stream card_tx_10m=transactions",
      });
    }
    return { view: m[1]!, topic: m[2]! };
  });
  const fs = await open(args, { served: true });
  // Checked before anything listens: the views exist and read a directory of Parquet parts.
  const streamSpecs = streamArgs.length
    ? await import("./stream.ts").then(({ historyDirOf }) =>
      streamArgs.map((a) => ({ ...a, historyDir: historyDirOf(fs, a.view, undefined, "--stream") }))
    )
    : [];
  // Every request for PII features (granted or refused) is recorded in PostgreSQL; `features pii-access` reads it.
  const piiLog = new PiiAccessLog(fs.pg.sql, { schema: fs.registry.schema, project: fs.repo.project, env: fs.env });
  const server = new FeatureServer(fs.repo, fs.online, { maxEntities, storeTimeoutMs, piiLog });
  const labels = ["view", "feature"];
  const drift = server.metrics.registry.gauge(
    "mercury_features_drift",
    "1 when the last materialisation drifted",
    labels,
  );
  const nullRate = server.metrics.registry.gauge(
    "mercury_features_null_rate",
    "Null rate at the last materialisation",
    labels,
  );
  // Drift flags of the latest materialisation runs (whichever process ran them) raise alerts with --alert-webhook.
  const webhooks = (args.values["alert-webhook"] as string[] | undefined) ?? [];
  const alerts = webhooks.length
    ? await (await import("../drift_alerts.ts")).DriftAlerts.create(fs.repo.project, fs.env, { webhooks })
    : undefined;
  const refresh = async () => {
    const stats = await fs.registry.latestStats();
    for (const s of stats) {
      drift.set({ view: s.view, feature: s.feature }, s.drift ? 1 : 0);
      nullRate.set({ view: s.view, feature: s.feature }, s.stats.nullRate);
    }
    if (alerts) {
      const { driftRunsFromStats } = await import("../drift_alerts.ts");
      for (const e of await alerts.report(driftRunsFromStats(stats))) {
        if (e.state !== "pending") ctx.print(`drift alert ${e.state}: ${e.view} (run ${e.runId})`);
      }
    }
  };
  await refresh();
  const timer = setInterval(() => refresh().catch(() => {}), 30_000);
  const pruneMinutes = Number(args.values["prune-every-minutes"] ?? 60);
  const retention = pruneMinutes > 0
    ? scheduleRetention(fs.offline, {
      everyMs: pruneMinutes * 60_000,
      registry: server.metrics.registry,
      onRound: (r) => {
        for (const [view, days] of Object.entries(r.pruned)) {
          ctx.print(`${view}: pruned ${days.length} partition(s) up to ${days.at(-1)}`);
        }
        if (r.error) ctx.print(`retention pruning failed: ${r.error}`);
      },
    })
    : undefined;
  const host = (args.values.host as string | undefined) ?? "127.0.0.1";
  const http = serveHttp(server, {
    port: Number(args.values.port ?? 6566),
    hostname: host,
    maxBodyBytes: maxBytes,
    trainingSet: trainingSetHandler(fs.offline, { piiLog }),
    auth,
  });
  // The gRPC and Kafka clients load only when they are used.
  const grpc = args.values["no-grpc"] ? undefined : await (await import("../grpc_server.ts")).serveGrpc(server, {
    port: Number(args.values["grpc-port"] ?? 50051),
    host,
    env: fs.env,
    maxMessageBytes: maxBytes,
    auth,
    engine: args.values["grpc-engine"] as "h2" | "grpc-js" | undefined,
  });
  const pushViews = (args.values.push as string[] | undefined) ?? [];
  const pushes = [];
  if (pushViews.length) {
    const { startPushIngestion } = await import("../push_source.ts");
    for (const view of pushViews) {
      pushes.push(
        await startPushIngestion({ brokers: ctx.endpoints().kafka.brokers, repo: fs.repo, view, online: fs.online }),
      );
    }
  }
  // Stream feature views fed in this process (the stream command's job, checkpointed the same way).
  const streams = [];
  if (streamSpecs.length) {
    const { startStreamFeatures } = await import("../stream_features.ts");
    for (const { view, topic, historyDir } of streamSpecs) {
      const job = await startStreamFeatures({
        repo: fs.repo,
        view,
        online: fs.online,
        connection: fs.duck.connection,
        historyDir,
        brokers: ctx.endpoints().kafka.brokers,
        topic,
      });
      streams.push(job);
      ctx.print(
        `streaming ${topic} into ${view}: ` +
          (job.resumed ? `resumed from the checkpoint of ${job.resumed.at}` : "no checkpoint: empty windows"),
      );
    }
  }
  ctx.print(
    `serving ${fs.repo.project}/${fs.env} (${fs.source.describe}): http://${host}:${http.port}/get-online-features` +
      (grpc ? `, grpc ${host}:${grpc.port}` : "") + `; training sets: POST http://${host}:${http.port}/training-set`,
  );
  await untilSignal();
  clearInterval(timer);
  await retention?.stop();
  for (const p of pushes) await p.stop();
  for (const j of streams) {
    await j.stop(); // the last history and checkpoint
    ctx.print(`${j.view.view.name}: ${j.received} events, ${j.rejected} rejected; checkpoint written`);
  }
  await http.close();
  await grpc?.close();
  await piiLog.flush();
  await fs.close();
}
