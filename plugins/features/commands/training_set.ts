/**
 * `training-set`: a point-in-time training set written by DuckDB straight to Parquet (or CSV). PII features need the
 * token in `MERCURY_FEATURES_TOKEN` (checked against `--tokens`) with their scope, as from the server; every such
 * request is recorded in the PII access log.
 *
 * @module
 */
import { type CommandArgs, type CommandContext, MercuryError } from "@mercury/core";
import type { FeatureRefs } from "../historical.ts";
import { PiiAccessLog } from "../pii.ts";
import {
  authorizeTrainingSet,
  entityFile,
  trainingSetFormat,
  trainingSetHasPii,
  writeTrainingSet,
} from "../training_set.ts";
import { commandCaller } from "./_caller.ts";
import { open } from "./_open.ts";

/** `training-set --service NAME --entities FILE --output FILE`. */
export async function trainingSet(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const service = args.values.service as string | undefined;
  const features = args.values.features as string | undefined;
  const entitiesPath = args.values.entities as string | undefined;
  const output = args.values.output as string | undefined;
  if (!service === !features) {
    throw new MercuryError("usage", "pass one of --service or --features", {
      hint: "e.g. --service fraud_v1, or --features card_tx_stats:tx_count_24h,card_profile:credit_limit",
    });
  }
  if (!entitiesPath) throw new MercuryError("usage", "--entities is required", { hint: "--entities entities.parquet" });
  if (!output) throw new MercuryError("usage", "--output is required", { hint: "--output train.parquet" });
  trainingSetFormat(output);
  const entities = await entityFile(entitiesPath);
  const refs: FeatureRefs = service
    ? { featureService: service }
    : features!.split(",").map((s) => s.trim()).filter(Boolean);
  const who = await commandCaller(args.values.tokens as string | undefined);
  const fs = await open(args, { served: true });
  // PII features need a token with the scope, as from the server; every such request is recorded (transport
  // "cli-training-set").
  const piiLog = new PiiAccessLog(fs.pg.sql, { schema: fs.registry.schema, project: fs.repo.project, env: fs.env });
  try {
    if (trainingSetHasPii(fs.repo, refs)) {
      const counted = await fs.duck.connection.runAndReadAll(`select count(*) from ${entities.relation}`);
      authorizeTrainingSet(fs.repo, refs, who, {
        log: piiLog,
        transport: "cli-training-set",
        entities: Number(counted.getRows()[0]![0]),
      });
    }
    const r = await writeTrainingSet(fs.offline, entities, refs, output, {
      timestampField: (args.values["timestamp-field"] as string | undefined) || undefined,
      fullFeatureNames: args.values["full-feature-names"] === true,
      keepOrder: args.values["keep-order"] === true,
    });
    ctx.print(
      `${r.path}: ${r.rows} rows, ${r.columns.length} columns (${r.format}) in ${
        r.seconds.toFixed(2)
      }s; definitions: ${fs.source.describe}`,
    );
  } finally {
    await piiLog.flush();
    await fs.close();
  }
}
