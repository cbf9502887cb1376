/**
 * The S3-compatible store (`deno task services up s3`, S3Proxy; started here
 * when it is not running) through `@mercury/core/services/s3`: objects put,
 * listed (across pages), read back and deleted with signed requests; a wrong
 * key, a missing bucket and a closed port each refused with a clear error.
 */
import assert from "node:assert/strict";
import { MercuryError, projectRoot } from "@mercury/core";
import { connectS3 } from "@mercury/core/services/s3";
import { Launcher } from "../../tasks/services/launcher.ts";

Deno.test("S3 store: put, list, get and delete in bucket lake; bad keys, buckets and ports refused clearly", async (t) => {
  const launcher = new Launcher({ root: projectRoot(), log: () => {} });
  const [status] = await launcher.up(["s3"]);
  assert.ok(status?.health.ok, `s3 is up: ${status?.health.detail}`);
  const prefix = `mercury-test/${crypto.randomUUID().slice(0, 8)}/`;
  try {
    await using s3 = await connectS3();
    assert.ok((await s3.listBuckets()).includes("lake"));

    await t.step("objects round-trip, listings page past 1,000 keys", async () => {
      const bytes = new Uint8Array(300_000).map((_, i) => (i * 7919) % 251);
      await s3.put("lake", `${prefix}blob.bin`, bytes);
      await s3.put("lake", `${prefix}dir/a b+c.txt`, "spaces and plus");
      assert.deepEqual(await s3.get("lake", `${prefix}blob.bin`), bytes);
      assert.equal(new TextDecoder().decode(await s3.get("lake", `${prefix}dir/a b+c.txt`)), "spaces and plus");
      const many = Array.from({ length: 1_050 }, (_, i) => `${prefix}many/${String(i).padStart(4, "0")}`);
      for (let i = 0; i < many.length; i += 50) {
        await Promise.all(many.slice(i, i + 50).map((k) => s3.put("lake", k, k)));
      }
      const listed = await s3.list("lake", `${prefix}many/`);
      assert.deepEqual(listed.map((o) => o.key), many);
      assert.equal(listed[7]!.size, many[7]!.length);
      const all = await s3.list("lake", prefix);
      assert.equal(all.length, 1_052);
      assert.equal(all.find((o) => o.key.endsWith("blob.bin"))!.size, 300_000);
    });

    await t.step("a missing key or bucket is not_found, naming it", async () => {
      await assert.rejects(s3.get("lake", `${prefix}nope`), (err) => {
        assert.ok(err instanceof MercuryError);
        assert.equal(err.code, "not_found");
        assert.match(err.message, /GetObject lake\/.*nope: NoSuchKey/);
        return true;
      });
      await assert.rejects(s3.list("no-such-bucket-mercury"), (err) => {
        assert.ok(err instanceof MercuryError && err.code === "not_found", String(err));
        assert.match(err.message, /NoSuchBucket/);
        return true;
      });
    });

    await t.step("a wrong secret is refused at connect, with the variables to set", async () => {
      await assert.rejects(connectS3({ secretKey: "wrong" }), (err) => {
        assert.ok(err instanceof MercuryError && err.code === "config", String(err));
        assert.match(err.hint ?? "", /MERCURY_S3_SECRET_KEY/);
        return true;
      });
    });

    await t.step("a closed port is unavailable within the deadline", async () => {
      const t0 = performance.now();
      await assert.rejects(connectS3({ url: "http://127.0.0.1:9", timeoutMs: 2000 }), (err) => {
        assert.ok(err instanceof MercuryError && err.code === "unavailable", String(err));
        assert.match(err.hint ?? "", /services up s3|MERCURY_S3_URL/);
        return true;
      });
      assert.ok(performance.now() - t0 < 5000);
    });

    await t.step("deletePrefix removes exactly the prefix", async () => {
      await s3.put("lake", `${prefix.slice(0, -1)}-sibling`, "kept");
      assert.equal(await s3.deletePrefix("lake", prefix), 1_052);
      assert.equal((await s3.list("lake", prefix)).length, 0);
      assert.equal(await s3.deletePrefix("lake", `${prefix.slice(0, -1)}-sibling`), 1);
    });
  } finally {
    await (await connectS3()).deletePrefix("lake", prefix).catch(() => {});
    // A plain `services up` does not run s3: leave the services as this test found them.
    if (status?.notes !== "already running") await launcher.down(["s3"]);
  }
});
