/**
 * The live benchmark shape (`bench/stream_live_bench.ts`) at a small rate on
 * the real services: a producer whose event time follows the wall clock,
 * a worker process running a 5-second tumbling and a 10-second/5-second
 * hopping pipeline, windows that close during the run, and every closed
 * window written exactly once to PostgreSQL, equal to the producer's own
 * count of what it sent.
 */
import assert from "node:assert/strict";
import { integration } from "../_helpers.ts";

Deno.test({
  name: "live shape: windows close, each written once, equal to the producer's ground truth",
  ...integration,
  async fn() {
    const out = await Deno.makeTempFile({ suffix: ".json" });
    try {
      const bench = new URL("../../bench/stream_live_bench.ts", import.meta.url).pathname;
      const run = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          bench,
          ...["--rates", "5000", "--workers", "1", "--warmup", "3", "--hold", "12", "--keys", "2000"],
          ...["--tumbling", "5s", "--hop", "10s/5s", "--drain", "30", "--out", out],
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(run.stderr);
      assert.ok(run.success, `the bench failed:\n${stderr.slice(-2000)}`);
      const result = JSON.parse(await Deno.readTextFile(out));
      assert.equal(result.steps.length, 1);
      const step = result.steps[0];
      assert.ok(step.sent >= 5000 * 15 * 0.99, `sent ${step.sent}`);
      assert.ok(step.drained, "the worker did not catch up within 30 s");
      assert.equal(step.check.late, 0);
      for (const pipeline of ["tumbling", "hopping"]) {
        const c = step.check[pipeline];
        // 15 s of events: at least one 5-second window per active key closed, for both window kinds.
        assert.ok(c.closedWindows > 1000, `${pipeline}: ${c.closedWindows} closed windows`);
        assert.equal(c.missing, 0, `${pipeline}: windows missing`);
        assert.equal(c.wrong, 0, `${pipeline}: windows with a wrong count or sum`);
        assert.equal(c.extra, 0, `${pipeline}: windows not in the ground truth`);
        assert.equal(c.resultsReported, c.rowsTotal, `${pipeline}: results reported vs rows (written twice?)`);
        assert.ok(step[pipeline].eventsPerSec > 0);
      }
      assert.equal(step.check.verified, true);
    } finally {
      await Deno.remove(out).catch(() => {});
    }
  },
});
