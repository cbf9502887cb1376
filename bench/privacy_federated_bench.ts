/**
 * `deno task bench:privacy-federated`: the federated, DP-SGD and encrypted
 * analytics figures of the privacy plugin, each against its peer in the same
 * run.
 *
 * - `flower`: the same logistic regression, data split (seeded, iid), rounds,
 *   clients, local epochs, learning rate and batch size through Mercury
 *   (coordinator + Deno client processes over HTTP, with and without secure
 *   aggregation) and through Flower 1.42 (`flwr`, pinned in
 *   bench/peers/flower/requirements.txt) as REAL processes: one Flower server
 *   and N Flower clients over gRPC on loopback (not Flower's simulation
 *   engine). Wall time is from spawning the first process to the final model,
 *   process start-up included on both sides; accuracy is on the same held-out
 *   test rows. Medians of `--repeats` runs (default 3).
 * - `dpsgd`: DP-SGD test accuracy at ε = 1, 3, 8 (δ = 1e-5) against the same
 *   training without privacy, on the generated clinical table, over 3 seeds.
 * - `paillier`: an encrypted GROUP BY sum (2048-bit Paillier, server in its
 *   own process) against the same sum on plaintext.
 *
 * `--only flower,dpsgd,paillier` picks sections. Writes
 * bench/results/privacy_federated.json.
 *
 * @module
 */
import { writeFileAtomic } from "@mercury/core/files";
import { parseArgs } from "node:util";
import { runFederated } from "@mercury/privacy/federated/coordinator";
import { makeDataset, splitClients } from "@mercury/privacy/federated/data";
import { dpsgdUtility } from "@mercury/privacy/dpsgd";
import { runEncryptedQuery } from "@mercury/privacy/paillier";
import { seededRandom } from "@mercury/core/random";
import { ensureVenv } from "../tasks/python.ts";
import { runFlower } from "./peers/flower/run.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    only: { type: "string", default: "flower,dpsgd,paillier" },
    repeats: { type: "string", default: "3" },
    clients: { type: "string", default: "10" },
    rounds: { type: "string", default: "10" },
  },
});
const ONLY = new Set(values.only!.split(","));
const REPEATS = Number(values.repeats);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const result: Record<string, unknown> = {
  at: new Date().toISOString(),
  command: `deno task bench:privacy-federated ${Deno.args.join(" ")}`.trim(),
};

if (ONLY.has("flower")) {
  const cfg = {
    clients: Number(values.clients),
    rounds: Number(values.rounds),
    rows: 5000,
    seed: 42,
    epochs: 1,
    lr: 0.5,
    batch: 32,
  };
  const python = await ensureVenv(
    ".mercury/peers/flower/venv",
    "bench/peers/flower/requirements.txt",
    "Flower",
  );
  const data = makeDataset("classification", cfg.rows, cfg.seed);
  const parts = splitClients(data.train, cfg.clients, "iid", cfg.seed);
  const flower = () => runFlower(python, { ...cfg, d: data.train.d }, parts, data.test);
  const mercury = async (secagg: boolean) => {
    const r = await runFederated({ model: "logistic_regression", ...cfg, secagg });
    if (r.rounds.some((x) => x.failed || x.aggregated.length !== cfg.clients)) {
      throw new Error("a Mercury round dropped");
    }
    const roundsAfterFirstMs = r.rounds.slice(1).reduce((t, x) => t + x.ms, 0);
    return { accuracy: r.final.accuracy!, wallMs: r.wallMs, roundsAfterFirstMs };
  };
  const runs: Record<string, { accuracy: number; wallMs: number; roundsAfterFirstMs: number }[]> = {
    mercury: [],
    mercury_secagg: [],
    flower: [],
  };
  const loads: number[][] = [];
  for (let k = 0; k < REPEATS; k++) {
    runs.flower!.push(await flower());
    runs.mercury!.push(await mercury(false));
    runs.mercury_secagg!.push(await mercury(true));
    loads.push(Deno.loadavg().map((x) => +x.toFixed(2)));
    console.error(
      `repeat ${k + 1}/${REPEATS} (load average ${loads.at(-1)!.join(" ")}):`,
      JSON.stringify(Object.fromEntries(Object.entries(runs).map(([n, r]) => [n, r.at(-1)]))),
    );
  }
  const summary = Object.fromEntries(
    Object.entries(runs).map(([name, r]) => [name, {
      accuracy: median(r.map((x) => x.accuracy)),
      wallMs: Math.round(median(r.map((x) => x.wallMs))),
      roundsAfterFirstMs: Math.round(median(r.map((x) => x.roundsAfterFirstMs))),
    }]),
  ) as Record<string, { accuracy: number; wallMs: number; roundsAfterFirstMs: number }>;
  const f = summary.flower!;
  const fed = {
    config: {
      ...cfg,
      model: "logistic_regression",
      split: "iid",
      algorithm: "fedavg",
      flowerMode: "real processes (gRPC)",
    },
    repeats: REPEATS,
    summary,
    accuracyPointsVsFlower: {
      mercury: Math.round((summary.mercury!.accuracy - f.accuracy) * 10000) / 100,
      mercury_secagg: Math.round((summary.mercury_secagg!.accuracy - f.accuracy) * 10000) / 100,
    },
    roundsAfterFirstRatioVsFlower: {
      mercury: Math.round((summary.mercury!.roundsAfterFirstMs / f.roundsAfterFirstMs) * 1000) / 1000,
      mercury_secagg: Math.round((summary.mercury_secagg!.roundsAfterFirstMs / f.roundsAfterFirstMs) * 1000) / 1000,
    },
    loadAverageDuring: Deno.loadavg(),
    loadAveragePerRepeat: loads,
    wallRatioVsFlower: {
      mercury: Math.round((summary.mercury!.wallMs / f.wallMs) * 1000) / 1000,
      mercury_secagg: Math.round((summary.mercury_secagg!.wallMs / f.wallMs) * 1000) / 1000,
    },
    runs,
  };
  result.federatedVsFlower = fed;
  console.log(JSON.stringify({ ...fed, runs: undefined }, null, 2));
}

if (ONLY.has("dpsgd")) {
  const data = makeDataset("classification", 5000, 11);
  const rows = await dpsgdUtility(data, [1, 3, 8], [1, 2, 3], { epochs: 5, lot: 128, clip: 1, delta: 1e-5 });
  const byEps = new Map<string, number[]>();
  for (const r of rows) byEps.set(String(r.epsilon), [...(byEps.get(String(r.epsilon)) ?? []), r.accuracy]);
  const table = [...byEps].map(([epsilon, acc]) => ({
    epsilon,
    medianAccuracy: median(acc),
    min: Math.min(...acc),
    max: Math.max(...acc),
  }));
  result.dpsgdUtility = {
    data: "generated clinical table, 5,000 rows (4,000 train / 1,000 test)",
    model: "MLP 8-16-1",
    epochs: 5,
    lot: 128,
    clip: 1,
    delta: 1e-5,
    seeds: 3,
    table,
    rows,
  };
  console.log(JSON.stringify({ dpsgdUtility: table }, null, 2));
}

if (ONLY.has("paillier")) {
  const rnd = seededRandom(9);
  const n = 100;
  const table = {
    groups: Array.from({ length: n }, (_, i) => ["north", "south", "east", "west"][i % 4]!),
    columns: { salary: Array.from({ length: n }, () => Math.round(20000 + rnd() * 80000)) },
  };
  const r = await runEncryptedQuery(table, { bits: 2048 });
  const encryptedMs = r.ms.encrypt + r.ms.upload + r.ms.serverAggregate + r.ms.decrypt;
  const ok = Object.keys(r.plaintext).every((g) => r.groups[g]!.sums.salary === r.plaintext[g]!.sums.salary);
  result.paillier = {
    rows: n,
    keyBits: 2048,
    ms: r.ms,
    answersEqual: ok,
    encryptedPathMs: Math.round(encryptedMs),
    plaintextMs: r.ms.plaintext,
    perRowEncryptMs: Math.round((r.ms.encrypt / n) * 10) / 10,
    serverAggregatePerRowMs: Math.round((r.ms.serverAggregate / n) * 1000) / 1000,
  };
  console.log(JSON.stringify({ paillier: result.paillier }, null, 2));
}

result.loadAverageAtEnd = Deno.loadavg();
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
const resultsFile = new URL("./results/privacy_federated.json", import.meta.url);
const previous = ONLY.size < 3
  ? JSON.parse(await Deno.readTextFile(resultsFile).catch(() => "{}")) as Record<string, unknown>
  : {};
await writeFileAtomic(resultsFile.pathname, JSON.stringify({ ...previous, ...result }, null, 2) + "\n");
