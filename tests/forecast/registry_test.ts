/**
 * The model registry on the real PostgreSQL service (schema forecast_registry): train records every model with a
 * bumped version and its parent, predict by name/stage/version, promote, a stack-like rollback, and the errors.
 */
import assert from "node:assert/strict";
import { connectPostgres } from "@mercury/core/services/postgres";
import { ModelRegistry, parseRef } from "@mercury/forecast/registry";
import { runScript } from "../_helpers.ts";

const cli = "plugins/forecast/cli.ts";
const series = "ds,y\n" +
  Array.from({ length: 120 }, (_, t) => `${t},${(10 + 5 * Math.sin((2 * Math.PI * t) / 12) + 0.1 * t).toFixed(3)}`)
    .join("\n") +
  "\n";

Deno.test("forecast registry: train records versions; promote, predict by stage, rollback", async () => {
  const tmp = await Deno.makeTempDir();
  const data = `${tmp}/d.csv`;
  await Deno.writeTextFile(data, series);
  const name = `fc-test-${crypto.randomUUID().slice(0, 8)}`;
  const train = (alg: string) =>
    runScript(cli, [
      "train",
      "--data",
      data,
      "--freq",
      "index",
      "--season",
      "12",
      "--algorithm",
      alg,
      "--horizon",
      "12",
      "--output",
      `${tmp}/m.pkl`,
      "--name",
      name,
    ]);
  for (const [i, alg] of ["seasonal_naive", "naive", "drift"].entries()) {
    const r = await train(alg);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`registry: ${name} version ${i + 1}${i ? ` \\(parent ${i}\\)` : "$"}`, "m"));
  }
  const list = await runScript(cli, ["models", "list", name]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /3 rows/);

  // nothing is in production yet: predict by name says so and how to fix it
  const none = await runScript(cli, ["predict", "--model", name]);
  assert.equal(none.code, 66);
  assert.match(none.stderr, /has no production version.*promote one with/);

  for (const v of [1, 2, 3]) assert.equal((await runScript(cli, ["models", "promote", `${name}@${v}`])).code, 0);
  const p3 = await runScript(cli, ["predict", "--model", name, "--future-periods", "2"]);
  assert.equal(p3.code, 0, p3.stderr);
  assert.match(p3.stdout, /^drift/);
  const p1 = await runScript(cli, ["predict", "--model", `${name}@1`, "--future-periods", "2"]);
  assert.match(p1.stdout, /^seasonal_naive/);

  // rollback pops: 3 → 2 → 1, then there is nothing left to roll back to
  const r1 = await runScript(cli, ["models", "rollback", name]);
  assert.match(r1.stdout, /rolled back from version 3 to version 2/);
  const r2 = await runScript(cli, ["models", "rollback", name]);
  assert.match(r2.stdout, /rolled back from version 2 to version 1/);
  const r3 = await runScript(cli, ["models", "rollback", name]);
  assert.equal(r3.code, 73);
  assert.match(r3.stderr, /no production version before 1/);
  const show = await runScript(cli, ["models", "show", `${name}@production`]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, new RegExp(`${name} version 1 \\(production\\)`));
  assert.match(show.stdout, /metrics +.*mase/);

  // the library sees the same rows; the stored document is the model file
  await using pg = await connectPostgres();
  const reg = new ModelRegistry(pg.sql);
  const rows = await reg.list(name);
  assert.deepEqual(rows.map((r) => [r.version, r.parent, r.stage]), [[3, 2, null], [2, 1, null], [
    1,
    null,
    "production",
  ]]);
  const doc = JSON.parse(await Deno.readTextFile(`${tmp}/m.pkl`));
  assert.deepEqual((await reg.get(name, { version: 3 })).document, doc);
  await pg.sql`delete from forecast_registry.models where name = ${name}`;
  await pg.sql`delete from forecast_registry.stage_history where name = ${name}`;
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("forecast registry: bad references are one-line usage errors", async () => {
  assert.throws(() => parseRef("demand@x", "--model"), /'demand@x' names no version/);
  assert.throws(() => parseRef("bad name", "--model"), /model name 'bad name' is not valid/);
  assert.deepEqual(parseRef("demand@staging", "--model"), { name: "demand", stage: "staging" });
  const r = await runScript(cli, ["models", "promote", "demand"]);
  assert.equal(r.code, 64);
  assert.match(r.stderr, /needs a version.*hint/);
  assert.equal(r.stderr.trim().split("\n").length, 1);
  const u = await runScript(cli, ["models", "frobnicate"]);
  assert.equal(u.code, 64);
  assert.match(u.stderr, /unknown models action 'frobnicate'/);
});

Deno.test("forecast registry: --registry on fails clearly when PostgreSQL is unreachable; auto only notes it", async () => {
  const tmp = await Deno.makeTempDir();
  await Deno.writeTextFile(`${tmp}/d.csv`, series);
  const env = { MERCURY_PG_URL: "postgres://mercury@127.0.0.1:1/mercury" };
  const base = ["train", "--data", `${tmp}/d.csv`, "--freq", "index", "--season", "12", "--algorithm", "naive"];
  const on = await runScript(cli, [...base, "--output", `${tmp}/on.pkl`, "--registry", "on"], env);
  assert.equal(on.code, 69, on.stderr);
  assert.match(on.stderr, /PostgreSQL/);
  await assert.rejects(Deno.stat(`${tmp}/on.pkl`), Deno.errors.NotFound); // nothing written when the record fails
  const auto = await runScript(cli, [...base, "--output", `${tmp}/auto.pkl`], env);
  assert.equal(auto.code, 0, auto.stderr);
  assert.match(auto.stdout, /not recorded in the model registry/);
  await Deno.stat(`${tmp}/auto.pkl`);
  await Deno.remove(tmp, { recursive: true });
});
