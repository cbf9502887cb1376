/**
 * An encrypted query end to end: the key holder (this process) encrypts the
 * sensitive columns, starts the aggregation server as a separate process,
 * uploads the ciphertexts with the plaintext grouping column, asks for the
 * sums and decrypts them; the same query runs on plaintext for the cost
 * ratio and as a check that the answers agree.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { KeyHolder } from "./key_holder.ts";
import type { EncryptedResult } from "./aggregate.ts";

/** Rows to aggregate: a plaintext group and numeric sensitive columns. */
export interface PlainTable {
  groups: string[];
  columns: Record<string, number[]>;
}

/** Per group: rows, decrypted sums and means; plus timings. */
export interface EncryptedQueryResult {
  groups: Record<string, { rows: number; sums: Record<string, number>; means: Record<string, number> }>;
  /** The same aggregates computed on plaintext, for comparison. */
  plaintext: Record<string, { rows: number; sums: Record<string, number> }>;
  ms: { keygen: number; encrypt: number; upload: number; serverAggregate: number; decrypt: number; plaintext: number };
  keyBits: number;
}

const SERVER_MAIN = new URL("./server_main.ts", import.meta.url);
const ROOT_CONFIG = new URL("../../../deno.json", import.meta.url);

/** `SELECT group, SUM(c)…, COUNT(*) FROM t GROUP BY group` with the columns encrypted. */
export async function runEncryptedQuery(
  table: PlainTable,
  options: { bits?: number } = {},
): Promise<EncryptedQueryResult> {
  const bits = options.bits ?? 2048;
  const t0 = performance.now();
  const holder = await KeyHolder.create(bits);
  const t1 = performance.now();
  const columns = Object.fromEntries(Object.entries(table.columns).map(([k, v]) => [k, holder.encryptColumn(v)]));
  const t2 = performance.now();
  const proc = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--config=${ROOT_CONFIG.pathname}`,
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-env",
      SERVER_MAIN.href,
    ],
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  try {
    const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let line = "";
    while (!line.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new MercuryError("unavailable", "the encrypted-analytics server exited before listening");
      line += value;
    }
    reader.releaseLock();
    const base = `http://127.0.0.1:${line.match(/listening (\d+)/)![1]}`;
    const t3 = performance.now();
    const put = await fetch(`${base}/tables/t`, {
      method: "PUT",
      body: JSON.stringify({ publicKey: holder.publicKey, table: { groups: table.groups, columns } }),
    });
    if (!put.ok) throw new MercuryError("unavailable", `upload refused: ${await put.text()}`);
    await put.body?.cancel();
    const t4 = performance.now();
    const res = await fetch(`${base}/query/t`, {
      method: "POST",
      body: JSON.stringify({ groupBy: true, sums: Object.keys(columns) }),
    });
    const answer = await res.json() as { result: EncryptedResult; ms: number; error?: string };
    if (!res.ok) throw new MercuryError("input", `encrypted query failed: ${answer.error}`);
    const t5 = performance.now();
    const groups: EncryptedQueryResult["groups"] = {};
    for (const [g, r] of Object.entries(answer.result)) {
      const sums = Object.fromEntries(Object.entries(r.sums).map(([c, h]) => [c, holder.decryptNumber(h)]));
      groups[g] = {
        rows: r.rows,
        sums,
        means: Object.fromEntries(Object.entries(sums).map(([c, s]) => [c, s / r.rows])),
      };
    }
    const t6 = performance.now();
    const plaintext: EncryptedQueryResult["plaintext"] = {};
    table.groups.forEach((g, i) => {
      const p = plaintext[g] ??= { rows: 0, sums: Object.fromEntries(Object.keys(columns).map((c) => [c, 0])) };
      p.rows++;
      for (const c of Object.keys(columns)) p.sums[c]! += table.columns[c]![i]!;
    });
    const t7 = performance.now();
    await fetch(`${base}/stop`, { method: "POST" }).then((r) => r.body?.cancel()).catch(() => {});
    return {
      groups,
      plaintext,
      keyBits: bits,
      ms: {
        keygen: t1 - t0,
        encrypt: t2 - t1,
        upload: t4 - t3,
        serverAggregate: answer.ms,
        decrypt: t6 - t5,
        plaintext: t7 - t6,
      },
    };
  } finally {
    try {
      proc.kill();
    } catch { /* gone */ }
    await proc.stdout.cancel().catch(() => {});
    await proc.status;
  }
}
