/**
 * The plugin's CLI: `deno task mercury features plan|apply|materialize|serve|get|lineage|promote --repo FILE`.
 *
 * @module
 */
import type { CommandArgs, CommandSpec, OptionSpec } from "@mercury/core";
import { MercuryError } from "@mercury/core";
import { DEFAULT_MAX_BODY_BYTES } from "@mercury/core/http_body";
import type { FeatureRepo, ValueType } from "./definitions.ts";
import { openFeatureStore } from "./feature_store.ts";
import { DEFAULT_STORE_TIMEOUT_MS, FeatureServer } from "./online_features.ts";
import { DEFAULT_MAX_ENTITIES } from "./online_request.ts";
import { parseInstant } from "./instant.ts";
import { formatPlan } from "./plan.ts";
import { parseEnvironment } from "./registry.ts";
import { loadRepo } from "./repo_loader.ts";
import { serveHttp } from "./http_server.ts";
import { lineageMermaid, lineageOf, lineageSvg } from "./lineage.ts";

const str = (v: unknown, d = "") => (typeof v === "string" ? v : d);

const common: Record<string, OptionSpec> = {
  repo: { type: "string", value: "FILE", description: "feature repo module (exports the repo as default)" },
  env: { type: "string", value: "ENV", description: "environment: dev, staging or prod", default: "dev" },
  schema: { type: "string", value: "NAME", description: "registry schema", default: "mercury_features" },
  "offline-root": {
    type: "string",
    value: "DIR",
    description: "offline Parquet root (default .mercury/features/offline)",
  },
};

async function open(args: CommandArgs) {
  const path = str(args.values.repo);
  if (!path) throw new MercuryError("usage", "--repo is required", { hint: "pass --repo path/to/features_repo.ts" });
  const repo = await loadRepo(path);
  return await openFeatureStore({
    repo,
    env: parseEnvironment(str(args.values.env, "dev")),
    schema: str(args.values.schema, "mercury_features"),
    offlineRoot: str(args.values["offline-root"]) || undefined,
  });
}

function date(v: unknown, name: string): Date | undefined {
  if (v === undefined || v === "") return undefined;
  const d = new Date(parseInstant(String(v)));
  if (Number.isNaN(d.getTime())) {
    throw new MercuryError("usage", `--${name} "${v}" is not a date`, {
      hint: "use ISO 8601, e.g. 2024-05-01T00:00:00Z (an offset is honoured, none means UTC)",
    });
  }
  return d;
}

function positiveInt(v: unknown, name: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new MercuryError("usage", `--${name} "${v}" is not a positive integer`, { hint: `e.g. --${name} 1000` });
  }
  return n;
}

/** `plan`: the diff between the repo and the registry. */
export const planCommand: CommandSpec = {
  summary: "show what apply would change in the registry (exit 2 when something is breaking or mistyped)",
  options: { ...common },
  async run(args, ctx) {
    const fs = await open(args);
    try {
      const p = await fs.plan();
      ctx.print(formatPlan(p));
      return p.breaking.length || p.problems?.length ? 2 : 0;
    } finally {
      await fs.close();
    }
  },
};

/** `apply`: store new versions in one transaction. */
export const applyCommand: CommandSpec = {
  summary: "validate the repo and store a new version of each changed object (one transaction)",
  options: {
    ...common,
    why: { type: "string", value: "TEXT", description: "reason recorded with the versions", default: "apply" },
    who: { type: "string", value: "NAME", description: "author recorded (default $USER)" },
    force: { type: "boolean", description: "apply breaking changes too" },
  },
  async run(args, ctx) {
    const fs = await open(args);
    try {
      const p = await fs.apply({
        why: str(args.values.why, "apply"),
        who: str(args.values.who) || undefined,
        force: args.values.force === true,
      });
      ctx.print(formatPlan(p));
      ctx.print(
        p.changes.length ? `applied ${p.changes.length} change(s) to ${fs.repo.project}/${fs.env}` : "nothing to apply",
      );
    } finally {
      await fs.close();
    }
  },
};

/** `materialize`: offline → Redis. */
export const materializeCommand: CommandSpec = {
  summary: "compute views and load the latest values into Redis (full, or --incremental from the last run)",
  usage: "[view…]",
  options: {
    ...common,
    incremental: { type: "boolean", description: "start from the last materialised time" },
    start: { type: "string", value: "TIME", description: "window start (full runs)" },
    end: { type: "string", value: "TIME", description: "window end, exclusive (default now)" },
    recompute: { type: "boolean", description: "recompute the views' offline Parquet from their sources first" },
    "chunk-rows": { type: "string", value: "N", description: "rows per Redis chunk", default: "20000" },
    prune: { type: "boolean", description: "also prune offline partitions past each view's retentionDays" },
  },
  async run(args, ctx) {
    const fs = await open(args);
    try {
      const names = args.positionals.length ? args.positionals : undefined;
      for (const n of names ?? []) fs.offline.view(n);
      const reports = await fs.materialize(names, {
        incremental: args.values.incremental === true,
        start: date(args.values.start, "start"),
        end: date(args.values.end, "end"),
        recompute: args.values.recompute === true,
        chunkRows: Number(str(args.values["chunk-rows"], "20000")),
      });
      for (const r of reports) {
        ctx.print(
          `${r.view}: ${r.rows} rows, ${r.keys} keys, ${r.written} written, ${r.expired} expired in ${
            r.seconds.toFixed(2)
          }s ` +
            `[${r.start.toISOString()} → ${r.end.toISOString()})` +
            (r.resumedFrom ? ` resumed from ${r.resumedFrom}` : "") +
            (r.drift.length ? `; DRIFT ${r.drift.map((d) => `${d.feature}: ${d.reason}`).join("; ")}` : ""),
        );
        if (args.values.prune) {
          const pruned = await fs.offline.prune(r.view);
          if (pruned.length) ctx.print(`${r.view}: pruned ${pruned.length} partition(s) up to ${pruned.at(-1)}`);
        }
      }
    } finally {
      await fs.close();
    }
  },
};

/** `serve`: HTTP + gRPC feature server. */
export const serveCommand: CommandSpec = {
  summary: "serve getOnlineFeatures over HTTP (POST /get-online-features, /metrics) and gRPC (50051)",
  options: {
    ...common,
    port: { type: "string", value: "PORT", description: "HTTP port", default: "6566" },
    "grpc-port": { type: "string", value: "PORT", description: "gRPC port", default: "50051" },
    host: { type: "string", value: "HOST", description: "listen address", default: "127.0.0.1" },
    "no-grpc": { type: "boolean", description: "HTTP only" },
    "max-entities": {
      type: "string",
      value: "N",
      description: "entities one request may ask for",
      default: String(DEFAULT_MAX_ENTITIES),
    },
    "store-timeout-ms": {
      type: "string",
      value: "MS",
      description: "deadline of one online-store read (504 / UNAVAILABLE beyond)",
      default: String(DEFAULT_STORE_TIMEOUT_MS),
    },
    "max-body-bytes": {
      type: "string",
      value: "N",
      description: "largest HTTP body / gRPC message accepted (413 / RESOURCE_EXHAUSTED beyond)",
      default: String(DEFAULT_MAX_BODY_BYTES),
    },
    push: { type: "string", value: "VIEW", description: "also ingest the Kafka push source of VIEW", multiple: true },
  },
  async run(args, ctx) {
    const maxEntities = positiveInt(str(args.values["max-entities"], String(DEFAULT_MAX_ENTITIES)), "max-entities");
    const maxBytes = positiveInt(str(args.values["max-body-bytes"], String(DEFAULT_MAX_BODY_BYTES)), "max-body-bytes");
    const storeTimeoutMs = positiveInt(
      str(args.values["store-timeout-ms"], String(DEFAULT_STORE_TIMEOUT_MS)),
      "store-timeout-ms",
    );
    const fs = await open(args);
    const server = new FeatureServer(fs.repo, fs.online, { maxEntities, storeTimeoutMs });
    const drift = server.metrics.registry.gauge("mercury_features_drift", "1 when the last materialisation drifted", [
      "view",
      "feature",
    ]);
    const nullRate = server.metrics.registry.gauge(
      "mercury_features_null_rate",
      "Null rate at the last materialisation",
      [
        "view",
        "feature",
      ],
    );
    const refresh = async () => {
      for (const s of await fs.registry.latestStats()) {
        drift.set({ view: s.view, feature: s.feature }, s.drift ? 1 : 0);
        nullRate.set({ view: s.view, feature: s.feature }, s.stats.nullRate);
      }
    };
    await refresh();
    const timer = setInterval(() => refresh().catch(() => {}), 30_000);
    const host = str(args.values.host, "127.0.0.1");
    const http = serveHttp(server, {
      port: Number(str(args.values.port, "6566")),
      hostname: host,
      maxBodyBytes: maxBytes,
    });
    // gRPC and Kafka clients load only when serving (they are heavy for the other commands).
    const { serveGrpc } = await import("./grpc_server.ts");
    const { startPushIngestion } = await import("./push_source.ts");
    const grpc = args.values["no-grpc"] ? undefined : await serveGrpc(server, {
      port: Number(str(args.values["grpc-port"], "50051")),
      host,
      env: fs.env,
      maxMessageBytes: maxBytes,
    });
    const pushes = [];
    for (const view of (args.values.push as string[] | undefined) ?? []) {
      pushes.push(
        await startPushIngestion({ brokers: ctx.endpoints().kafka.brokers, repo: fs.repo, view, online: fs.online }),
      );
    }
    ctx.print(
      `serving ${fs.repo.project}/${fs.env}: http://${host}:${http.port}/get-online-features` +
        (grpc ? `, grpc ${host}:${grpc.port}` : ""),
    );
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      Deno.addSignalListener("SIGINT", stop);
      Deno.addSignalListener("SIGTERM", stop);
    });
    clearInterval(timer);
    for (const p of pushes) await p.stop();
    await http.close();
    await grpc?.close();
    await fs.close();
  },
};

/** The declared type of each join key and request field of a repo, to read command-line values as. */
function declaredTypes(repo: FeatureRepo): Map<string, ValueType> {
  const out = new Map<string, ValueType>();
  for (const e of repo.entities) out.set(e.joinKey, e.valueType);
  for (const o of repo.onDemandViews ?? []) for (const r of o.request) out.set(r.name, r.type);
  return out;
}

/** `key=v1,v2` items as columns, each value read as its declared type (the server checks it). */
function parseColumns(
  list: string[],
  option: string,
  types: Map<string, ValueType>,
): Record<string, (string | number | boolean)[]> {
  const out: Record<string, (string | number | boolean)[]> = {};
  for (const item of list) {
    const m = /^([A-Za-z_]\w*)=(.+)$/.exec(item);
    if (!m) {
      throw new MercuryError("usage", `--${option} "${item}" is not key=v1,v2,…`, {
        hint: `e.g. --${option} card_id=1,2`,
      });
    }
    const type = types.get(m[1]!);
    out[m[1]!] = m[2]!.split(",").map((v) => {
      if ((type === "int64" || type === "float64") && /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(v)) return Number(v);
      if (type === "bool" && (v === "true" || v === "false")) return v === "true";
      return v;
    });
  }
  return out;
}

/** `get`: one online lookup from the command line. */
export const getCommand: CommandSpec = {
  summary: "look up online features: --service NAME or --features v:f,… for --entity key=v1,v2",
  options: {
    ...common,
    service: { type: "string", value: "NAME", description: "feature service" },
    features: { type: "string", value: "REFS", description: "comma-separated view:feature references" },
    entity: { type: "string", value: "K=V,…", description: "join key values", multiple: true },
    request: { type: "string", value: "K=V,…", description: "request data of on-demand views", multiple: true },
  },
  async run(args, ctx) {
    const fs = await open(args);
    try {
      const types = declaredTypes(fs.repo);
      const res = await fs.server().getOnlineFeatures({
        featureService: str(args.values.service) || undefined,
        features: str(args.values.features) ? str(args.values.features).split(",") : undefined,
        entities: parseColumns((args.values.entity as string[] | undefined) ?? [], "entity", types) as Record<
          string,
          (string | number)[]
        >,
        requestData: parseColumns((args.values.request as string[] | undefined) ?? [], "request", types),
      }, "cli");
      const n = res.results[0]?.values.length ?? 0;
      for (let i = 0; i < n; i++) {
        const row: Record<string, unknown> = {};
        res.metadata.featureNames.forEach((name, j) => {
          const c = res.results[j]!;
          row[name] = c.statuses[i] === "PRESENT" ? c.values[i] : `${c.values[i] ?? "null"} (${c.statuses[i]})`;
        });
        ctx.print(JSON.stringify(row));
      }
    } finally {
      await fs.close();
    }
  },
};

/** `lineage`: the graph from the registry. */
export const lineageCommand: CommandSpec = {
  summary: "print lineage source → view → service → model (mermaid, json or svg; --of NODE for one node)",
  options: {
    ...common,
    format: { type: "string", value: "FMT", description: "mermaid, json or svg", default: "mermaid" },
    of: {
      type: "string",
      value: "KIND:NAME",
      description: "upstream and downstream of one node, e.g. feature_view:card_stats",
    },
  },
  async run(args, ctx) {
    const fs = await open(args);
    try {
      const g = await fs.lineage();
      const of = str(args.values.of);
      if (of) {
        if (!g.nodes.some((n) => n.id === of)) {
          throw new MercuryError("not_found", `no lineage node "${of}"`, {
            hint: `nodes: ${g.nodes.map((n) => n.id).join(", ")}`,
          });
        }
        ctx.print(JSON.stringify(lineageOf(g, of)));
        return;
      }
      const format = str(args.values.format, "mermaid");
      if (format === "json") ctx.print(JSON.stringify(g, null, 2));
      else if (format === "svg") ctx.print(lineageSvg(g));
      else if (format === "mermaid") ctx.print(lineageMermaid(g));
      else throw new MercuryError("usage", `--format "${format}" is not mermaid, json or svg`);
    } finally {
      await fs.close();
    }
  },
};

/** `promote`: copy an environment's objects to the next one. */
export const promoteCommand: CommandSpec = {
  summary: "promote the registry of --env (dev) to --to (staging), or staging to prod",
  options: {
    ...common,
    to: { type: "string", value: "ENV", description: "target environment" },
    why: { type: "string", value: "TEXT", description: "reason recorded" },
    force: { type: "boolean", description: "promote breaking changes too" },
  },
  async run(args, ctx) {
    const to = parseEnvironment(str(args.values.to));
    const fs = await open(args);
    try {
      const p = await fs.promote(to, { why: str(args.values.why) || undefined, force: args.values.force === true });
      ctx.print(formatPlan(p));
      ctx.print(`promoted ${fs.repo.project} ${fs.env} → ${to}: ${p.changes.length} change(s)`);
    } finally {
      await fs.close();
    }
  },
};
