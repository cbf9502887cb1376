/**
 * `deno task bench:notebooks`: kernel start + first cell, and the tour
 * notebook end to end, through `deno task nb` (real Jupyter, Deno kernel),
 * with services already up. Medians of `--runs` (default 3); writes
 * bench/results/notebooks.json.
 *
 * @module
 */
const runs = Number(Deno.args[Deno.args.indexOf("--runs") + 1] || 3);
const root = new URL("..", import.meta.url).pathname;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const up = await new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", `${root}tasks/services.ts`, "up"],
  stdout: "null",
})
  .output();
if (up.code !== 0) throw new Error("services up failed");

const kernelFirst: number[] = [];
const notebook: number[] = [];
const task: number[] = [];
for (let i = 0; i < runs; i++) {
  const reports = await Deno.makeTempDir({ prefix: "mercury-bench-" });
  const t0 = performance.now();
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}tasks/nb.ts`, "tour", "--reports-dir", reports],
    stdout: "null",
    stderr: "null",
  }).output();
  task.push((performance.now() - t0) / 1000);
  if (r.code !== 0) throw new Error(`deno task nb tour failed (run ${i + 1})`);
  const [res] = JSON.parse(await Deno.readTextFile(`${reports}/index.json`)) as {
    seconds: number;
    kernelStart: number;
    firstCell: number;
  }[];
  kernelFirst.push(res!.kernelStart + res!.firstCell);
  notebook.push(res!.seconds);
}
const result = [
  { measure: "kernel start + first cell", medianSec: median(kernelFirst), runsSec: kernelFirst, targetSec: 5 },
  { measure: "tour notebook, all cells", medianSec: median(notebook), runsSec: notebook, targetSec: 30 },
  { measure: "`deno task nb tour` wall time (incl. report)", medianSec: median(task), runsSec: task, targetSec: 30 },
].map((r) => ({
  ...r,
  medianSec: Number(r.medianSec.toFixed(2)),
  runsSec: r.runsSec.map((x) => Number(x.toFixed(2))),
  ratioToTarget: Number((r.medianSec / r.targetSec).toFixed(3)),
}));
console.table(result);
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL("./results/notebooks.json", import.meta.url),
  JSON.stringify({ date: new Date().toISOString(), cores: navigator.hardwareConcurrency, runs, result }, null, 2) +
    "\n",
);
