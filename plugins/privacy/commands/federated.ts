/**
 * `privacy federated`: a coordinator and `--clients` client processes on
 * loopback train a model with FedAvg or FedProx, optionally with secure
 * aggregation and DP-FedAvg; prints one line per round and a summary, and
 * with `--json FILE` writes the whole run (atomically).
 *
 * @module
 */
import { writeFileAtomic } from "@mercury/core/files";
import { MercuryError } from "@mercury/core";
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { type FederatedOptions, runFederated } from "../federated/coordinator.ts";
import type { ModelKind } from "../federated/models.ts";
import { Ledger } from "../ledger.ts";

/** Runs the command; exit 0 when at least one round aggregated, 1 when every round failed. */
export async function federated(args: CommandArgs, ctx: CommandContext): Promise<number> {
  const v = args.values;
  const num = (k: string) => v[k] as number | undefined;
  const dp = v.clip !== undefined || v.noise !== undefined;
  if (dp && (v.clip === undefined || v.noise === undefined)) {
    throw new MercuryError("usage", "DP-FedAvg needs both --clip and --noise", {
      where: "privacy federated",
      hint: "e.g. --clip 1 --noise 1.1 (add --delta 1e-5)",
    });
  }
  const options: FederatedOptions = {
    model: v.model as ModelKind,
    clients: num("clients"),
    rounds: num("rounds"),
    rows: num("rows"),
    split: v.split as "iid" | "non-iid",
    algorithm: v.algorithm as "fedavg" | "fedprox",
    fraction: num("fraction"),
    epochs: num("epochs"),
    seed: num("seed"),
    secagg: Boolean(v.secagg),
    roundTimeoutMs: num("round-timeout"),
    dropRate: num("drop-rate"),
    ...(num("lr") !== undefined ? { lr: num("lr") } : {}),
    ...(num("mu") !== undefined ? { mu: num("mu") } : {}),
    ...(num("threshold") !== undefined ? { threshold: num("threshold") } : {}),
    ...(dp ? { dp: { clip: num("clip")!, noiseMultiplier: num("noise")!, delta: num("delta") } } : {}),
    onRound(r) {
      const metric = r.accuracy !== undefined ? `accuracy ${r.accuracy.toFixed(3)}` : `mse ${r.loss.toFixed(4)}`;
      const drops = r.dropouts.map((d) => `client ${d.client} (${d.step}: ${d.reason})`).join(", ");
      ctx.print(
        `round ${r.round}: ${
          r.failed ? `FAILED (${r.failed})` : `${r.aggregated.length}/${r.sampled.length} clients`
        }, ` +
          `${metric}, ${Math.round(r.ms)} ms${drops ? `; dropouts: ${drops}` : ""}`,
      );
    },
  };
  let result;
  if (typeof v.dataset === "string") {
    await using ledger = await Ledger.open({ url: ctx.endpoints().postgres.url });
    const analyst = typeof v.analyst === "string" ? v.analyst : Deno.env.get("USER") ?? "analyst";
    result = await runFederated({ ...options, ledger: { ledger, dataset: v.dataset, analyst } });
    ctx.print(`charged to the ledger of '${v.dataset}' (analyst ${analyst})`);
  } else result = await runFederated(options);
  const f = result.final;
  const failed = result.rounds.filter((r) => r.failed).length;
  ctx.print(
    `${options.model} ${options.algorithm}${options.secagg ? " + secure aggregation" : ""}: ` +
      (f.accuracy !== undefined ? `test accuracy ${f.accuracy.toFixed(4)}` : `test mse ${f.loss.toFixed(4)}`) +
      `, ${result.rounds.length - failed}/${result.rounds.length} rounds aggregated, ${
        (result.wallMs / 1000).toFixed(1)
      } s` +
      (result.epsilon !== undefined ? `, client-level (ε = ${result.epsilon.toFixed(3)}, δ = ${result.delta})` : ""),
  );
  if (ctx.verbose) {
    for (const [id, text] of Object.entries(result.clientStderr)) ctx.print(`client ${id} stderr: ${text}`);
  }
  if (typeof v.json === "string") {
    const { lastMasked: _m, ...rest } = result;
    await writeFileAtomic(v.json, JSON.stringify({ options: { ...options, onRound: undefined }, ...rest }, null, 1));
  }
  return failed === result.rounds.length ? 1 : 0;
}
