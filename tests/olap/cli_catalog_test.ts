/**
 * Real runs of `olap serve`, `olap tables`, `olap compact` and `olap rollup` (a child `deno run tasks/mercury.ts`
 * per command): their output, exit codes and the one-line errors of bad input, with the catalog left unchanged.
 */
import assert from "node:assert/strict";
import { ROOT, runScript } from "../_helpers.ts";
import { tempDir } from "./_fixtures.ts";

const olap = (...args: string[]) => runScript("tasks/mercury.ts", ["olap", ...args]);
/** The `error[...]` lines of a run's stderr (Deno's own "Blocking waiting for file lock" lines are not errors). */
const errors = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("error"));

Deno.test({
  name:
    "olap CLI: tables, compact and rollup print their results; bad input is one line, a non-zero exit, nothing written",
  async fn() {
    const [dir, rm] = await tempDir();
    try {
      const setup = await olap("setup", "--data-dir", dir, "--events", "3000", "--skip-m4");
      assert.equal(setup.code, 0, setup.stderr);

      const tables = await olap("tables", "--data-dir", dir);
      assert.equal(tables.code, 0, tables.stderr);
      const row = tables.stdout.trim().split("\n").find((l) => l.startsWith("events\t"));
      assert.ok(row, tables.stdout);
      const [, version, rows, files, partitions, storage] = row.split("\t");
      assert.deepEqual([version, rows, partitions, storage], ["v1", "3000 rows", "14 partitions", "duckdb+parquet"]);
      assert.match(files!, /^\d+ files$/);

      const compact = await olap("compact", "events", "--data-dir", dir);
      assert.equal(compact.code, 0, compact.stderr);
      assert.match(compact.stdout, /^events: version 2, 14 files$/m);
      const after = await olap("tables", "--data-dir", dir);
      assert.match(after.stdout, /^events\tv2\t3000 rows\t14 files\t14 partitions\t/m);

      const rollup = await olap(
        "rollup",
        "by_event",
        "--table",
        "events",
        "--dims",
        "event,region",
        "--measures",
        "sum:amount,max:quantity",
        "--data-dir",
        dir,
      );
      assert.equal(rollup.code, 0, rollup.stderr);
      const m = rollup.stdout.match(/^rollup by_event: (\d+) rows in rollup_by_event$/m);
      assert.ok(m, rollup.stdout);
      // The rollup holds one row per (event, region) present in the data, and its sums add up to the table's.
      const groups = await olap(
        "query",
        "select count(*) as g, sum(sum__amount) = (select sum(amount) from events) as same from rollup_by_event",
        "--data-dir",
        dir,
      );
      assert.equal(groups.code, 0, groups.stderr);
      const [g, same] = groups.stdout.trim().split("\n")[1]!.split(",");
      assert.equal(Number(g), Number(m[1]));
      assert.equal(same, "true");
      const listed = await olap("tables", "--data-dir", dir);
      assert.match(listed.stdout, /^rollup_by_event\tv1\t\d+ rows\t/m);

      const before = await Deno.readTextFile(`${dir}/catalog.json`);
      const bad: [string[], number, RegExp][] = [
        [["compact", "nope"], 66, /^error\[not_found\]: table "nope" does not exist/],
        [["rollup", "r"], 64, /^error\[usage\]: rollup needs <name> --table T --dims a,b/],
        [
          ["rollup", "r", "--table", "events", "--dims", "nope", "--measures", "sum:amount"],
          65,
          /^error\[input\]: rollup "r": dimension column "nope" is not in table "events" \(at events\.nope\); hint: columns of events: ts, user_id/,
        ],
        [
          ["rollup", "r", "--table", "events", "--dims", "event", "--measures", "sum:value"],
          65,
          /^error\[input\]: rollup "r": sum measure column "value" is not in table "events" \(at events\.value\); hint: columns of events:/,
        ],
        [
          ["rollup", "r", "--table", "events", "--dims", "event", "--measures", "median:amount"],
          65,
          /^error\[input\]: rollup "r": unknown aggregate "median"/,
        ],
      ];
      for (const [args, code, line] of bad) {
        const r = await olap(...args, "--data-dir", dir);
        assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
        const errs = errors(r.stderr);
        assert.equal(errs.length, 1, r.stderr);
        assert.match(errs[0]!, line);
        assert.equal(r.stdout, "");
      }
      assert.equal(await Deno.readTextFile(`${dir}/catalog.json`), before, "bad input left the catalog as it was");

      // A mistyped --data-dir is an error, and no empty catalog is created there.
      for (const cmd of [["tables"], ["compact", "events"]]) {
        const r = await olap(...cmd, "--data-dir", `${dir}/typo`);
        assert.equal(r.code, 66, r.stderr);
        assert.deepEqual(errors(r.stderr), [
          `error[not_found]: no olap catalog in ${dir}/typo (at --data-dir ${dir}/typo); hint: check the directory, or create one with \`olap setup --data-dir DIR\` or \`olap ingest\``,
        ]);
        await assert.rejects(Deno.stat(`${dir}/typo`), Deno.errors.NotFound);
      }
    } finally {
      await rm();
    }
  },
});

/** Reads the child's stdout until a line matches `re`, or fails after `ms`. */
async function lineMatching(reader: ReadableStreamDefaultReader<string>, re: RegExp, ms: number): Promise<string> {
  let seen = "";
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const timer = new Promise<{ done: true; value: undefined }>((r) =>
      setTimeout(() => r({ done: true, value: undefined }), Math.max(1, end - Date.now()))
    );
    const { done, value } = await Promise.race([reader.read(), timer]);
    if (done) break;
    seen += value;
    const line = seen.split("\n").find((l) => re.test(l));
    if (line) return line;
  }
  throw new Error(`no line matching ${re} within ${ms} ms; stdout so far: ${seen}`);
}

Deno.test({
  name:
    "olap CLI: serve answers over HTTP, is read-only without a token, stops on SIGTERM with exit 0; bad options are one line",
  async fn() {
    const [dir, rm] = await tempDir();
    try {
      const setup = await olap("setup", "--data-dir", dir, "--events", "2000", "--skip-m4");
      assert.equal(setup.code, 0, setup.stderr);
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", `${ROOT}/tasks/mercury.ts`, "olap", "serve", "--data-dir", dir, "--port", "0"],
        cwd: ROOT,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const stderr = new Response(child.stderr).text();
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      try {
        const banner = await lineMatching(reader, /^olap API and UI on /, 120_000);
        const m = banner.match(/^olap API and UI on (http:\/\/127\.0\.0\.1:\d+\/) \((\d+) tables; read-only\)$/);
        assert.ok(m, banner);
        const url = m[1]!;
        assert.equal(m[2], "1");
        const tables = await (await fetch(`${url}tables`)).json();
        assert.deepEqual(
          tables.tables?.map((t: { name: string }) => t.name) ?? tables.map((t: { name: string }) => t.name),
          [
            "events",
          ],
        );
        const q = await fetch(`${url}query`, {
          method: "POST",
          body: JSON.stringify({ sql: "select count(*) as n from events" }),
        });
        assert.equal(q.status, 200);
        assert.deepEqual((await q.json()).rows, [[2000]]);
        // Read-only: a write route without the token is refused.
        const w = await fetch(`${url}tables/events/compact`, { method: "POST" });
        assert.equal(w.status, 403);
        assert.equal((await w.json()).error.kind, "read_only");
      } finally {
        child.kill("SIGTERM");
      }
      const status = await child.status;
      reader.releaseLock();
      assert.equal(status.code, 0, await stderr);

      const cases: [string[], number, RegExp][] = [
        [["--port", "70000"], 64, /--port/],
        [
          ["--token-file", `${dir}/missing-token`],
          78,
          /cannot read the token file: .*\(at .*missing-token\); hint: --token-file names a file/,
        ],
      ];
      for (const [args, code, line] of cases) {
        const r = await olap("serve", "--data-dir", `${dir}/fresh`, ...args);
        assert.equal(r.code, code, r.stderr);
        const errs = errors(r.stderr);
        assert.equal(errs.length, 1, r.stderr);
        assert.match(errs[0]!, line);
        await assert.rejects(Deno.stat(`${dir}/fresh`), Deno.errors.NotFound, "nothing created on bad input");
      }
    } finally {
      await rm();
    }
  },
});
