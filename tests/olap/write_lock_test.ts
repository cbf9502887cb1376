/**
 * The catalog's cross-process write lock (`.write.lock`, taken with core's
 * retry()): a lock left by a dead process is removed, a live holder is waited
 * for, and the lock file is gone after the write.
 */
import assert from "node:assert/strict";
import { Catalog } from "@mercury/olap";
import { tempDir } from "./_fixtures.ts";

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

Deno.test({
  name: "catalog write lock: a stale lock is removed, a live holder is waited for, the lock is released after",
  async fn(t) {
    const [dir, rm] = await tempDir();
    const cat = await Catalog.open(dir);
    const lockFile = `${dir}/.write.lock`;
    try {
      await t.step("a lock left by a dead process does not block the write", async () => {
        await Deno.writeTextFile(lockFile, String(await deadPid()));
        const t0 = performance.now();
        const m = await cat.ingestQuery("one", "select 1 as x");
        assert.equal(m.rows, 1);
        assert.ok(performance.now() - t0 < 5000);
        await assert.rejects(Deno.stat(lockFile), Deno.errors.NotFound);
      });
      await t.step("a live holder is waited for until it lets go", async () => {
        const holder = new Deno.Command("sleep", { args: ["30"] }).spawn();
        try {
          await Deno.writeTextFile(lockFile, String(holder.pid));
          let finished = false;
          const write = cat.ingestQuery("two", "select 2 as x").then((m) => ((finished = true), m));
          await new Promise((r) => setTimeout(r, 700));
          assert.equal(finished, false, "wrote while another process held the lock");
          await Deno.remove(lockFile);
          const t0 = performance.now();
          assert.equal((await write).rows, 1);
          assert.ok(performance.now() - t0 < 3000);
          await assert.rejects(Deno.stat(lockFile), Deno.errors.NotFound);
        } finally {
          holder.kill();
          await holder.status;
        }
      });
    } finally {
      await cat.close();
      await rm();
    }
  },
});
