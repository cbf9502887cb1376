/**
 * `deno task bench:cli`: how long Mercury's front doors take beyond a bare
 * Deno start. Each command runs once to warm the cache, then 5 times; the
 * median wall time minus the median of `deno eval 0` is the command's own
 * time (goal: under 0.3 s). The npx launcher's share (`npx -y deno@2.9.6 eval 0`
 * minus `deno eval 0`) is measured apart when npx is on PATH. Results go to
 * `bench/results/cli.json`.
 *
 * @module
 */
const RUNS = 5;
const deno = Deno.execPath();
const root = new URL("..", import.meta.url).pathname;

async function time(cmd: string, args: string[]): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(cmd, { args, cwd: root, stdout: "null", stderr: "piped" }).output();
  const ms = performance.now() - t0;
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  return ms;
}

async function median(cmd: string, args: string[]): Promise<number> {
  await time(cmd, args);
  const xs: number[] = [];
  for (let i = 0; i < RUNS; i++) xs.push(await time(cmd, args));
  xs.sort((a, b) => a - b);
  return xs[Math.floor(RUNS / 2)]!;
}

const plugins = [...Deno.readDirSync(`${root}/plugins`)].filter((e) => e.isDirectory).map((e) => e.name).sort();
const cases: [string, string[]][] = [
  ["mercury plugins", ["run", "-A", "tasks/mercury.ts", "plugins"]],
  ...plugins.map((p): [string, string[]] => [`mercury ${p} --help`, ["run", "-A", "tasks/mercury.ts", p, "--help"]]),
  ["forecast --help", ["run", "-A", "plugins/forecast/cli.ts", "--help"]],
];

const bare = await median(deno, ["eval", "0"]);
const rows: { command: string; medianMs: number; ownMs: number }[] = [];
for (const [name, args] of cases) {
  const ms = await median(deno, args);
  rows.push({ command: name, medianMs: Math.round(ms), ownMs: Math.round(ms - bare) });
}
let npxMs: number | undefined;
try {
  npxMs = Math.round((await median("npx", ["-y", "deno@2.9.6", "eval", "0"])) - bare);
} catch { /* no npx here */ }

console.log(`bare deno eval 0: ${Math.round(bare)} ms (median of ${RUNS})`);
for (const r of rows) {
  console.log(`${r.command.padEnd(28)} ${String(r.medianMs).padStart(6)} ms  own ${String(r.ownMs).padStart(6)} ms`);
}
console.log(`npx launcher share: ${npxMs === undefined ? "npx not available" : `${npxMs} ms`}`);
Deno.mkdirSync(`${root}/bench/results`, { recursive: true });
Deno.writeTextFileSync(
  `${root}/bench/results/cli.json`,
  JSON.stringify({ runs: RUNS, bareMs: Math.round(bare), npxLauncherMs: npxMs, commands: rows }, null, 2) + "\n",
);
