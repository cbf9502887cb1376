/**
 * `observe deploy`: serves registered models until SIGINT/SIGTERM, with the
 * prediction log to PostgreSQL and Kafka, labels from HTTP and Kafka, alert
 * rules evaluated every `--evaluate-every` (and retraining when a rule with
 * `"retrain": true` fires), and its `/metrics` listed for Prometheus.
 *
 * @module
 */
import { type CommandArgs, type CommandContext, MercuryError } from "@mercury/core/plugin";
import { connectKafka } from "@mercury/core/services/kafka";
import { connectPostgres } from "@mercury/core/services/postgres";
import { untilSignal } from "@mercury/core/signal";
import { RecordProducer } from "@mercury/stream";
import { AlertEngine, DEFAULT_RULES } from "../alerts.ts";
import { Dashboard } from "../dashboard.ts";
import { consumeLabels } from "../label_consumer.ts";
import { MlflowClient } from "../mlflow_client.ts";
import { writeTargets } from "../prometheus_files.ts";
import { retrain } from "../retrain.ts";
import { setupSchema } from "../schema.ts";
import { ObserveServer } from "../server.ts";
import { ensureTopics, PREDICTIONS_TOPIC } from "../topics.ts";
import { readRules } from "./_rules.ts";

/** Runs the server until a stop signal. */
export async function deploy(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const rules = args.values.rules ? await readRules(String(args.values.rules)) : DEFAULT_RULES;
  const eps = ctx.endpoints();
  const models = (args.values.models as string[]).filter(Boolean);
  if (models.length === 0) {
    throw new MercuryError("usage", "deploy needs the registered models to serve", {
      where: "--models",
      hint: "observe deploy --models churn,basket",
    });
  }
  const port = args.values.port as number;
  await using pg = await connectPostgres({ url: eps.postgres.url, max: 8 });
  await setupSchema(pg.sql);
  await using k = await connectKafka({ brokers: eps.kafka.brokers });
  await ensureTopics(k);
  const producer = await RecordProducer.open({ brokers: eps.kafka.brokers, topic: PREDICTIONS_TOPIC });
  const mlflow = new MlflowClient(eps.mlflow.url);
  const server = new ObserveServer({
    sql: pg.sql,
    mlflow,
    models,
    kafka: producer,
    port,
  });
  const dashboard = new Dashboard(server);
  await server.start();
  dashboard.start();
  const stopLabels = await consumeLabels(k, server);
  const targets = await writeTargets(ctx.root, `observe-${port}`, [`127.0.0.1:${port}`]);
  const engine = new AlertEngine(rules, {
    record: (e) =>
      void pg.sql`insert into observe.alerts (rule, model, state, value, detail)
        values (${e.rule}, ${e.model}, ${e.state}, ${Number.isFinite(e.value) ? e.value : null}, ${e.detail})`
        .catch(() => {}),
    onFiring: async (rule, e) => {
      if (!rule.retrain) return;
      // Retraining joins stored predictions with their labels: store what is still queued first.
      // (bounded: a sink that is down must not hold the alert loop).
      await Promise.race([server.log.drain().catch(() => {}), new Promise((r) => setTimeout(r, 5_000))]);
      const r = await retrain({ sql: pg.sql, mlflow, model: e.model, reason: `${rule.name} firing` }).catch((err) => {
        ctx.print(`retrain ${e.model}: ${(err as Error).message}`);
      });
      if (r) ctx.print(`retrain ${e.model}: v${r.candidate.version} ${r.promoted ? "promoted" : "not promoted"}`);
      await server.registry.refresh();
    },
  });
  const timer = setInterval(
    () => void engine.evaluate(server.alertInputs()).catch(() => {}),
    args.values["evaluate-every"] as number,
  );
  ctx.print(
    `observe: serving ${
      server.registry.list().map((m) => `${m.name} v${m.version}`).join(", ") || "(none yet)"
    } on http://127.0.0.1:${server.port} (dashboard: /dashboard)`,
  );
  await untilSignal();
  clearInterval(timer);
  dashboard.stop();
  await stopLabels();
  await server.close();
  await producer.close();
  await Deno.remove(targets).catch(() => {}); // Prometheus stops scraping a server that is gone
}
