/**
 * `deno task bench:services`: how long `deno task services up` takes
 * - from cold with fresh data (down --purge first: initdb, Kafka storage format),
 * - from cold with existing data (down first),
 * - when everything already runs (the no-op).
 * Jars and Debian packages are cached (a first `up` runs before timing).
 * Prints medians of `--runs` (default 3) and writes bench/results/services.json.
 *
 * `--service NAME` times that one service's cold start instead (`services down
 * NAME`, then `services up NAME`, which returns once the service answers a real
 * request — for Spark, a `SELECT 1` through Spark Connect), with the load
 * average before each run, into bench/results/services_NAME.json. The other
 * services stay as they are.
 *
 * There is no peer to run beside it on this machine: the Docker Compose path
 * needs a Docker engine, which these machines lack.
 *
 * @module
 */
const runs = Number(Deno.args[Deno.args.indexOf("--runs") + 1] || 3);
const script = new URL("../tasks/services.ts", import.meta.url).pathname;

async function services(...args: string[]): Promise<number> {
  const t0 = performance.now();
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    stdout: "null",
    stderr: "piped",
  })
    .output();
  if (r.code !== 0) throw new Error(`services ${args.join(" ")} failed: ${new TextDecoder().decode(r.stderr)}`);
  return (performance.now() - t0) / 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const loadAverage = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).map(Number);
const only = Deno.args.includes("--service") ? Deno.args[Deno.args.indexOf("--service") + 1] : undefined;

if (only) {
  await services("up", only); // jars and venvs cached before timing
  const runsSec: number[] = [];
  const loads: number[][] = [];
  for (let i = 0; i < runs; i++) {
    await services("down", only);
    loads.push(loadAverage());
    runsSec.push(await services("up", only));
    console.log(`run ${i + 1}: ${runsSec.at(-1)!.toFixed(1)} s (load average before: ${loads.at(-1)!.join(" ")})`);
  }
  const result = {
    date: new Date().toISOString(),
    cores: navigator.hardwareConcurrency,
    service: only,
    case: "cold start, everything cached (down, then up until a real request answers)",
    medianSec: Number(median(runsSec).toFixed(1)),
    runsSec: runsSec.map((x) => Number(x.toFixed(1))),
    loadAverageBefore: loads,
    targetSec: 60,
    ratioToTarget: Number((median(runsSec) / 60).toFixed(3)),
  };
  console.log(JSON.stringify(result, null, 2));
  await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
  await Deno.writeTextFile(
    new URL(`./results/services_${only}.json`, import.meta.url),
    JSON.stringify(result, null, 2) + "\n",
  );
  Deno.exit(0);
}

await services("up");
const cases: Record<string, number[]> = { "cold, fresh data": [], "cold, existing data": [], "already running": [] };
for (let i = 0; i < runs; i++) {
  await services("down", "--purge");
  cases["cold, fresh data"]!.push(await services("up"));
  await services("down");
  cases["cold, existing data"]!.push(await services("up"));
  cases["already running"]!.push(await services("up"));
}
const targets: Record<string, number> = { "cold, fresh data": 60, "cold, existing data": 60, "already running": 2 };
const result = Object.entries(cases).map(([name, xs]) => ({
  case: name,
  medianSec: Number(median(xs).toFixed(2)),
  runsSec: xs.map((x) => Number(x.toFixed(2))),
  targetSec: targets[name],
  ratioToTarget: Number((median(xs) / targets[name]!).toFixed(3)),
}));
console.table(result);
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL("./results/services.json", import.meta.url),
  JSON.stringify({ date: new Date().toISOString(), cores: navigator.hardwareConcurrency, runs, result }, null, 2) +
    "\n",
);
