import assert from "node:assert/strict";
import { runScript } from "../_helpers.ts";
import { tempDir } from "./_fixtures.ts";

const olap = (...args: string[]) => runScript("tasks/mercury.ts", ["olap", ...args]);

Deno.test({
  name: "olap CLI: setup and query; bad input is one line and a non-zero exit, the catalog unchanged",
  async fn() {
    const [dir, rm] = await tempDir();
    try {
      const setup = await olap("setup", "--data-dir", dir, "--events", "5000", "--skip-m4");
      assert.equal(setup.code, 0, setup.stderr);
      assert.match(setup.stdout, /^events: 5000 rows, 14 partitions/m);
      const q = await olap("query", "select event, count(*) as n from events group by 1 order by 1", "--data-dir", dir);
      assert.equal(q.code, 0, q.stderr);
      const lines = q.stdout.trim().split("\n");
      assert.equal(lines[0], "event,n");
      assert.equal(lines.slice(1).reduce((s, l) => s + Number(l.split(",")[1]), 0), 5000);
      const before = await Deno.readTextFile(`${dir}/catalog.json`);
      await Deno.writeTextFile(`${dir}/fake.parquet`, "a,b\n1,2\n");
      const bad = await olap("ingest", "events", `${dir}/fake.parquet`, "--data-dir", dir);
      assert.equal(bad.code, 65);
      assert.equal(bad.stderr.trim().split("\n").filter((l) => l.startsWith("error")).length, 1);
      assert.match(bad.stderr, /fake\.parquet is not a readable parquet file/);
      assert.equal(await Deno.readTextFile(`${dir}/catalog.json`), before);
      const syntax = await olap("query", "selec 1", "--data-dir", dir);
      assert.equal(syntax.code, 65);
      assert.match(syntax.stderr, /syntax error at or near "selec"/);
    } finally {
      await rm();
    }
  },
});
