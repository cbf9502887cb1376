import assert from "node:assert/strict";
import { Olap, OlapError, serve } from "@mercury/olap";
import { integration } from "../_helpers.ts";
import { salesCsv, tempDir } from "./_fixtures.ts";

Deno.test({
  name: "restricted engine (the default): catalog tables, pipes and profiles work; other files are refused",
  ...integration,
  async fn() {
    const [dir, rm] = await tempDir();
    const csv = await salesCsv(dir, 500);
    const olap = await Olap.open({ dataDir: dir });
    const server = serve(olap, { port: 0 });
    try {
      await olap.ingest("sales", { file: csv }, { partitionBy: "region" });
      assert.deepEqual(await olap.rows("select count(*) as n from sales"), [{ n: 500 }]);
      const res = await fetch(`${server.url}query`, {
        method: "POST",
        body: JSON.stringify({ sql: "select region, count(*) as n from sales group by 1 order by 1", format: "csv" }),
      });
      assert.equal((await res.text()).trim().split("\n").length, 4);
      const ex = await olap.explain("select count(*) from sales where region = 'eu'", { analyze: true });
      assert.equal(ex.profile!.filesPruned, 2);
      const err = await olap.rows("select * from read_csv('/etc/passwd')").catch((e) => e);
      assert.ok(err instanceof OlapError);
      assert.equal(err.status, 403);
      const viaApi = await fetch(`${server.url}query`, {
        method: "POST",
        body: JSON.stringify({ sql: "select * from read_text('/etc/hostname')" }),
      });
      assert.equal(viaApi.status, 403);
      assert.equal((await viaApi.json()).error.kind, "forbidden");
    } finally {
      await server.shutdown();
      await olap.close();
      await rm();
    }
  },
});
