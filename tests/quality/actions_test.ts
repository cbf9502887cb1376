import assert from "node:assert/strict";
import { actionTypes, runActions, ValidationFailed } from "../../plugins/quality/actions.ts";
import "../../plugins/quality/checkpoint_actions.ts";
import { validate } from "../../plugins/quality/validate.ts";
import { integration } from "../_helpers.ts";
import { testStore } from "./_store_fixture.ts";

Deno.test(
  "checkpoint actions on a failed run: Slack-style webhook, store_metrics, write_report, fail_step last",
  integration,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "quality-actions-" });
    await using ts = await testStore();
    const got: { path: string; body: Record<string, unknown> }[] = [];
    const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
      got.push({ path: new URL(req.url).pathname, body: await req.json() });
      return new Response("ok");
    });
    try {
      await Deno.writeTextFile(`${dir}/o.csv`, "id,amount\n1,10\n2,-3\n3,4\n");
      const suite = {
        name: "acts",
        expectations: [
          { type: "expect_column_values_to_be_between", kwargs: { column: "amount", min_value: 0 } },
          { type: "expect_column_values_to_not_be_null", kwargs: { column: "id" } },
        ],
      };
      const run = await validate(`${dir}/o.csv`, suite);
      assert.equal(run.success, false);
      const hook = `http://127.0.0.1:${server.addr.port}`;
      // fail_step is listed first but runs last: every other action still happens.
      await assert.rejects(
        runActions([
          { type: "fail_step" },
          { type: "webhook", url: `${hook}/slack`, format: "slack", on: "failure" },
          { type: "webhook", url: `${hook}/json` },
          { type: "store_metrics", schema: ts.schema },
          { type: "write_report", path: "acts.html" },
        ], { run, suite, out_dir: dir }),
        ValidationFailed,
      );
      assert.deepEqual(got.map((g) => g.path), ["/slack", "/json"]);
      const text = String(got[0]!.body.text);
      assert.match(text, /^:x: \*acts\* failed on `.*o\.csv`: 1\/2 expectations/);
      assert.match(text, /• expect_column_values_to_be_between\(amount\): 1 unexpected of 3/);
      assert.equal((got[1]!.body.failed as unknown[]).length, 1);
      const runs = await ts.store.runs("acts");
      assert.equal(runs.length, 1, "store_metrics recorded the run");
      assert.equal(runs[0]!.run_id, run.run_id);
      assert.equal((await ts.store.verifyAudit()).ok, true);
      assert.match(
        await Deno.readTextFile(`${dir}/acts.html`),
        /<html[\s\S]*acts[\s\S]*expect_column_values_to_be_between/,
      );

      // on: failure stays silent for a passing run.
      const passing = await validate(`${dir}/o.csv`, { name: "ok", expectations: [suite.expectations[1]!] });
      await runActions([{ type: "webhook", url: `${hook}/slack`, format: "slack", on: "failure" }], {
        run: passing,
        suite,
      });
      assert.equal(got.length, 2);
      await assert.rejects(runActions([{ type: "write_report" }], { run, suite }), /write_report needs path/);
      assert.ok(actionTypes().includes("store_metrics"));
    } finally {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
