/**
 * Runs the Flower peer (`flower_peer.py`) as real processes: one Flower
 * server and one Flower client per partition over gRPC on loopback. Clients
 * start once the server accepts connections, as Flower's docs do (a client
 * that finds no server backs off for seconds, which would charge Flower for
 * our start order). Shared by bench/privacy_federated_bench.ts and the small
 * comparison in tests/privacy/fed_flower_test.ts.
 *
 * @module
 */
import type { Table } from "../../../plugins/privacy/federated/data.ts";

/** The shared settings of both runs. */
export interface FlowerConfig {
  rounds: number;
  epochs: number;
  lr: number;
  batch: number;
  /** Features (the model has d + 1 parameters). */
  d: number;
  /** The run's seed: round r shuffles with seed·1000 + r, as Mercury's coordinator does. */
  seed: number;
}

/** Final test accuracy, wall time from the first spawn, and the time of rounds 2…R. */
export interface FlowerRun {
  accuracy: number;
  wallMs: number;
  roundsAfterFirstMs: number;
}

const PEER = new URL("./flower_peer.py", import.meta.url).pathname;

/** Runs FedAvg logistic regression in Flower over `parts`, evaluated on `test`. */
export async function runFlower(python: string, cfg: FlowerConfig, parts: Table[], test: Table): Promise<FlowerRun> {
  const dir = await Deno.makeTempDir({ prefix: "mercury-flower-" });
  try {
    for (const [i, p] of parts.entries()) await Deno.writeTextFile(`${dir}/client-${i}.json`, JSON.stringify(p));
    await Deno.writeTextFile(`${dir}/test.json`, JSON.stringify(test));
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    const started = performance.now();
    const server = new Deno.Command(python, {
      args: [
        PEER,
        "server",
        `${port}`,
        `${cfg.rounds}`,
        `${parts.length}`,
        `${cfg.d + 1}`,
        `${dir}/test.json`,
        `${dir}/out.json`,
        `${cfg.seed}`,
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const serverLog = new Response(server.stderr).text();
    for (let k = 0; k < 1200; k++) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const clients = parts.map((_, i) =>
      new Deno.Command(python, {
        args: [
          PEER,
          "client",
          `${port}`,
          `${dir}/client-${i}.json`,
          `${cfg.epochs}`,
          `${cfg.lr}`,
          `${cfg.batch}`,
        ],
        stdout: "null",
        stderr: "null",
      }).spawn()
    );
    const status = await server.status;
    const wallMs = performance.now() - started;
    await Promise.all(clients.map((c) => c.status));
    if (!status.success) throw new Error(`the Flower server failed: ${(await serverLog).slice(-2000)}`);
    const out = JSON.parse(await Deno.readTextFile(`${dir}/out.json`));
    const at = out.evaluated_at as number[]; // the initial model, then after each round
    return { accuracy: out.accuracy, wallMs, roundsAfterFirstMs: (at.at(-1)! - at[1]!) * 1000 };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
