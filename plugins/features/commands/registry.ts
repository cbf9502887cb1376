/**
 * The registry commands: `plan`, `apply`, `promote` and `lineage`.
 *
 * @module
 */
import { type CommandArgs, type CommandContext, MercuryError } from "@mercury/core";
import { lineageMermaid, lineageOf, lineageSvg } from "../lineage.ts";
import { formatPlan, rollback as rollbackEnv } from "../plan.ts";
import { parseEnvironment } from "../registry.ts";
import { open } from "./_open.ts";

/** `plan`: the diff between the repo and the registry; exit 2 when something is breaking or mistyped. */
export async function plan(args: CommandArgs, ctx: CommandContext): Promise<number> {
  const fs = await open(args, { needRepo: true });
  try {
    const p = await fs.plan();
    ctx.print(formatPlan(p));
    return p.breaking.length || p.problems?.length ? 2 : 0;
  } finally {
    await fs.close();
  }
}

/** `apply`: store new versions in one transaction. */
export async function apply(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const fs = await open(args, { needRepo: true });
  try {
    const p = await fs.apply({
      why: (args.values.why as string | undefined) ?? "apply",
      who: (args.values.who as string | undefined) || undefined,
      force: args.values.force === true,
    });
    ctx.print(formatPlan(p));
    ctx.print(
      p.changes.length ? `applied ${p.changes.length} change(s) to ${fs.repo.project}/${fs.env}` : "nothing to apply",
    );
  } finally {
    await fs.close();
  }
}

/** `promote`: copy an environment's objects to the next one. */
export async function promote(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const to = parseEnvironment((args.values.to as string | undefined) ?? "");
  const fs = await open(args);
  try {
    const p = await fs.promote(to, {
      why: (args.values.why as string | undefined) || undefined,
      force: args.values.force === true,
    });
    ctx.print(formatPlan(p));
    const [rel] = await fs.registry.forEnv(to).releases(1);
    ctx.print(
      `promoted ${fs.repo.project} ${fs.env} → ${to}: ${p.changes.length} change(s)` +
        (p.changes.length && rel ? `; ${to} is now release ${rel.release}` : ""),
    );
  } finally {
    await fs.close();
  }
}

/** `rollback`: the environment back to an earlier release (default the previous one), as a new release. */
export async function rollback(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const fs = await open(args);
  try {
    const p = await rollbackEnv(fs.registry, {
      release: args.values["to-release"] as number | undefined,
      why: (args.values.why as string | undefined) || undefined,
      who: (args.values.who as string | undefined) || undefined,
    });
    ctx.print(formatPlan(p));
    const [rel] = await fs.registry.releases(1);
    ctx.print(
      `rolled ${fs.repo.project}/${fs.env} back to release ${p.release}: ${p.changes.length} change(s)` +
        (p.changes.length && rel ? `, now release ${rel.release}` : ""),
    );
  } finally {
    await fs.close();
  }
}

/** `releases`: the environment's releases, newest first. */
export async function releases(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const fs = await open(args);
  try {
    for (const r of await fs.registry.releases()) {
      ctx.print(
        `${r.release}\t${r.createdAt.toISOString()}\t${r.createdBy}\t${r.objects.length} objects\t${r.reason}`,
      );
    }
  } finally {
    await fs.close();
  }
}

/** `lineage`: the graph from the registry as mermaid, JSON or SVG, or one node's neighbourhood (`--of`). */
export async function lineage(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const fs = await open(args);
  try {
    const g = await fs.lineage();
    const of = args.values.of as string | undefined;
    if (of) {
      if (!g.nodes.some((n) => n.id === of)) {
        throw new MercuryError("not_found", `no lineage node "${of}"`, {
          hint: `nodes: ${g.nodes.map((n) => n.id).join(", ")}`,
        });
      }
      ctx.print(JSON.stringify(lineageOf(g, of)));
      return;
    }
    const format = (args.values.format as string | undefined) ?? "mermaid";
    if (format === "json") ctx.print(JSON.stringify(g, null, 2));
    else if (format === "svg") ctx.print(lineageSvg(g));
    else ctx.print(lineageMermaid(g));
  } finally {
    await fs.close();
  }
}
