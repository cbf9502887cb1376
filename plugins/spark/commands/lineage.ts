/**
 * `spark lineage`: serves the OpenLineage collector the Connect server's
 * listener posts to (until Ctrl-C), or with `--graph FILE` draws what was
 * collected as SVG, optionally joined with a feature store project's lineage.
 *
 * @module
 */
import { writeFileAtomic } from "@mercury/core/files";
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { DEFAULT_PORTS, MercuryError } from "@mercury/core";
import { connectPostgres } from "@mercury/core/services/postgres";
import { onSignal } from "@mercury/core/signal";
import { joinFeatureLineage, lineageFromEvents, type SparkLineage } from "../lineage/graph.ts";
import { LineageStore } from "../lineage/store.ts";
import { serveLineage } from "../lineage/collector.ts";
import { lineageSvg } from "../lineage/svg.ts";

/** The feature store's current objects of `PROJECT[:ENV]`. */
async function featureObjects(pgSql: LineageStore["sql"], spec: string) {
  const [project, env = "dev"] = spec.split(":");
  if (!project) {
    throw new MercuryError("usage", `--features needs a project name, got "${spec}"`, {
      where: "--features",
      hint: "e.g. --features demo or --features demo:prod",
    });
  }
  const { FeatureRegistry, parseEnvironment } = await import("@mercury/features");
  return await new FeatureRegistry(pgSql, { project, env: parseEnvironment(env) }).current();
}

/** Runs `spark lineage`. */
export async function lineageCommand(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const v = args.values;
  await using pg = await connectPostgres();
  const store = new LineageStore(pg.sql);
  await store.init();
  if (v.graph !== undefined) {
    const file = String(v.graph);
    let g: SparkLineage = lineageFromEvents(await store.events({ limit: Number(v.limit) }));
    if (v.features !== undefined) g = joinFeatureLineage(g, await featureObjects(pg.sql, String(v.features)));
    await writeFileAtomic(file, lineageSvg(g) + "\n");
    const count = (k: string) => g.nodes.filter((n) => n.kind === k).length;
    ctx.print(
      `${file}: ${count("dataset")} datasets, ${
        count("job")
      } jobs, ${g.edges.length} edges, ${g.columns.length} column edges` +
        (v.features !== undefined ? `, ${count("feature_view")} feature views joined` : ""),
    );
    return;
  }
  const port = v.port === undefined ? DEFAULT_PORTS.sparkLineage : Number(v.port);
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = serveLineage(store, {
      port,
      onEvent: (e) =>
        ctx.print(`${e.eventType.padEnd(8)} ${e.job}  ${e.inputs.join(", ") || "-"} → ${e.outputs.join(", ") || "-"}`),
      onError: (m) => ctx.print(`refused: ${m}`),
    });
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) {
      throw new MercuryError("unavailable", `port ${port} is in use: another collector is running?`, {
        where: `127.0.0.1:${port}`,
        hint: "stop it, or pass --port (then point spark.openlineage.transport.url at it)",
      });
    }
    throw err;
  }
  ctx.print(`collecting OpenLineage events on http://127.0.0.1:${server.addr.port}/api/v1/lineage (Ctrl-C stops)`);
  const stopped = Promise.withResolvers<void>();
  using _sig = onSignal(() => stopped.resolve());
  await stopped.promise;
  await server.shutdown();
}
