/**
 * A small version of bench/quality_bench.ts: the parity suite (48 GX Core
 * expectations) over 3,000 rows through Great Expectations 1.24.1 (pandas)
 * and dq-validate; success, observed_value and unexpected_count must be
 * equal for every expectation. The GX venv is installed on first use
 * (about 3 minutes on the development machine, once).
 */
import assert from "node:assert/strict";
import { validate } from "@mercury/quality";
import {
  compareRuns,
  gxPython,
  makeParityData,
  paritySuite,
  parityTable,
  runGx,
} from "../../bench/peers/great_expectations/parity.ts";

Deno.test("dq-validate gives Great Expectations' verdicts, observed values and unexpected counts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "quality-parity-" });
  try {
    const path = `${dir}/parity.parquet`;
    const rows = 3000;
    await makeParityData(path, rows);
    const suite = paritySuite(rows);
    assert.ok(suite.expectations.length >= 30);
    const ours = await validate(path, suite);
    const { python, installSeconds } = await gxPython();
    if (installSeconds > 1) console.log(`GX venv installed in ${installSeconds.toFixed(0)} s`);
    const gx = await runGx(python, path, suite);
    const table = compareRuns(ours.results, gx.results);
    const bad = table.filter((r) => !r.equal);
    assert.equal(bad.length, 0, `mismatches with GX:\n${parityTable(bad)}`);
    // The data has planted problems: both must find failures, not pass everything.
    assert.ok(ours.statistics.unsuccessful_expectations > 20);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
