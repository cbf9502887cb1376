/**
 * The server's side of encrypted analytics: with only the public key, it
 * groups rows by a plaintext column and multiplies ciphertexts mod n² (which
 * adds the plaintexts under Paillier), so `SUM(col)` of an encrypted column —
 * and a count, as the sum of an encrypted 0/1 column — come out encrypted.
 *
 * @example
 * ```ts
 * import { encryptedGroupSums, KeyHolder } from "@mercury/privacy/paillier";
 * import assert from "node:assert/strict";
 *
 * const holder = await KeyHolder.create(512);
 * const table = { groups: ["a", "b", "a"], columns: { x: holder.encryptColumn([1, 2, 3]) } };
 * const out = encryptedGroupSums(holder.publicKey, table, { groupBy: true, sums: ["x"] });
 * assert.equal(holder.decryptNumber(out.a!.sums.x!), 4);
 * assert.equal(out.a!.rows, 2);
 * ```
 *
 * @module
 */
import type { PublicKeyJson } from "./key_holder.ts";

/** An uploaded table: one plaintext grouping value per row and encrypted columns (hex). */
export interface EncryptedTable {
  groups?: string[];
  columns: Record<string, string[]>;
}

/** `SELECT [group,] SUM(c1), … FROM t [GROUP BY group]`. */
export interface EncryptedQuery {
  groupBy?: boolean;
  sums: string[];
}

/** Per group: how many rows and the encrypted sums (hex). */
export type EncryptedResult = Record<string, { rows: number; sums: Record<string, string> }>;

/** Aggregates `table` homomorphically; throws on unknown columns or ragged input. */
export function encryptedGroupSums(pk: PublicKeyJson, table: EncryptedTable, query: EncryptedQuery): EncryptedResult {
  const n = BigInt("0x" + pk.n);
  const n2 = n * n;
  const cols = Object.keys(table.columns);
  const rows = table.columns[cols[0]!]?.length ?? 0;
  for (const c of query.sums) {
    if (!table.columns[c]) throw new RangeError(`no encrypted column "${c}"; the table has ${cols.join(", ")}`);
    if (table.columns[c]!.length !== rows) throw new RangeError(`column "${c}" has a different number of rows`);
  }
  if (query.groupBy && table.groups?.length !== rows) throw new RangeError("GROUP BY needs one group value per row");
  const out: EncryptedResult = {};
  const acc = new Map<string, { rows: number; sums: bigint[] }>();
  for (let i = 0; i < rows; i++) {
    const key = query.groupBy ? table.groups![i]! : "all";
    let a = acc.get(key);
    if (!a) acc.set(key, a = { rows: 0, sums: query.sums.map(() => 1n) }); // 1 encrypts nothing: the product's unit
    a.rows++;
    query.sums.forEach((c, k) => {
      const cipher = BigInt("0x" + table.columns[c]![i]!);
      if (cipher <= 0n || cipher >= n2) throw new RangeError(`row ${i} of "${c}" is not a ciphertext under this key`);
      a!.sums[k] = (a!.sums[k]! * cipher) % n2;
    });
  }
  for (const [key, a] of acc) {
    out[key] = { rows: a.rows, sums: Object.fromEntries(query.sums.map((c, k) => [c, a.sums[k]!.toString(16)])) };
  }
  return out;
}
