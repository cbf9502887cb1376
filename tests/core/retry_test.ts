import assert from "node:assert/strict";
import { backoffDelay, retry, sleep } from "@mercury/core/retry";

const failing = (err: Error = new Error("down")) => () => Promise.reject(err);

Deno.test("retry: returns the first success and counts attempts from 1", async () => {
  const seen: number[] = [];
  const v = await retry((attempt) => {
    seen.push(attempt);
    if (attempt < 3) throw new Error("not yet");
    return attempt * 10;
  }, { attempts: 5, baseMs: 1 });
  assert.equal(v, 30);
  assert.deepEqual(seen, [1, 2, 3]);
});

Deno.test("retry: after the last attempt the last error is thrown unchanged", async () => {
  let calls = 0;
  const errors = [new Error("one"), new Error("two"), new Error("three")];
  const caught = await retry(() => Promise.reject(errors[calls++]), { attempts: 3, baseMs: 1 }).catch((e) => e);
  assert.equal(calls, 3);
  assert.equal(caught, errors[2]);
});

Deno.test("retry: the predicate stops at a non-retryable error and sees the attempt", async () => {
  const asked: [string, number][] = [];
  let calls = 0;
  const err = await retry(() => {
    calls++;
    throw new Error(calls < 3 ? "ECONNREFUSED" : "syntax error");
  }, {
    attempts: 10,
    baseMs: 1,
    retryable: (e, attempt) => {
      asked.push([(e as Error).message, attempt]);
      return /ECONNREFUSED/.test((e as Error).message);
    },
  }).catch((e) => e);
  assert.equal((err as Error).message, "syntax error");
  assert.equal(calls, 3);
  assert.deepEqual(asked, [["ECONNREFUSED", 1], ["ECONNREFUSED", 2], ["syntax error", 3]]);
});

Deno.test("retry: the deadline is honoured: no wait runs past it, the last error comes back", async () => {
  let calls = 0;
  const t0 = performance.now();
  const err = await retry(() => {
    calls++;
    throw new Error(`attempt ${calls}`);
  }, { attempts: Infinity, baseMs: 40, factor: 1, deadlineMs: 300 }).catch((e) => e);
  const took = performance.now() - t0;
  assert.ok(took < 400, `took ${took} ms, deadline 300 (+100 ms for timer slack)`);
  assert.ok(calls >= 4 && calls <= 8, `${calls} attempts`);
  assert.equal((err as Error).message, `attempt ${calls}`);
});

Deno.test("retry: a wait longer than what is left of the deadline is not started", async () => {
  let calls = 0;
  const t0 = performance.now();
  await assert.rejects(retry(() => {
    calls++;
    throw new Error("down");
  }, { attempts: 5, baseMs: 10_000, deadlineMs: 1000 }));
  assert.equal(calls, 1);
  assert.ok(performance.now() - t0 < 500);
});

Deno.test("retry: jitter stays within [d × (1 − jitter), d] and reaches the low end", async () => {
  const delays: number[] = [];
  const backoffs: number[] = [];
  await retry(failing(), {
    attempts: 30,
    baseMs: 1,
    maxMs: 8,
    jitter: 0.5,
    onRetry: (_e, attempt, delay) => {
      delays.push(delay);
      backoffs.push(backoffDelay(attempt, { baseMs: 1, maxMs: 8 }));
    },
  }).catch(() => {});
  assert.equal(delays.length, 29);
  delays.forEach((d, i) =>
    assert.ok(d >= Math.floor(backoffs[i]! * 0.5) && d <= backoffs[i]!, `${d} vs ${backoffs[i]}`)
  );

  // With a fixed random source the bounds are reached exactly.
  const at = (r: number) => {
    const out: number[] = [];
    return retry(failing(), {
      attempts: 2,
      baseMs: 100,
      jitter: 0.3,
      random: () => r,
      onRetry: (_e, _a, d) => out.push(d),
    }).catch(() => out);
  };
  assert.deepEqual(await at(0), [100]);
  assert.deepEqual(await at(0.999999), [70]);
});

Deno.test("retry: backoff grows by the factor and is capped", () => {
  assert.deepEqual([1, 2, 3, 4, 5].map((a) => backoffDelay(a, { baseMs: 200, maxMs: 2000 })), [
    200,
    400,
    800,
    1600,
    2000,
  ]);
  assert.deepEqual([1, 5, 60].map((a) => backoffDelay(a, { baseMs: 500, factor: 1 })), [500, 500, 500]);
  assert.equal(backoffDelay(1000, { baseMs: 1, maxMs: 50 }), 50);
});

Deno.test("retry: onRetry is told each failure before its wait, not after the last", async () => {
  const log: string[] = [];
  await retry((attempt) => Promise.reject(new Error(`e${attempt}`)), {
    attempts: 3,
    baseMs: 2,
    onRetry: (e, attempt, delay) => log.push(`${(e as Error).message}@${attempt}:${delay}`),
  }).catch(() => {});
  assert.deepEqual(log, ["e1@1:2", "e2@2:4"]);
});

Deno.test("retry: an abort during a wait rejects at once with the signal's reason", async () => {
  const ac = new AbortController();
  let calls = 0;
  const t0 = performance.now();
  setTimeout(() => ac.abort(new Error("shutting down")), 50);
  const err = await retry(() => {
    calls++;
    throw new Error("down");
  }, { attempts: Infinity, baseMs: 10_000, signal: ac.signal }).catch((e) => e);
  assert.equal((err as Error).message, "shutting down");
  assert.equal(calls, 1);
  assert.ok(performance.now() - t0 < 1000);
});

Deno.test("retry: an already aborted signal runs nothing", async () => {
  let calls = 0;
  await assert.rejects(
    retry(() => {
      calls++;
      return 1;
    }, { signal: AbortSignal.abort(new Error("gone")) }),
    /gone/,
  );
  assert.equal(calls, 0);
});

Deno.test("sleep: waits, and leaves no timer behind when aborted", async () => {
  const t0 = performance.now();
  await sleep(30);
  assert.ok(performance.now() - t0 >= 25);
  const ac = new AbortController();
  const p = sleep(60_000, ac.signal);
  ac.abort(new Error("stop"));
  await assert.rejects(p, /stop/); // the test sanitizer fails on a leaked 60 s timer
});
