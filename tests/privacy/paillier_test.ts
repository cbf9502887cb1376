import assert from "node:assert/strict";
import { encryptedGroupSums, KeyHolder, runEncryptedQuery } from "@mercury/privacy/paillier";
import { seededRandom } from "@mercury/core/random";

Deno.test("encrypted GROUP BY: sums and counts from a separate server process equal the plaintext answers", async () => {
  const rnd = seededRandom(4);
  const regions = ["north", "south", "east"];
  const n = 40;
  const table = {
    groups: Array.from({ length: n }, (_, i) => regions[i % 3]!),
    columns: {
      salary: Array.from({ length: n }, () => Math.round(rnd() * 1e7) / 100),
      balance: Array.from({ length: n }, () => Math.round((rnd() - 0.5) * 1e5) / 100), // negatives too
      diabetic: Array.from({ length: n }, () => (rnd() < 0.3 ? 1 : 0)), // a count, as the sum of 0/1
    },
  };
  const r = await runEncryptedQuery(table, { bits: 1024 });
  assert.deepEqual(Object.keys(r.groups).sort(), [...regions].sort());
  for (const g of regions) {
    assert.equal(r.groups[g]!.rows, r.plaintext[g]!.rows);
    for (const c of ["salary", "balance", "diabetic"]) {
      assert.ok(Math.abs(r.groups[g]!.sums[c]! - r.plaintext[g]!.sums[c]!) < 1e-6, `${g} ${c}`);
    }
  }
  assert.ok(r.ms.encrypt > r.ms.plaintext, "encryption costs more than a plaintext sum");
});

Deno.test("Paillier ciphertexts hide the values: equal values encrypt differently, and the server checks its input", async () => {
  const holder = await KeyHolder.create(512);
  const [a, b] = holder.encryptColumn([42, 42]);
  assert.notEqual(a, b);
  const pk = holder.publicKey;
  assert.throws(
    () => encryptedGroupSums(pk, { columns: { x: [a!] } }, { sums: ["y"] }),
    /no encrypted column "y"; the table has x/,
  );
  const tooBig = (BigInt("0x" + pk.n) ** 2n).toString(16);
  assert.throws(() => encryptedGroupSums(pk, { columns: { x: [tooBig] } }, { sums: ["x"] }), /row 0 of "x"/);
  const sum = encryptedGroupSums(pk, { columns: { x: [a!, b!] } }, { sums: ["x"] });
  assert.equal(holder.decryptNumber(sum.all!.sums.x!), 84);
});
