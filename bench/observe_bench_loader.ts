/**
 * The HTTP load generator of `bench/observe_bench.ts`, run in its own process so that the server measured does not
 * share its event loop with the client: `deno run -A bench/observe_bench_loader.ts <url> <requests/s> <seconds>
 * <body JSON>` sends paced POSTs (at most 128 in flight) and prints one JSON line `{ lat, failed, rate }` (latencies in
 * ms of the answered requests, failures, the achieved rate).
 *
 * @module
 */
import { sleep } from "@mercury/core/retry";

const [url, rateArg, secsArg, body] = Deno.args;
if (!url || !rateArg || !secsArg || body === undefined) {
  console.error("usage: observe_bench_loader.ts <url> <requests/s> <seconds> <body JSON>");
  Deno.exit(64);
}
const reqPerSec = Number(rateArg), secs = Number(secsArg);
const lat: number[] = [];
let failed = 0;
const n = Math.round(reqPerSec * secs);
const start = performance.now();
const inflight = new Set<Promise<void>>();
for (let i = 0; i < n; i++) {
  const wait = start + (i * 1000) / reqPerSec - performance.now();
  if (wait > 1) await sleep(wait);
  while (inflight.size >= 128) await Promise.race(inflight);
  const p = (async () => {
    const t = performance.now();
    try {
      const r = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json" } });
      await r.arrayBuffer();
      if (r.ok) lat.push(performance.now() - t);
      else failed++;
    } catch {
      failed++;
    }
  })();
  inflight.add(p);
  void p.finally(() => inflight.delete(p));
}
await Promise.all(inflight);
const rate = Math.round(n / ((performance.now() - start) / 1000));
console.log(JSON.stringify({ lat, failed, rate }));
