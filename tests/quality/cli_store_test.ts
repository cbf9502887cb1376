import assert from "node:assert/strict";
import { connectPostgres } from "@mercury/core/services/postgres";
import { checkArgs, dq, dropSchema, testSchema } from "./_cli.ts";

Deno.test("dq-validate check → report → history → rules → audit verify, then a tampered log fails verify", async () => {
  const schema = testSchema();
  const dir = await Deno.makeTempDir();
  await using pg = await connectPostgres();
  try {
    await Deno.writeTextFile(`${dir}/o.csv`, "email,age\na@b.io,30\n,40\nc@d.io,150\n");
    const suite = (max: number) =>
      `name: cli_suite\nexpectations:\n  - type: expect_column_values_to_not_be_null\n    kwargs: {column: email}\n` +
      `  - type: expect_column_values_to_be_between\n    kwargs: {column: age, min_value: 0, max_value: ${max}}\n`;
    await Deno.writeTextFile(`${dir}/s.yaml`, suite(120));

    let r = await dq(schema, "rules", "save", "--config", `${dir}/s.yaml`, "--reason", "first cut", "--author", "ada");
    assert.deepEqual([r.code, r.out[0]], [0, "cli_suite v1 (0 changes) by ada: first cut"]);
    await Deno.writeTextFile(`${dir}/s.yaml`, suite(200));
    r = await dq(
      schema,
      "rules",
      "save",
      "--config",
      `${dir}/s.yaml`,
      "--reason",
      "older customers",
      "--author",
      "bob",
    );
    assert.equal(r.out[0], "cli_suite v2 (1 changes) by bob: older customers");
    r = await dq(schema, "rules", "diff", "cli_suite");
    assert.deepEqual(r.out.slice(0, 1), ["cli_suite v1 → v2"]);
    assert.match(r.out[1]!, /^~ expect_column_values_to_be_between\(age\): .*"max_value":120.* → .*"max_value":200/);
    r = await dq(schema, "diff", "--suite", "cli_suite");
    assert.match(r.out.join("\n"), /max_value":200/);

    r = await dq(schema, ...checkArgs(`${dir}/s.yaml`, `${dir}/o.csv`, `${dir}/run.json`));
    assert.equal(r.code, 1, r.out.join("\n"));
    assert.match(r.out.join("\n"), /^stored: run [0-9a-f-]{36} of cli_suite v2 /m, "check records its run");
    r = await dq(schema, "report", "--result", `${dir}/run.json`, "--output", `${dir}/quality_report.html`);
    assert.equal(r.code, 0, r.out.join("\n"));
    assert.match(r.out[0]!, /wrote .*quality_report.html \(html\) for run .* of cli_suite: score 83\.3/);
    const runId = JSON.parse(await Deno.readTextFile(`${dir}/run.json`)).run_id;
    r = await dq(schema, "report", "--run", runId, "--output", `${dir}/r.xml`);
    assert.equal(r.code, 0);
    assert.match(await Deno.readTextFile(`${dir}/r.xml`), /failures="1"/);
    r = await dq(schema, "history", "--suite", "cli_suite");
    assert.equal(r.out.length, 1, "report of a run check stored does not store it twice");
    assert.match(r.out[0]!, /FAIL {2}cli_suite v2 {2}1\/2 {2}score 83\.3 .*o\.csv/);
    r = await dq(schema, "history", "--suite", "cli_suite", "--metric", "nope");
    assert.equal(r.code, 66);
    assert.match(r.out.at(-1)!, /suite cli_suite has no metric nope.*hint: metrics: .*row_count/);

    r = await dq(schema, "audit", "verify");
    assert.deepEqual([r.code, r.out.at(-1)], [0, "audit log intact: 5 entries, hash chain and run results verified"]);
    const log = await pg.sql.unsafe(`select action, subject from ${schema}.audit order by seq`);
    assert.deepEqual(log.map((e) => `${e.action} ${e.subject}`), [
      "suite.save cli_suite@1",
      "suite.save cli_suite@2",
      "run.record cli_suite@2",
      "report.write cli_suite@2",
      "report.write cli_suite@2",
    ]);

    // A check with a suite changed on disk saves it as a new version and records a second run under it.
    await Deno.writeTextFile(`${dir}/s.yaml`, suite(100));
    r = await dq(schema, ...checkArgs(`${dir}/s.yaml`, `${dir}/o.csv`, `${dir}/run3.json`, "--author", "cy"));
    assert.equal(r.code, 1);
    r = await dq(schema, "rules", "show", "cli_suite");
    assert.match(r.out.join("\n"), /^v3\t.*\tcy\tused by dq-validate check\t1 changes$/m);
    r = await dq(schema, "history", "--suite", "cli_suite");
    assert.equal(r.out.length, 2);
    assert.match(r.out[0]!, /FAIL {2}cli_suite v3 /);
    r = await dq(schema, "audit", "verify");
    assert.equal(r.code, 0, r.out.join("\n"));
    // Changing a stored check run's results is caught.
    const run3 = JSON.parse(await Deno.readTextFile(`${dir}/run3.json`)).run_id;
    await pg.sql.unsafe(
      `update ${schema}.runs set results = jsonb_set(results, '{0,success}', 'true') where run_id = '${run3}'`,
    );
    r = await dq(schema, "audit", "verify");
    assert.equal(r.code, 1);
    assert.match(r.out.join("\n"), new RegExp(`run ${run3}: its stored results were changed`));
    await pg.sql.unsafe(
      `update ${schema}.runs set results = jsonb_set(results, '{0,success}', 'false') where run_id = '${run3}'`,
    );
    await pg.sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx.unsafe(`update ${schema}.audit set body = replace(body, 'first cut', 'no reason') where seq = 1`);
    });
    r = await dq(schema, "audit", "verify");
    assert.equal(r.code, 1);
    assert.equal(r.out.length, 2, r.out.join("\n"));
    assert.equal(r.out[0], "TAMPERED: entry 1 (suite.save cli_suite@1) was changed: its hash does not match");

    r = await dq(schema, "rules", "show", "nosuch");
    assert.equal(r.code, 66);
    assert.equal(r.out.length, 1);
  } finally {
    await dropSchema(schema);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dq-validate profile, suggest and diff on files; bad input is one line with a non-zero exit", async () => {
  const dir = await Deno.makeTempDir();
  const schema = testSchema();
  try {
    await Deno.writeTextFile(`${dir}/a.csv`, "id,status\n1,new\n2,paid\n3,paid\n");
    await Deno.writeTextFile(`${dir}/b.csv`, "id,status\n1,new\n2,paid\n3,\n4,paid\n");
    let r = await dq(schema, "profile", "--source", `${dir}/a.csv`, "--output", `${dir}/a.json`);
    assert.equal(r.code, 0);
    await dq(schema, "profile", "--source", `${dir}/b.csv`, "--output", `${dir}/b.json`);
    r = await dq(schema, "diff", `${dir}/a.json`, `${dir}/b.json`);
    assert.ok(r.out.includes("~ rows: 3 → 4"), r.out.join("\n"));
    r = await dq(schema, "suggest", "--profile", `${dir}/a.json`, "--output", `${dir}/s.yaml`, "--name", "st");
    assert.match(r.out[0]!, /wrote .*s.yaml: \d+ expectations/);
    r = await dq(schema, ...checkArgs(`${dir}/s.yaml`, `${dir}/a.csv`, `${dir}/run.json`));
    assert.equal(r.code, 0, "a suite suggested from the data passes on that data:\n" + r.out.join("\n"));
    r = await dq(schema, ...checkArgs(`${dir}/s.yaml`, `${dir}/b.csv`, `${dir}/run2.json`));
    assert.equal(r.code, 1, "and fails on the changed data");
    r = await dq(schema, "profile", "--source", `${dir}/missing.parquet`);
    assert.equal(r.code, 66);
    assert.equal(r.out.length, 1);
    r = await dq(schema, "suggest", "--profile", `${dir}/a.csv`);
    assert.equal(r.code, 65);
    assert.match(r.out[0]!, /a.csv is not JSON/);
  } finally {
    await dropSchema(schema);
    await Deno.remove(dir, { recursive: true });
  }
});
