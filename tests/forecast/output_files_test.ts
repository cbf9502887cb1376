import assert from "node:assert/strict";
import { MercuryError } from "@mercury/core";
import { checkOutputPath, OutputFiles } from "../../plugins/forecast/output_files.ts";

const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

Deno.test("OutputFiles", async (t) => {
  const tmp = await Deno.makeTempDir();
  await t.step("when a later output fails, the earlier one is not left behind", async () => {
    await Deno.mkdir(`${tmp}/a`);
    await Deno.mkdir(`${tmp}/b`);
    await assert.rejects(
      () =>
        OutputFiles.run(async (out) => {
          await out.plan("--output", `${tmp}/a/f.csv`);
          await out.plan("--chart", `${tmp}/b/c.svg`);
          await out.stage(`${tmp}/a/f.csv`, "x\n1\n");
          await Deno.remove(`${tmp}/b`); // the folder goes away during the work
          await out.stage(`${tmp}/b/c.svg`, "<svg/>");
        }),
      (e: unknown) =>
        e instanceof MercuryError && e.exitCode === 73 && /^--chart .*b\/c\.svg: cannot write/.test(e.message),
    );
    assert.deepEqual(names(`${tmp}/a`), []);
  });
  await t.step("a failing command removes its temp files and keeps the previous file", async () => {
    await Deno.writeTextFile(`${tmp}/a/f.csv`, "old\n");
    await assert.rejects(() =>
      OutputFiles.run(async (out) => {
        await out.plan("--output", `${tmp}/a/f.csv`);
        await out.stage(`${tmp}/a/f.csv`, "new\n");
        throw new Error("the model failed");
      }), /the model failed/);
    assert.deepEqual(names(`${tmp}/a`), ["f.csv"]);
    assert.equal(await Deno.readTextFile(`${tmp}/a/f.csv`), "old\n");
  });
  await t.step("a good run replaces the file with the usual permissions", async () => {
    await Deno.writeTextFile(`${tmp}/plain`, "");
    await OutputFiles.run(async (out) => {
      await out.plan("--output", `${tmp}/a/f.csv`);
      await out.stage(`${tmp}/a/f.csv`, "first\n");
      await out.stage(`${tmp}/a/f.csv`, "new\n"); // staged twice: the first temp file goes
    });
    assert.deepEqual(names(`${tmp}/a`), ["f.csv"]);
    assert.equal(await Deno.readTextFile(`${tmp}/a/f.csv`), "new\n");
    assert.equal((await Deno.stat(`${tmp}/a/f.csv`)).mode, (await Deno.stat(`${tmp}/plain`)).mode);
  });
  await t.step("writing through a symlink replaces the file it points to and keeps the link", async () => {
    await Deno.writeTextFile(`${tmp}/a/real.csv`, "old\n");
    await Deno.symlink(`${tmp}/a/real.csv`, `${tmp}/link.csv`);
    await OutputFiles.run(async (out) => {
      await out.plan("--output", `${tmp}/link.csv`);
      await out.stage(`${tmp}/link.csv`, "new\n");
    });
    assert.ok((await Deno.lstat(`${tmp}/link.csv`)).isSymlink);
    assert.equal(await Deno.readTextFile(`${tmp}/a/real.csv`), "new\n");
    assert.deepEqual(names(`${tmp}/a`), ["f.csv", "real.csv"]);
    await Deno.remove(`${tmp}/link.csv`);
    await Deno.remove(`${tmp}/a/real.csv`);
  });
  await t.step("checkOutputPath() names the option and the path", async () => {
    await assert.rejects(() => checkOutputPath("--output", `${tmp}/a`), /^MercuryError: --output .*\/a: is a folder/);
    await assert.rejects(() => checkOutputPath("--output", `${tmp}/a/`), /--output .*\/a\/: is a folder/);
    await assert.rejects(
      () => checkOutputPath("--errors", `${tmp}/a/f.csv/e.csv`),
      /--errors .*f\.csv\/e\.csv: .*f\.csv is not a folder/,
    );
    await assert.rejects(() => checkOutputPath("--output", "/proc/x.csv"), /folder \/proc is not writable/);
    await checkOutputPath("--output", `${tmp}/a/new.csv`);
    assert.deepEqual(names(`${tmp}/a`), ["f.csv"]); // the writability probe is gone
  });
  await Deno.remove(tmp, { recursive: true });
});
