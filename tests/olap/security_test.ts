import assert from "node:assert/strict";
import { Olap, OlapError, sandboxSource, serve } from "@mercury/olap";
import { salesCsv, tempDir } from "./_fixtures.ts";

Deno.test({
  name: "restricted engine (the default): catalog tables, pipes and profiles work; other files are refused",
  async fn() {
    const [dir, rm] = await tempDir();
    const csv = await salesCsv(dir, 500);
    const olap = await Olap.open({ dataDir: dir });
    const server = serve(olap, { port: 0 });
    try {
      await olap.ingest("sales", { file: csv }, { partitionBy: "region", storage: "parquet" });
      assert.deepEqual(await olap.rows("select count(*) as n from sales"), [{ n: 500 }]);
      // The default storage's DuckDB serving file, attached after the engine was locked down, is readable too.
      await olap.ingest("sales_db", { file: csv }, { partitionBy: "region" });
      assert.deepEqual(await olap.rows("select count(*) as n from sales_db"), [{ n: 500 }]);
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

Deno.test("sandboxSource() refuses files outside the allowed dirs, through symlinks and '..' too", async () => {
  const [dir, rm] = await tempDir();
  const [other, rmOther] = await tempDir();
  try {
    await Deno.writeTextFile(`${dir}/in.csv`, "a\n1\n");
    await Deno.writeTextFile(`${other}/out.csv`, "a\n1\n");
    await Deno.symlink(`${other}/out.csv`, `${dir}/link.csv`);
    await Deno.symlink(other, `${dir}/linked-dir`);
    const ok = await sandboxSource({ file: `${dir}/in.csv` }, [dir]);
    assert.equal((ok as { file: string }).file, await Deno.realPath(`${dir}/in.csv`));
    for (
      const file of [
        `${other}/out.csv`,
        `${dir}/link.csv`,
        `${dir}/linked-dir/out.csv`,
        `${dir}/../${other.split("/").pop()}/out.csv`,
        "/etc/passwd",
      ]
    ) {
      const err = await sandboxSource({ file }, [dir]).catch((e) => e);
      assert.ok(err instanceof OlapError, file);
      assert.equal(err.status, 403, file);
      assert.ok(err.message.includes(file), err.message);
      assert.match(err.hint!, /--ingest-allow <dir>/);
    }
    // An allowed directory admits its files; a missing file inside it is a 404, outside a 403 (no probing).
    assert.ok(await sandboxSource({ file: `${other}/out.csv` }, [dir, other]));
    assert.equal((await sandboxSource({ file: `${dir}/missing.csv` }, [dir]).catch((e) => e)).status, 404);
    assert.equal((await sandboxSource({ file: "/etc/no-such-file" }, [dir]).catch((e) => e)).status, 403);
    assert.deepEqual(await sandboxSource({ postgres: "public.t" }, [dir]), { postgres: "public.t" });
  } finally {
    await rm();
    await rmOther();
  }
});
