import assert from "node:assert/strict";
import { MercuryError } from "@mercury/core";
import { openDuckDB } from "@mercury/core/services/duckdb";
import { formatPlan, openFeatureStore } from "@mercury/features";
import { runScript, uniqueName } from "../_helpers.ts";
import { typedRepo } from "./testdata/typed_repo.ts";

async function writeSource(dir: string): Promise<void> {
  const db = await openDuckDB();
  try {
    await db.connection.run(
      `copy (select range::BIGINT as k, timestamp '2024-01-01' + to_hours(range) as ts, 'x' || range as s,
              (range * 1.5)::DOUBLE as x from range(10)) to '${dir}/src.parquet' (format parquet)`,
    );
  } finally {
    db.close();
  }
}

Deno.test({
  name:
    "apply checks declared types against the view's source: plan shows a mismatch, apply refuses it, writes nothing",
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "mf-typed-" });
    const project = uniqueName("typed");
    await writeSource(dir);
    const open = (repo = typedRepo(dir, project)) => openFeatureStore({ repo, offlineRoot: `${dir}/offline` });
    const fs = await open();
    const count = async () =>
      (await fs.pg.sql.unsafe(`select count(*)::int as n from ${fs.registry.schema}.objects where project = $1`, [
        project,
      ]))[0]!.n as number;
    try {
      await t.step("plan shows the mismatch: view, feature, declared and actual type", async () => {
        const p = await fs.plan();
        assert.deepEqual(p.problems?.map((x) => [x.view, x.message]), [
          ["v", 'feature view "v": feature "a" is declared int64 but the source has VARCHAR'],
        ]);
        const text = formatPlan(p);
        assert.match(text, /1 type mismatch\(es\): apply will refuse/);
        assert.match(text, /^ {2}! feature view "v": feature "a" is declared int64 but the source has VARCHAR$/m);
      });

      await t.step("apply refuses it with a clear error and writes nothing to the registry", async () => {
        const err = await fs.apply({ why: "mistyped" }).then(
          () => assert.fail("apply stored a mistyped view"),
          (e: unknown) => e,
        );
        assert.ok(err instanceof MercuryError);
        assert.equal(err.code, "input");
        assert.equal(
          err.message,
          'apply refused: feature view "v": feature "a" is declared int64 but the source has VARCHAR',
        );
        assert.equal(err.where, 'feature view "v".features.a.type');
        assert.equal(await count(), 0);
      });

      await t.step("a feature that is no column of a projected source is refused too", async () => {
        const repo = typedRepo(dir, project);
        repo.views[0] = { ...repo.views[0]!, sql: undefined, features: [{ name: "nope", type: "float64" }] };
        const other = await open(repo);
        try {
          await assert.rejects(() => other.apply(), /feature view "v": feature "nope" is not a column of its source/);
        } finally {
          await other.close();
        }
        assert.equal(await count(), 0);
      });

      await t.step("the declared type fixed (or the column cast), apply stores the view", async () => {
        const fixed = await open(typedRepo(dir, project, "float64", "x"));
        try {
          const p = await fixed.apply({ why: "typed" });
          assert.deepEqual(p.problems, []);
          assert.equal((await fixed.registry.current()).length, 2);
          // A later retype to a mismatch is refused as well, and the stored version stays.
          const back = await open(typedRepo(dir, project, "string", "x"));
          try {
            await assert.rejects(() => back.apply(), /feature "a" is declared string but the source has DOUBLE/);
          } finally {
            await back.close();
          }
          const v = (await fixed.registry.current()).find((o) => o.name === "v")!;
          assert.equal(v.version, 1);
          assert.deepEqual(v.spec.features, [{ name: "a", type: "float64" }]);
        } finally {
          await fixed.close();
        }
      });

      await t.step("a view whose source has no files yet is not refused: plan marks it unchecked", async () => {
        // The same view, now reading a folder that is still empty: an update whose types cannot be checked yet.
        const repo = typedRepo(`${dir}/later`, project);
        const later = await open(repo);
        try {
          const p = await later.plan();
          assert.deepEqual(p.problems, []);
          assert.deepEqual(p.unchecked?.map((u) => u.view), ["v"]);
          assert.match(formatPlan(p), /\? feature view v: types not checked, the source cannot be read \(IO Error/);
        } finally {
          await later.close();
        }
      });

      await t.step("CLI: plan exits 2 and shows it; apply prints one line and exits 65", async () => {
        const env = { MF_TYPED_DIR: dir, MF_TYPED_PROJECT: uniqueName("typedcli") };
        const args = ["--repo", "tests/features/testdata/typed_repo.ts", "--offline-root", `${dir}/offline`];
        const p = await runScript("tasks/mercury.ts", ["features", "plan", ...args], env);
        assert.equal(p.code, 2, p.stderr);
        assert.match(p.stdout, /! feature view "v": feature "a" is declared int64 but the source has VARCHAR/);
        const a = await runScript("tasks/mercury.ts", ["features", "apply", ...args], env);
        assert.equal(a.code, 65);
        assert.equal(a.stdout, "");
        assert.equal(
          a.stderr.trim(),
          'error[input]: apply refused: feature view "v": feature "a" is declared int64 but the source has VARCHAR ' +
            `(at feature view "v".features.a.type); hint: fix the declared type or cast in the view's sql; ` +
            "nothing was written to the registry",
        );
      });
    } finally {
      await fs.pg.sql.unsafe(`delete from ${fs.registry.schema}.objects where project = $1`, [project]);
      await fs.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
