import assert from "node:assert/strict";
import { integration, runScript } from "../_helpers.ts";
import { checkArgs, CLI, dqProcess, dropSchema, testSchema } from "./_cli.ts";

Deno.test("dq-validate check: exit codes, result JSON, failing rows, explain, webhook", integration, async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "quality-cli-" });
  const schema = testSchema();
  const run = (argv: string[], script?: string) => dqProcess(schema, argv, script);
  try {
    await Deno.writeTextFile(`${dir}/orders.csv`, "id,email,amount\n1,a@x.org,10\n2,,5\n3,c@x.org,-1\n");
    await Deno.writeTextFile(
      `${dir}/good.yaml`,
      "name: good\nexpectations:\n  - expect_column_values_to_not_be_null: {column: id}\nchecks:\n  - row_count = 3\n",
    );
    await Deno.writeTextFile(
      `${dir}/bad.yaml`,
      "name: bad\nexpectations:\n  - expect_column_values_to_not_be_null: {column: email}\n  - expect_column_values_to_be_between: {column: amount, min_value: 0}\n",
    );
    const csv = `${dir}/orders.csv`;
    await t.step("--help lists the commands", async () => {
      const r = await run(["--help"]);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /check\s+validate a source/);
    });
    await t.step("a passing suite exits 0, writes the run and records it in the store", async () => {
      const r = await run(checkArgs(`${dir}/good.yaml`, csv, `${dir}/good.json`));
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /PASSED good: 2\/2/);
      const out = JSON.parse(await Deno.readTextFile(`${dir}/good.json`));
      assert.equal(out.success, true);
      assert.equal(out.fingerprint.row_count, 3);
      assert.equal(out.suite_version, 1);
      assert.match(out.fingerprint.hash, /^[0-9a-f]{64}$/);
      assert.match(r.stdout, new RegExp(`stored: run ${out.run_id} of good v1 \\(${schema}\\)`));
    });
    await t.step("a failing suite exits 1, with the failing rows beside the result and a webhook POST", async () => {
      const got: unknown[] = [];
      const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
        got.push(await req.json());
        return new Response("ok");
      });
      try {
        const r = await run(
          checkArgs(`${dir}/bad.yaml`, csv, `${dir}/bad.json`, "--webhook", `http://127.0.0.1:${server.addr.port}/h`),
        );
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stdout, /✗ expect_column_values_to_be_between\(amount\)\s+unexpected 1\/3 e\.g\. \[-1\]/);
        assert.match(r.stdout, /failing rows \(2\): .*bad\.failing\.parquet/);
        await Deno.stat(`${dir}/bad.failing.parquet`);
        assert.equal(got.length, 1);
        assert.equal((got[0] as { success: boolean }).success, false);
        assert.equal((got[0] as { failed: unknown[] }).failed.length, 2);
      } finally {
        await server.shutdown();
      }
    });
    await t.step("suite actions: write_report renders JUnit beside the run, --no-store records nothing", async () => {
      await Deno.writeTextFile(
        `${dir}/acts.yaml`,
        "name: acts\nmeta:\n  actions:\n    - {type: write_report, path: acts.xml}\n" +
          "expectations:\n  - expect_column_values_to_be_between: {column: amount, min_value: 0}\n",
      );
      const r = await run(checkArgs(`${dir}/acts.yaml`, csv, `${dir}/acts.json`, "--no-store"));
      assert.equal(r.code, 1, r.stderr);
      assert.doesNotMatch(r.stdout, /stored:/);
      assert.match(await Deno.readTextFile(`${dir}/acts.xml`), /<testsuite [^>]*failures="1"/);
      const h = await run(["history", "--suite", "acts"]);
      assert.equal(h.stdout.trim(), "no runs of acts");
    });
    await t.step("--explain prints the SQL and writes nothing", async () => {
      const r = await run(checkArgs(`${dir}/bad.yaml`, csv, `${dir}/x.json`, "--explain"));
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /select count\(\*\) as __n/);
      await assert.rejects(Deno.stat(`${dir}/x.json`));
    });
    await t.step("bad input: one line and the core's exit codes", async () => {
      await Deno.writeTextFile(
        `${dir}/typo.yaml`,
        "expectations:\n  - expect_column_values_to_be_uniqe: {column: id}\n",
      );
      await Deno.writeTextFile(`${dir}/broken.yaml`, "expectations: [\n");
      const cases: [string[], number, RegExp][] = [
        [checkArgs(`${dir}/typo.yaml`, csv), 64, /did you mean "expect_column_values_to_be_unique"/],
        [checkArgs(`${dir}/broken.yaml`, csv), 64, /broken\.yaml:\d+:\d+/],
        [checkArgs(`${dir}/bad.yaml`, `${dir}/missing.csv`), 66, /missing\.csv/],
        [checkArgs(`${dir}/nope.yaml`, csv), 66, /nope\.yaml/],
        [checkArgs(`${dir}/bad.yaml`, "postgres://mercury@127.0.0.1:1/mercury?table=public.t"), 69, /127\.0\.0\.1:1/],
        [["check", "--source", csv], 64, /--config/],
      ];
      for (const [args, code, re] of cases) {
        const r = await run(args);
        assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
        assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        assert.match(r.stderr, re);
      }
      // The store unreachable: check says so before writing anything, and names the way out.
      const down = await runScript(CLI, checkArgs(`${dir}/good.yaml`, csv, `${dir}/down.json`), {
        MERCURY_PG_URL: "postgres://mercury@127.0.0.1:1/mercury",
      });
      assert.equal(down.code, 69, down.stderr);
      assert.equal(down.stderr.trim().split("\n").length, 1, down.stderr);
      assert.match(down.stderr, /cannot record the run: .*127\.0\.0\.1:1.*--no-store/);
      await assert.rejects(Deno.stat(`${dir}/down.json`));
    });
    await t.step("deno task mercury quality check runs the same command", async () => {
      const r = await run(["quality", ...checkArgs(`${dir}/good.yaml`, csv, `${dir}/m.json`)], "tasks/mercury.ts");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /PASSED good/);
    });
  } finally {
    await dropSchema(schema);
    await Deno.remove(dir, { recursive: true });
  }
});
