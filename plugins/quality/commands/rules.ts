/**
 * `dq-validate rules list | show NAME [--version V] | diff NAME [--from V --to W] | save --config FILE --reason WHY`:
 * the stored versions of suites (PostgreSQL), who changed them, when and why.
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { MercuryError } from "@mercury/core/plugin";
import { stringify } from "yaml";
import { withStore } from "../store/store.ts";
import { changeLines, diffSuites } from "../diff.ts";
import { loadSuite } from "../suite/load_suite.ts";

/** Runs `rules`. */
export async function rules(args: CommandArgs, ctx: CommandContext): Promise<number> {
  const v = args.values;
  const [sub = "list", name] = args.positionals;
  const author = String(v.author ?? Deno.env.get("USER") ?? "unknown");
  await withStore(ctx, async (store) => {
    if (sub === "list") {
      const suites = await store.suites();
      if (!suites.length) ctx.print("no suites stored (dq-validate rules save --config suite.yaml --reason …)");
      for (const s of suites) ctx.print(`${s.name}\tv${s.version}\t${s.created_at}\t${s.author}`);
      return;
    }
    if (sub === "save") {
      if (!v.config) {
        throw new MercuryError("usage", "rules save needs --config FILE", {
          hint: "dq-validate rules save --config suite.yaml --reason 'why'",
        });
      }
      if (!v.reason) {
        throw new MercuryError("usage", "rules save needs --reason", { hint: "say why the suite changes" });
      }
      const saved = await store.saveSuite(await loadSuite(String(v.config)), { author, reason: String(v.reason) });
      ctx.print(`${saved.name} v${saved.version} (${saved.diff.length} changes) by ${saved.author}: ${saved.reason}`);
      for (const l of changeLines(saved.diff)) ctx.print(`  ${l}`);
      return;
    }
    if (!name) throw new MercuryError("usage", `rules ${sub} needs a suite name`, { hint: "dq-validate rules list" });
    const versions = await store.suiteVersions(name);
    if (!versions.length) {
      throw new MercuryError("not_found", `no stored suite ${name}`, { hint: "dq-validate rules list" });
    }
    if (sub === "show") {
      if (v.version === undefined) {
        for (const x of versions) {
          ctx.print(`v${x.version}\t${x.created_at}\t${x.author}\t${x.reason}\t${x.diff.length} changes`);
        }
        return;
      }
      const x = versions.find((y) => y.version === Number(v.version));
      if (!x) {
        throw new MercuryError("not_found", `suite ${name} has no version ${v.version}`, {
          hint: `versions 1…${versions.length}`,
        });
      }
      for (const line of stringify(x.suite, { lineWidth: 0 }).trimEnd().split("\n")) ctx.print(line);
      return;
    }
    if (sub === "diff") {
      const to = v.to === undefined ? versions.at(-1)!.version : Number(v.to);
      const from = v.from === undefined ? to - 1 : Number(v.from);
      const a = versions.find((y) => y.version === from);
      const b = versions.find((y) => y.version === to);
      if (!a || !b) {
        throw new MercuryError("not_found", `suite ${name} has no version ${!a ? from : to}`, {
          hint: `versions 1…${versions.length}`,
        });
      }
      ctx.print(`${name} v${from} → v${to}`);
      const lines = changeLines(diffSuites(a.suite, b.suite));
      for (const l of lines.length ? lines : ["no differences"]) ctx.print(l);
      return;
    }
    throw new MercuryError("usage", `unknown rules subcommand "${sub}"`, {
      hint: "rules list | show NAME | diff NAME | save --config FILE",
    });
  });
  return 0;
}
