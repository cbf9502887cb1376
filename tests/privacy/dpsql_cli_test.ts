import assert from "node:assert/strict";
import { resolveEndpoints } from "@mercury/core";
import { Ledger } from "@mercury/privacy/ledger";
import { runCli as run } from "./_setup.ts";

Deno.test("privacy budget and privacy sql: set a budget, answer with errors, refuse past the budget", async () => {
  const dir = await Deno.makeTempDir();
  const dataset = `sql_cli_test_${crypto.randomUUID().slice(0, 8)}`;
  try {
    const csv = `${dir}/people.csv`;
    const rows = [
      "id,city,age",
      ...Array.from({ length: 3000 }, (_, i) => `${i},${["oslo", "rome"][i % 2]},${i % 90}`),
    ];
    await Deno.writeTextFile(csv, rows.join("\n") + "\n");
    assert.equal((await run(["budget", dataset, "--epsilon", "1.2", "--delta", "1e-5"])).code, 0);
    const q = ["sql", "select city, count(*), avg(age) from people group by city", "--data", csv, "--dataset", dataset];
    const ok = await run([...q, "--epsilon", "1", "--bounds", "age=0:100"]);
    assert.equal(ok.code, 0, ok.lines.join("\n"));
    assert.match(ok.lines.join("\n"), /oslo\s+\d+ ± [\d.]+\s+[\d.]+ ± [\d.]+/);
    const refused = await run([...q, "--epsilon", "0.5", "--bounds", "age=0:100"]);
    assert.equal(refused.code, 73);
    assert.match(refused.lines.at(-1)!, /budget exhausted/);
    const shown = await run(["budget", dataset]);
    assert.match(shown.lines.join("\n"), /\(data set\)\s+1\.2\s+1\b/);
    const unbounded = await run([...q, "--epsilon", "0.1"]);
    assert.equal(unbounded.code, 64);
    assert.match(unbounded.lines.at(-1)!, /'age' cannot be bounded without user bounds/);
  } finally {
    await using ledger = await Ledger.open({ url: resolveEndpoints().postgres.url });
    await ledger.forget(dataset);
    await Deno.remove(dir, { recursive: true });
  }
});
