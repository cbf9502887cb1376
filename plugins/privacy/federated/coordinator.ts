/**
 * The federated coordinator: an HTTP server on loopback and N client
 * processes (Deno subprocesses, each reading only its own partition). Per
 * round it samples clients, sends the global model, waits for their updates
 * until the round deadline and aggregates: FedAvg (row-weighted mean of the
 * deltas) or FedProx (the same with the proximal term in local training).
 * A client that crashes, never answers, or sends a malformed or oversized
 * update is a dropout with its reason; a round with fewer than `minClients`
 * updates (or, with secure aggregation, fewer than the threshold) fails
 * cleanly and the global model stays as it was.
 *
 * DP-FedAvg (McMahan et al. 2018): clients are sampled by Poisson sampling at
 * rate q, each clips its delta to L2 norm `clip`, the coordinator adds
 * Gaussian noise N(0, (σ·clip)²) to the sum and divides by the expected
 * count qN; ε comes from the RDP accountant of the subsampled Gaussian.
 *
 * With `secagg` the coordinator only ever sees masked vectors and their sum
 * (secure aggregation, `../secagg/`).
 *
 * @example
 * ```ts ignore
 * import { runFederated } from "@mercury/privacy/federated/coordinator";
 * const result = await runFederated({ model: "logistic_regression", clients: 5, rounds: 3 });
 * console.log(result.final.accuracy);
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { normal, seededRandom } from "@mercury/core/random";
import { RdpAccountant } from "../accounting/rdp.ts";
import { decode } from "../secagg/field.ts";
import { type PublicKeys, type Reveal, SecAggError, unmaskSum } from "../secagg/protocol.ts";
import { type Dataset, makeDataset, permutation, splitClients } from "./data.ts";
import { type Evaluation, loadModel, type ModelKind, type TrainOptions } from "./models.ts";
import type { Ledger } from "../ledger.ts";
import { Hub } from "./hub.ts";
import { checkResult, type ClientConfig, type FaultKind, type Op } from "./protocol.ts";

export { checkResult };

/** Settings of a federated run; everything but `model` has a default. */
export interface FederatedOptions {
  model: ModelKind;
  /** Client processes (default 10). */
  clients?: number;
  rounds?: number;
  /** Rows of the generated data set, train and test together (default 5,000). */
  rows?: number;
  split?: "iid" | "non-iid";
  algorithm?: "fedavg" | "fedprox";
  /** FedProx's μ (default 0.1 with fedprox). */
  mu?: number;
  /** Fraction of clients sampled per round (default 1). */
  fraction?: number;
  epochs?: number;
  lr?: number;
  batch?: number;
  seed?: number;
  secagg?: boolean;
  /** Secure aggregation threshold t (default ⌈2m/3⌉ for m sampled clients). */
  threshold?: number;
  dp?: { clip: number; noiseMultiplier: number; delta?: number };
  /** Deadline of each step of a round in ms (default 30,000). */
  roundTimeoutMs?: number;
  /** Probability that a client sits out a round (seeded per client). */
  dropRate?: number;
  /** Deliberate misbehaviour of some clients: client id → kind and first round. */
  faults?: Record<number, { kind: FaultKind; round: number }>;
  /** Fewest updates a round aggregates (default 1). */
  minClients?: number;
  /** A data set to use instead of the generated one. */
  dataset?: Dataset;
  onRound?: (r: RoundReport) => void;
  /**
   * Charge a DP-FedAvg run to this ledger: refused before any client starts
   * when it would pass the budget, recorded only when the run finishes.
   */
  ledger?: { ledger: Ledger; dataset: string; analyst: string };
}

/** What happened in one round. */
export interface RoundReport {
  round: number;
  sampled: number[];
  aggregated: number[];
  dropouts: { client: number; step: Op; reason: string }[];
  failed?: string;
  loss: number;
  accuracy?: number;
  ms: number;
}

/** The outcome of {@linkcode runFederated}. */
export interface FederatedResult {
  rounds: RoundReport[];
  weights: number[];
  final: Evaluation;
  /** DP-FedAvg's ε at `delta` (client-level), when DP was on. */
  epsilon?: number;
  delta?: number;
  wallMs: number;
  /** What the coordinator saw of each client's update in the last secure round (masked vectors), for audits. */
  lastMasked?: Map<number, number[]>;
  /** The plaintext sum the last secure round decoded. */
  lastSum?: number[];
  /** The end of what each client wrote to stderr, for clients that wrote anything. */
  clientStderr: Record<number, string>;
}

const CLIENT_MAIN = new URL("./client_main.ts", import.meta.url);
const ROOT_CONFIG = new URL("../../../deno.json", import.meta.url);

/** Runs a whole federated training: data, client processes, rounds, evaluation. */
export async function runFederated(options: FederatedOptions): Promise<FederatedResult> {
  const o = resolve(options);
  validate(o);
  const charge = options.ledger;
  if (!charge) return await train(o);
  if (!o.dp) {
    throw new MercuryError("usage", "a federated run charges the ledger only with DP-FedAvg", {
      where: "privacy federated",
      hint: "add --clip and --noise, or leave out --dataset",
    });
  }
  // The cost is known before the run (q, σ and the rounds fix it): charged before any client starts, recorded
  // only when the run finishes (rounds that failed cleanly included: their noise was never released, so this
  // over-counts, never under-counts).
  const delta = o.dp.delta ?? 1e-5;
  const epsilon = dpFedAvgEpsilon(o.fraction, o.dp.noiseMultiplier, o.rounds, delta);
  const { value } = await charge.ledger.spend({
    dataset: charge.dataset,
    analyst: charge.analyst,
    query: `federated ${o.model} ${o.algorithm}, ${o.clients} clients, ${o.rounds} rounds`,
    mechanism: "dp-fedavg (subsampled gaussian, client level)",
    epsilon,
    delta,
    detail: { q: o.fraction, noiseMultiplier: o.dp.noiseMultiplier, clip: o.dp.clip, rounds: o.rounds },
    parts: [{ kind: "approx", epsilon, delta }],
  }, () => train(o));
  return value;
}

function dpFedAvgEpsilon(q: number, sigma: number, rounds: number, delta: number): number {
  return new RdpAccountant().composeSubsampledGaussian({ q, sigma, steps: rounds }).epsilon(delta).epsilon;
}

function resolve(options: FederatedOptions) {
  return {
    clients: 10,
    rounds: 10,
    rows: 5000,
    split: "iid" as const,
    algorithm: "fedavg" as const,
    fraction: 1,
    epochs: 1,
    lr: options.model === "linear_regression" ? 0.05 : options.model === "mlp" ? 0.3 : 0.5,
    batch: 32,
    seed: 42,
    secagg: false,
    roundTimeoutMs: 30_000,
    dropRate: 0,
    minClients: 1,
    ...options,
  };
}

async function train(o: ReturnType<typeof resolve>): Promise<FederatedResult> {
  const mu = o.algorithm === "fedprox" ? (o.mu ?? 0.1) : 0;
  const started = performance.now();
  const data = o.dataset ??
    makeDataset(o.model === "linear_regression" ? "regression" : "classification", o.rows, o.seed);
  const model = await loadModel(o.model, data.train.d);
  const parts = splitClients(data.train, o.clients, o.split, o.seed);
  const dir = await Deno.makeTempDir({ prefix: "mercury-privacy-fed-" });
  const tokens = Array.from({ length: o.clients }, () => crypto.randomUUID());
  const hub = new Hub({
    clients: o.clients,
    tokens,
    maxBytes: 65_536 + (model.dim + 1) * 24 + o.clients * 512,
    dim: model.dim,
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => hub.handle(req));
  const procs: Deno.ChildProcess[] = [];
  const drains: Promise<void>[] = [];
  const stderrTails: string[] = Array.from({ length: o.clients }, () => "");
  const clientStderr: Record<number, string> = {}; // filled once the clients have exited
  const expected = o.dp ? o.fraction * o.clients : 0;
  const threshold = (m: number) => o.threshold ?? Math.max(2, Math.ceil((2 * m) / 3));
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    for (let i = 0; i < o.clients; i++) {
      const cfg: ClientConfig = {
        id: i,
        coordinator: base,
        token: tokens[i]!,
        data: `${dir}/client-${i}.json`,
        model: o.model,
        threshold: threshold(Math.round(o.fraction * o.clients)),
        dropRate: o.dropRate,
        seed: o.seed * 1000 + i,
        fault: o.faults?.[i],
      };
      await Deno.writeTextFile(cfg.data, JSON.stringify(parts[i]));
      await Deno.writeTextFile(`${dir}/client-${i}.config.json`, JSON.stringify(cfg));
      procs.push(
        new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            `--config=${ROOT_CONFIG.pathname}`,
            `--allow-net=127.0.0.1:${server.addr.port}`,
            "--allow-read",
            "--allow-env",
            "--allow-sys",
            CLIENT_MAIN.href,
            `${dir}/client-${i}.config.json`,
          ],
          stdin: "null",
          stdout: "null",
          stderr: "piped",
        }).spawn(),
      );
      // Drain each client's stderr (so a chatty client never blocks on a full pipe), keeping its last 4 KB.
      drains.push(
        procs[i]!.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
          new WritableStream({ write: (text) => void (stderrTails[i] = (stderrTails[i]! + text).slice(-4096)) }),
        ).catch(() => {}),
      );
    }
    await hub.waitSeen(o.clients, 60_000);

    let weights = model.init(o.seed);
    const rng = seededRandom(o.seed ^ 0x5eed);
    const rounds: RoundReport[] = [];
    let lastMasked: Map<number, number[]> | undefined;
    let lastSum: number[] | undefined;
    const train: TrainOptions = { epochs: o.epochs, lr: o.lr, batch: o.batch, mu, seed: o.seed };
    for (let r = 1; r <= o.rounds; r++) {
      const t0 = performance.now();
      const sampled = o.dp
        ? Array.from({ length: o.clients }, (_, i) => i).filter(() => rng() < o.fraction)
        : permutation(o.clients, o.seed * 31 + r).slice(0, Math.max(1, Math.round(o.fraction * o.clients)))
          .sort((a, b) => a - b);
      const report: RoundReport = { round: r, sampled, aggregated: [], dropouts: [], loss: NaN, ms: 0 };
      const task = { weights, train: { ...train, seed: o.seed * 1000 + r }, clip: o.dp?.clip };
      let sum: number[] | undefined; // Σ weight·Δ then Σ weight
      try {
        if (sampled.length === 0) throw new SecAggError("no client was sampled");
        if (!o.secagg) {
          const { ok, dropped } = await hub.call(sampled, "train", r, () => task, o.roundTimeoutMs);
          report.dropouts.push(...dropped);
          if (ok.size < o.minClients) throw new SecAggError(`${ok.size} updates, fewer than ${o.minClients}`);
          sum = new Array(model.dim + 1).fill(0);
          for (const [id, body] of ok) {
            const w = o.dp ? 1 : (body.n as number);
            (body.delta as number[]).forEach((v, j) => sum![j] = sum![j]! + w * v);
            sum[model.dim]! += w;
            report.aggregated.push(id);
          }
          report.aggregated.sort((a, b) => a - b);
        } else {
          const t = threshold(sampled.length);
          const step = async (ids: number[], op: Op, payload: (id: number) => Record<string, unknown>) => {
            const res = await hub.call(ids, op, r, payload, o.roundTimeoutMs);
            report.dropouts.push(...res.dropped);
            if (res.ok.size < t) {
              throw new SecAggError(`only ${res.ok.size} clients answered ${op}; secure aggregation needs ${t}`);
            }
            return res.ok;
          };
          const keys = await step(sampled, "keys", () => ({}));
          const roster = Object.fromEntries([...keys].map(([id, k]) => [id, { c: k.c, s: k.s } as PublicKeys]));
          const u1 = [...keys.keys()].sort((a, b) => a - b);
          const shared = await step(u1, "share", () => ({ roster }));
          const u2 = [...shared.keys()].sort((a, b) => a - b);
          const inbox = (v: number) =>
            Object.fromEntries(
              u2.filter((u) => u !== v).map((u) => [u, (shared.get(u)!.shares as Record<string, string>)[v]]),
            );
          const masked = await step(u2, "masked", (v) => ({ ...task, inbox: inbox(v), u2 }));
          const u3 = [...masked.keys()].sort((a, b) => a - b);
          const dropped = u2.filter((v) => !masked.has(v));
          const reveals = await step(u3, "unmask", () => ({ survivors: u3, dropped }));
          const field = await unmaskSum({
            masked: new Map([...masked].map(([id, b]) => [id, Float64Array.from(b.y as number[])])),
            reveals: new Map([...reveals].map(([id, b]) => [id, b as unknown as Reveal])),
            roster,
            u2,
            t,
            dim: model.dim + 1,
          });
          sum = decode(field);
          lastMasked = new Map([...masked].map(([id, b]) => [id, b.y as number[]]));
          lastSum = [...sum];
          report.aggregated.push(...u3);
        }
        const denom = o.dp ? expected : sum[model.dim]!;
        if (!(denom > 0)) throw new SecAggError("the aggregated weight is zero");
        weights = weights.map((w, j) => {
          const noise = o.dp ? normal(rng, 0, o.dp.noiseMultiplier * o.dp.clip) : 0;
          return w + (sum![j]! + noise) / denom;
        });
      } catch (err) {
        if (!(err instanceof SecAggError)) throw err;
        report.failed = err.message;
        report.aggregated = [];
      }
      const ev = model.evaluate(weights, data.test);
      report.loss = ev.loss;
      if (ev.accuracy !== undefined) report.accuracy = ev.accuracy;
      report.ms = performance.now() - t0;
      rounds.push(report);
      o.onRound?.(report);
    }
    let epsilon: number | undefined;
    const delta = o.dp?.delta ?? 1e-5;
    if (o.dp) {
      epsilon = dpFedAvgEpsilon(o.fraction, o.dp.noiseMultiplier, o.rounds, delta);
    }
    return {
      rounds,
      weights,
      final: model.evaluate(weights, data.test),
      ...(o.dp ? { epsilon, delta } : {}),
      wallMs: performance.now() - started,
      lastMasked,
      lastSum,
      clientStderr,
    };
  } finally {
    for (let i = 0; i < procs.length; i++) hub.send(i, { op: "stop", round: -1 });
    await Promise.race([
      Promise.all(procs.map((p) => p.status)),
      new Promise((r) => setTimeout(r, 2000)),
    ]);
    for (const p of procs) {
      try {
        p.kill("SIGKILL");
      } catch { /* already gone */ }
      await p.status;
    }
    hub.closeSockets();
    await Promise.all(drains);
    stderrTails.forEach((t, i) => t.trim() && (clientStderr[i] = t.trim()));
    await server.shutdown();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function validate(
  o: Required<Pick<FederatedOptions, "clients" | "rounds" | "fraction" | "dropRate">> & FederatedOptions,
) {
  const bad = (what: string, hint: string) => {
    throw new MercuryError("usage", what, { where: "privacy federated", hint });
  };
  if (!(Number.isInteger(o.clients) && o.clients >= 1 && o.clients <= 200)) bad(`--clients ${o.clients}`, "use 1–200");
  if (!(Number.isInteger(o.rounds) && o.rounds >= 1)) bad(`--rounds ${o.rounds}`, "use a whole number ≥ 1");
  if (!(o.fraction > 0 && o.fraction <= 1)) bad(`--fraction ${o.fraction}`, "use a sampling rate in (0, 1]");
  if (!(o.dropRate >= 0 && o.dropRate < 1)) bad(`--drop-rate ${o.dropRate}`, "use a probability in [0, 1)");
  if (o.dp) {
    if (!(o.dp.clip > 0)) bad(`--clip ${o.dp.clip}`, "the clipping norm must be > 0");
    if (!(o.dp.noiseMultiplier > 0)) bad(`--noise ${o.dp.noiseMultiplier}`, "the noise multiplier must be > 0");
    if (o.dp.delta !== undefined && !(o.dp.delta > 0 && o.dp.delta < 1)) bad(`--delta ${o.dp.delta}`, "use 0 < δ < 1");
  }
  if (o.secagg && o.threshold !== undefined && !(Number.isInteger(o.threshold) && o.threshold >= 2)) {
    bad(`--threshold ${o.threshold}`, "secure aggregation needs a whole threshold ≥ 2");
  }
}
