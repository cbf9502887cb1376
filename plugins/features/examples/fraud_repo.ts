/**
 * The fraud repo as a module for `--repo`: `deno task mercury features plan --repo plugins/features/examples/fraud_repo.ts`.
 * Where the data lives comes from the environment:
 * `MERCURY_FEATURES_DATA` (default `.mercury/features/data/fraud`), `MERCURY_FEATURES_PROJECT` (default `fraud`),
 * `MERCURY_FEATURES_CARDS_TABLE` (default `public.mf_fraud_cards`), `MERCURY_FEATURES_TOPIC` (default `mf-card-events`).
 *
 * @module
 */
import { stateDir } from "@mercury/core";
import { fraudRepo } from "./fraud.ts";

const env = (k: string) => Deno.env.get(k) || undefined;

/** The repo. */
export default fraudRepo({
  dir: env("MERCURY_FEATURES_DATA") ?? `${stateDir()}/features/data/fraud`,
  project: env("MERCURY_FEATURES_PROJECT"),
  cardsTable: env("MERCURY_FEATURES_CARDS_TABLE"),
  topic: env("MERCURY_FEATURES_TOPIC"),
});
