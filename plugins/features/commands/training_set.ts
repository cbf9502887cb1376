/**
 * `training-set`: a point-in-time training set written by DuckDB straight to Parquet (or CSV).
 *
 * @module
 */
import { type CommandArgs, type CommandContext, MercuryError } from "@mercury/core";
import type { FeatureRefs } from "../historical.ts";
import { entityFile, trainingSetFormat, writeTrainingSet } from "../training_set.ts";
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
  const fs = await open(args, { served: true });
  try {
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
    await fs.close();
  }
}
