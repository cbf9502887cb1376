/**
 * The features plugin's manifest: its commands, their options and help. It
 * loads nothing heavy (no DuckDB, PostgreSQL, Redis, gRPC or Kafka client):
 * each command imports its implementation from `./commands/` the first time
 * it runs, so discovery and `--help` stay fast.
 *
 * @example
 * ```ts
 * import { manifest } from "@mercury/features/manifest";
 * import assert from "node:assert/strict";
 *
 * assert.equal(manifest.name, "features");
 * assert.deepEqual(Object.keys(manifest.commands ?? {}).sort(), [
 *   "apply", "get", "lineage", "materialize", "pii-access", "plan", "promote", "releases", "rollback", "serve",
 *   "stream", "training-set",
 * ]);
 * ```
 *
 * @module
 */
import { definePlugin, lazyRun as lazy, type OptionSpec } from "@mercury/core/plugin";
import { DEFAULT_MAX_BODY_BYTES } from "@mercury/core/http_body";
import { DEFAULT_MAX_ENTITIES, DEFAULT_STORE_TIMEOUT_MS } from "./online_request.ts";

/** What a lookup asks for: a feature service, or a list of references. */
const lookup: Record<string, OptionSpec> = {
  service: { type: "string", value: "NAME", description: "feature service" },
  features: { type: "string", value: "REFS", description: "comma-separated view:feature references" },
};

/** What a registry change records, and whether it may break things. */
const why = (description: string, dflt?: string): OptionSpec => ({
  type: "string",
  value: "TEXT",
  description,
  ...(dflt === undefined ? {} : { default: dflt }),
});
const who: OptionSpec = { type: "string", value: "NAME", description: "author recorded (default $USER)" };
const force = (verb: string): OptionSpec => ({ type: "boolean", description: `${verb} breaking changes too` });

/** A whole number from 1, e.g. a limit or a size. */
const count = (value: string, description: string, dflt?: number): OptionSpec => ({
  type: "int",
  min: 1,
  value,
  description,
  ...(dflt === undefined ? {} : { default: dflt }),
});

/** Where drift alerts go. */
const alertWebhook: OptionSpec = {
  type: "string",
  value: "URL",
  description: "POST a JSON alert when a view's materialisation flags drift (and when it resolves)",
  multiple: true,
};

const common: Record<string, OptionSpec> = {
  repo: {
    type: "string",
    value: "FILE",
    description:
      "feature repo module (exports the repo as default); for serve/materialize/get/training-set: development mode",
  },
  project: {
    type: "string",
    value: "NAME",
    description: "use the definitions in the registry of --env for this project (instead of --repo)",
  },
  env: { type: "string", value: "ENV", description: "environment: dev, staging or prod", default: "dev" },
  schema: { type: "string", value: "NAME", description: "registry schema", default: "mercury_features" },
  "offline-root": {
    type: "string",
    value: "DIR",
    description: "offline Parquet root (default .mercury/features/offline)",
  },
};

/** Options of the commands that use definitions: which registry release. */
const served: Record<string, OptionSpec> = {
  release: count("N", "with --project: this release of the environment (default its current one)"),
};

/** The plugin's manifest, found by `deno task mercury plugins`. */
export const manifest = definePlugin({
  name: "features",
  title: "Feature store",
  version: "0.1.0",
  description: "Feature definitions, registry, point-in-time training sets, Redis materialisation, HTTP/gRPC serving",
  // Spark only for materialize --engine spark.
  services: ["postgres", "redis", "kafka", "spark"],
  notebook: "notebooks/06-features.ipynb",
  commands: {
    plan: {
      summary: "show what apply would change in the registry (exit 2 when something is breaking or mistyped)",
      options: { ...common },
      run: lazy(() => import("./commands/registry.ts"), "plan"),
    },
    apply: {
      summary: "validate the repo and store a new version of each changed object (one transaction)",
      options: {
        ...common,
        why: why("reason recorded with the versions", "apply"),
        who,
        force: force("apply"),
      },
      run: lazy(() => import("./commands/registry.ts"), "apply"),
    },
    materialize: {
      summary: "compute views and load the latest values into Redis (full, or --incremental from the last run)",
      usage: "[view…]",
      options: {
        ...common,
        ...served,
        incremental: { type: "boolean", description: "start from the last materialised time" },
        start: { type: "string", value: "TIME", description: "window start (full runs)" },
        end: { type: "string", value: "TIME", description: "window end, exclusive (default now)" },
        recompute: { type: "boolean", description: "recompute the views' offline Parquet from their sources first" },
        "chunk-rows": count("N", "rows per Redis chunk", 20000),
        prune: { type: "boolean", description: "also prune offline partitions past each view's retentionDays" },
        "alert-webhook": alertWebhook,
        engine: {
          type: "enum",
          choices: ["duckdb", "spark"],
          description: "where the latest values per entity are computed: DuckDB in-process, or Spark SQL on the " +
            "cluster (deno task services up spark)",
          default: "duckdb",
        },
      },
      run: lazy(() => import("./commands/materialize.ts"), "materialize"),
    },
    serve: {
      summary: "serve getOnlineFeatures over HTTP (POST /get-online-features, /metrics) and gRPC (50051)",
      options: {
        ...common,
        ...served,
        port: { type: "int", min: 0, max: 65535, value: "PORT", description: "HTTP port", default: 6566 },
        "grpc-port": { type: "int", min: 0, max: 65535, value: "PORT", description: "gRPC port", default: 50051 },
        host: { type: "string", value: "HOST", description: "listen address", default: "127.0.0.1" },
        "no-grpc": { type: "boolean", description: "HTTP only" },
        "grpc-engine": {
          type: "enum",
          choices: ["h2", "grpc-js"],
          description: "gRPC server: h2 (Mercury's unary layer on node:http2, faster) or grpc-js",
          default: "h2",
        },
        "max-entities": count("N", "entities one request may ask for", DEFAULT_MAX_ENTITIES),
        "store-timeout-ms": count(
          "MS",
          "deadline of one online-store read (504 / UNAVAILABLE beyond)",
          DEFAULT_STORE_TIMEOUT_MS,
        ),
        "max-body-bytes": count(
          "N",
          "largest HTTP body / gRPC message accepted (413 / RESOURCE_EXHAUSTED beyond)",
          DEFAULT_MAX_BODY_BYTES,
        ),
        push: {
          type: "string",
          value: "VIEW",
          description: "also ingest the Kafka push source of VIEW",
          multiple: true,
        },
        stream: {
          type: "string",
          value: "VIEW=TOPIC",
          description: "also feed the stream feature view VIEW from the Kafka topic TOPIC (checkpointed; see stream)",
          multiple: true,
        },
        "alert-webhook": alertWebhook,
        tokens: {
          type: "string",
          value: "FILE",
          description:
            'bearer tokens JSON ({"tokens": [{"who", "scopes", "sha256"}]}); PII features need scope features:pii',
        },
        "prune-every-minutes": {
          type: "int",
          min: 0,
          value: "MIN",
          description:
            "prune offline partitions past each view's retentionDays at start and every MIN minutes (0: off)",
          default: 60,
        },
      },
      run: lazy(() => import("./commands/serve.ts"), "serve"),
    },
    stream: {
      summary: "stream features: a Kafka topic through the stream plugin's windows into Redis and the view's history",
      options: {
        ...common,
        ...served,
        view: { type: "string", value: "VIEW", description: "the stream feature view (a count and a sum feature)" },
        topic: { type: "string", value: "TOPIC", description: "Kafka topic of JSON events" },
        "history-dir": {
          type: "string",
          value: "DIR",
          description: "where history parts go (default the directory of the view's <dir>/*.parquet source)",
        },
        "key-field": { type: "string", value: "NAME", description: "event field of the key (default the join key)" },
        "value-field": { type: "string", value: "NAME", description: "event field summed (default amount)" },
        "time-field": { type: "string", value: "NAME", description: "event time field (default ts)" },
        group: { type: "string", value: "NAME", description: "Kafka consumer group" },
        "checkpoint-every": {
          type: "duration",
          min: 100,
          value: "DUR",
          description: "write the history and a checkpoint this often (and at stop); a restart resumes from it",
          default: "5s",
        },
      },
      run: lazy(() => import("./commands/stream.ts"), "stream"),
    },
    "pii-access": {
      summary: "who read which PII features when (granted and refused requests, newest first)",
      options: {
        ...common,
        who: { type: "string", value: "NAME", description: "only this caller (anonymous: no token)" },
        feature: { type: "string", value: "VIEW:FEATURE", description: "only requests that included this feature" },
        since: { type: "string", value: "TIME", description: "only from this time (ISO; no offset = UTC)" },
        limit: count("N", "at most N rows", 100),
        json: { type: "boolean", description: "one JSON object per line" },
      },
      run: lazy(() => import("./commands/pii_access.ts"), "piiAccess"),
    },
    get: {
      summary: "look up online features: --service NAME or --features v:f,… for --entity key=v1,v2",
      options: {
        ...common,
        ...served,
        ...lookup,
        entity: { type: "string", value: "K=V,…", description: "join key values", multiple: true },
        request: { type: "string", value: "K=V,…", description: "request data of on-demand views", multiple: true },
        tokens: {
          type: "string",
          value: "FILE",
          description: "the server's tokens file: PII features need MERCURY_FEATURES_TOKEN with scope features:pii",
        },
      },
      run: lazy(() => import("./commands/get.ts"), "get"),
    },
    "training-set": {
      summary:
        "write a point-in-time training set to Parquet/CSV with DuckDB (no JS rows): --service, --entities, --output",
      options: {
        ...common,
        ...served,
        ...lookup,
        entities: { type: "string", value: "FILE", description: "entity table (Parquet or CSV): join keys + time" },
        output: {
          type: "string",
          value: "FILE",
          description: "training set file (.parquet or .csv), written atomically",
        },
        "timestamp-field": {
          type: "string",
          value: "COL",
          description: "the entity table's time column",
          default: "event_timestamp",
        },
        "full-feature-names": { type: "boolean", description: "name columns view__feature" },
        "keep-order": {
          type: "boolean",
          description: "rows in the entity file's order (costs a sort); by default in the join's order",
        },
        tokens: {
          type: "string",
          value: "FILE",
          description: "the server's tokens file: PII features need MERCURY_FEATURES_TOKEN with scope features:pii",
        },
      },
      run: lazy(() => import("./commands/training_set.ts"), "trainingSet"),
    },
    lineage: {
      summary: "print lineage source → view → service → model (mermaid, json or svg; --of NODE for one node)",
      options: {
        ...common,
        format: {
          type: "enum",
          choices: ["mermaid", "json", "svg"],
          value: "FMT",
          description: "output format",
          default: "mermaid",
        },
        of: {
          type: "string",
          value: "KIND:NAME",
          description: "upstream and downstream of one node, e.g. feature_view:card_stats",
        },
      },
      run: lazy(() => import("./commands/registry.ts"), "lineage"),
    },
    promote: {
      summary: "promote the registry of --env (dev) to --to (staging), or staging to prod",
      options: {
        ...common,
        to: { type: "string", value: "ENV", description: "target environment" },
        why: why("reason recorded"),
        force: force("promote"),
      },
      run: lazy(() => import("./commands/registry.ts"), "promote"),
    },
    rollback: {
      summary: "roll --env back to an earlier release of its registry (default the previous one), as a new release",
      options: {
        ...common,
        "to-release": count("N", "the release to go back to"),
        why: why("reason recorded"),
        who,
      },
      run: lazy(() => import("./commands/registry.ts"), "rollback"),
    },
    releases: {
      summary: "list the releases of --env (each apply, promote or rollback that changed it)",
      options: { ...common },
      run: lazy(() => import("./commands/registry.ts"), "releases"),
    },
  },
});
