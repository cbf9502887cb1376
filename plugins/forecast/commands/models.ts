/**
 * `forecast models list|show|promote|rollback`: the model registry (PostgreSQL) that `train` records every model in.
 *
 * @module
 */
import type { CommandArgs, CommandContext, OptionValues } from "@mercury/core";
import { MercuryError } from "@mercury/core";
import { tableText } from "@mercury/core/display";
import { checkName, parseRef, type Stage } from "../registry.ts";
import type { modelsOptions } from "../manifest.ts";
import { fmt } from "./_format.ts";
import { withRegistry } from "./_registry.ts";

const USAGE = "forecast models list [NAME] | show NAME[@VERSION] | promote NAME@VERSION | rollback NAME";

/** Runs `forecast models <action> …`. */
export async function models(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const v = args.values as OptionValues<typeof modelsOptions>;
  const stage = v.stage as Stage;
  const [action, ref, ...rest] = args.positionals;
  const need = (what: string) => {
    if (!ref) throw new MercuryError("usage", `models ${action} needs ${what}`, { where: "models", hint: USAGE });
    return ref;
  };
  if (rest.length) {
    throw new MercuryError("usage", `unexpected argument '${rest[0]}'`, { where: `models ${action}`, hint: USAGE });
  }
  switch (action) {
    case "list": {
      if (ref) checkName(ref, "models list");
      const rows = await withRegistry((reg) => reg.list(ref));
      if (!rows.length) {
        ctx.print(ref ? `no versions of '${ref}'` : "the registry is empty (forecast train --name NAME … records one)");
        return;
      }
      ctx.print(tableText(
        rows.map((r) => ({
          name: r.name,
          version: r.version,
          parent: r.parent ?? "",
          stage: r.stage ?? "",
          algorithm: r.description,
          mase: r.metrics.mase !== undefined ? fmt(r.metrics.mase) : "",
          data: r.fingerprint.slice(0, 12),
          created: r.createdAt.slice(0, 19).replace("T", " "),
        })),
        { maxRows: 1000 },
      ));
      return;
    }
    case "show": {
      const p = parseRef(need("a model: NAME or NAME@VERSION"), "models show");
      const r = await withRegistry(async (reg) => ({
        e: await reg.get(p.name, p, ref),
        history: await reg.history(p.name),
      }));
      const { document: doc, ...e } = r.e;
      ctx.print(`${e.name} version ${e.version}${e.stage ? ` (${e.stage})` : ""}`);
      ctx.print(`  model       ${e.description} (${e.algorithm}, model version ${doc.version})`);
      ctx.print(`  parent      ${e.parent ?? "none"}`);
      ctx.print(`  data        ${e.fingerprint} (series ${doc.series.id}, ${doc.series.points} points)`);
      ctx.print(`  file        ${e.path}`);
      ctx.print(`  created     ${e.createdAt}`);
      const metrics = Object.entries(e.metrics).filter(([, x]) => typeof x === "number");
      ctx.print(`  metrics     ${metrics.map(([k, x]) => `${k} ${fmt(x as number)}`).join("  ") || "none"}`);
      for (const h of r.history.filter((h) => h.version === e.version)) {
        ctx.print(`  ${h.action.padEnd(11)} ${h.stage} at ${h.at}`);
      }
      return;
    }
    case "promote": {
      const p = parseRef(need("NAME@VERSION"), "models promote");
      if (p.version === undefined) {
        throw new MercuryError("usage", `models promote needs a version: '${ref}'`, {
          where: "models promote",
          hint: `write ${p.name}@VERSION (forecast models list ${p.name} shows them)`,
        });
      }
      const r = await withRegistry((reg) => reg.promote(p.name, p.version!, stage));
      ctx.print(
        `${p.name} version ${p.version} is ${stage}${r.previous !== null ? ` (was version ${r.previous})` : ""}`,
      );
      return;
    }
    case "rollback": {
      const p = parseRef(need("a model NAME"), "models rollback");
      const r = await withRegistry((reg) => reg.rollback(p.name, stage));
      ctx.print(`${p.name}: ${stage} rolled back from version ${r.from} to version ${r.to}`);
      return;
    }
    default:
      throw new MercuryError(
        "usage",
        action ? `unknown models action '${action}'` : "models needs an action",
        { where: "models", hint: `use ${USAGE}` },
      );
  }
}
