/**
 * Encrypted analytics with Paillier: a key holder that encrypts and decrypts,
 * a server that only aggregates ciphertexts (its own process), and a query
 * that runs both and compares with plaintext.
 *
 * @example
 * ```ts
 * import { runEncryptedQuery } from "@mercury/privacy/paillier";
 * import assert from "node:assert/strict";
 *
 * const r = await runEncryptedQuery({ groups: ["a", "a", "b"], columns: { salary: [10, 20, 5] } }, { bits: 512 });
 * assert.equal(r.groups.a!.sums.salary, 30);
 * assert.equal(r.groups.b!.rows, 1);
 * ```
 *
 * @module
 */
export { KeyHolder, type PublicKeyJson } from "./key_holder.ts";
export { encryptedGroupSums, type EncryptedQuery, type EncryptedResult, type EncryptedTable } from "./aggregate.ts";
export { type EncryptedQueryResult, type PlainTable, runEncryptedQuery } from "./query.ts";
