import assert from "node:assert/strict";
import { CONTENT_TYPE, Registry } from "@mercury/core";

Deno.test("Registry.expose() writes the Prometheus text format", async (t) => {
  const reg = new Registry();
  const events = reg.counter("mercury_events_total", "Events read", ["topic", "partition"]);
  events.inc({ topic: "clicks", partition: "0" });
  events.inc({ topic: "clicks", partition: "0" }, 2);
  events.inc({ topic: "clicks", partition: "1" });
  const lag = reg.gauge("mercury_lag", "Consumer lag");
  lag.set({}, 42);
  lag.inc({}, -2);
  const lat = reg.histogram("mercury_latency_seconds", "Latency", ["op"], [0.01, 0.1, 1]);
  for (const v of [0.005, 0.05, 0.05, 0.5, 5]) lat.observe({ op: "read" }, v);
  const text = reg.expose();

  await t.step("HELP and TYPE lines precede each family", () => {
    assert.match(text, /^# HELP mercury_events_total Events read\n# TYPE mercury_events_total counter$/m);
    assert.match(text, /^# TYPE mercury_lag gauge$/m);
    assert.match(text, /^# TYPE mercury_latency_seconds histogram$/m);
  });
  await t.step("counters sum per label set", () => {
    assert.match(text, /^mercury_events_total\{topic="clicks",partition="0"\} 3$/m);
    assert.match(text, /^mercury_events_total\{topic="clicks",partition="1"\} 1$/m);
  });
  await t.step("gauges go both ways", () => assert.match(text, /^mercury_lag 40$/m));
  await t.step("histogram buckets are cumulative with +Inf, sum and count", () => {
    assert.match(text, /^mercury_latency_seconds_bucket\{op="read",le="0.01"\} 1$/m);
    assert.match(text, /^mercury_latency_seconds_bucket\{op="read",le="0.1"\} 3$/m);
    assert.match(text, /^mercury_latency_seconds_bucket\{op="read",le="1"\} 4$/m);
    assert.match(text, /^mercury_latency_seconds_bucket\{op="read",le="\+Inf"\} 5$/m);
    assert.match(text, /^mercury_latency_seconds_sum\{op="read"\} 5.605$/m);
    assert.match(text, /^mercury_latency_seconds_count\{op="read"\} 5$/m);
  });
  await t.step("every sample line parses as name{labels} value", () => {
    for (const line of text.trimEnd().split("\n").filter((l) => !l.startsWith("#"))) {
      assert.match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+0-9.eInfNa]+$/, line);
    }
  });
  await t.step("response() serves it with the exposition content type", async () => {
    const res = reg.response();
    assert.equal(res.headers.get("content-type"), CONTENT_TYPE);
    assert.equal(await res.text(), reg.expose());
  });
});

Deno.test("metrics escape label values and refuse misuse", async (t) => {
  const reg = new Registry();
  await t.step("quotes, backslashes and newlines are escaped", () => {
    reg.counter("c_total", "c", ["path"]).inc({ path: 'a"b\\c\nd' });
    assert.match(reg.expose(), /c_total\{path="a\\"b\\\\c\\nd"\} 1/);
  });
  await t.step("a counter cannot decrease", () => {
    assert.throws(() => reg.counter("c_total", "c", ["path"]).inc({ path: "x" }, -1), RangeError);
  });
  await t.step("labels must match the declaration", () => {
    const c = reg.counter("d_total", "d", ["a"]);
    assert.throws(() => c.inc({}), /Missing label "a"/);
    assert.throws(() => c.inc({ a: "1", b: "2" }), /Unknown label "b"/);
  });
  await t.step("invalid names and type clashes are refused", () => {
    assert.throws(() => reg.counter("bad-name", "x"), /Invalid metric name/);
    assert.throws(() => reg.gauge("d_total", "d"), /already registered as a counter/);
    assert.throws(() => reg.histogram("h", "h", ["le"]), /cannot use the label "le"/);
  });
  await t.step("registering twice returns the same metric", () => {
    assert.equal(reg.counter("d_total", "d", ["a"]), reg.counter("d_total", "d", ["a"]));
  });
});
