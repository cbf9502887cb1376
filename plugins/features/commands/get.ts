/**
 * `get`: one online lookup from the command line, each `--entity`/`--request` value read as the type its join key
 * or request field declares.
 *
 * @module
 */
import { type CommandArgs, type CommandContext, MercuryError } from "@mercury/core";
import type { FeatureRepo, ValueType } from "../definitions.ts";
import { FeatureServer } from "../online_features.ts";
import { PiiAccessLog } from "../pii.ts";
import { commandCaller } from "./_caller.ts";
import { open } from "./_open.ts";

/** The environment variable `get` reads its bearer token from (never an argument: `ps` would show it). */
export { TOKEN_ENV } from "./_caller.ts";

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
export async function get(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const who = await commandCaller(args.values.tokens as string | undefined);
  const fs = await open(args, { served: true });
  // PII features need a token with the scope, as from the server; every such request is recorded (transport "cli").
  const piiLog = new PiiAccessLog(fs.pg.sql, { schema: fs.registry.schema, project: fs.repo.project, env: fs.env });
  try {
    const types = declaredTypes(fs.repo);
    const features = args.values.features as string | undefined;
    const server = new FeatureServer(fs.repo, fs.online, { piiLog });
    const res = await server.getOnlineFeatures(
      {
        featureService: (args.values.service as string | undefined) || undefined,
        features: features ? features.split(",") : undefined,
        entities: parseColumns((args.values.entity as string[] | undefined) ?? [], "entity", types) as Record<
          string,
          (string | number)[]
        >,
        requestData: parseColumns((args.values.request as string[] | undefined) ?? [], "request", types),
      },
      "cli",
      who,
    );
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
    await piiLog.flush();
    await fs.close();
  }
}
