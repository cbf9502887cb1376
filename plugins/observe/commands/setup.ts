/**
 * `observe setup`: the PostgreSQL tables (schema `observe`), the Kafka topics,
 * Prometheus' scrape targets for the servers `observe deploy` will run and the
 * alert rules (checked by promtool, then Prometheus reloaded).
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { connectKafka } from "@mercury/core/services/kafka";
import { connectPostgres } from "@mercury/core/services/postgres";
import { DEFAULT_RULES, prometheusRules } from "../alerts.ts";
import { installRules, writeTargets } from "../prometheus_files.ts";
import { setupSchema } from "../schema.ts";
import { ensureTopics } from "../topics.ts";
import { readRules } from "./_rules.ts";

/** Runs the set-up; idempotent. */
export async function setup(args: CommandArgs, ctx: CommandContext): Promise<void> {
  // The rules are read and checked before anything is written.
  const rules = args.values.rules ? await readRules(String(args.values.rules)) : DEFAULT_RULES;
  const eps = ctx.endpoints();
  await using pg = await connectPostgres({ url: eps.postgres.url });
  await setupSchema(pg.sql);
  ctx.print("postgres: schema observe (predictions, labels, rejections, alerts, retrain_steps)");
  await using k = await connectKafka({ brokers: eps.kafka.brokers });
  await ensureTopics(k);
  ctx.print("kafka: topics observe.predictions, observe.labels");
  const ports = (args.values.ports as number[] | undefined) ?? [9410];
  const targets = ports.map((p) => `127.0.0.1:${p}`);
  const path = await writeTargets(ctx.root, "observe", targets);
  ctx.print(`prometheus: targets ${targets.join(", ")} in ${path}`);
  const r = await installRules(ctx.root, "observe", prometheusRules(rules), eps.prometheus.url);
  ctx.print(
    `prometheus: ${rules.length} alert rules in ${r.path}${r.reloaded ? " (reloaded)" : " (read at next start)"}`,
  );
}
