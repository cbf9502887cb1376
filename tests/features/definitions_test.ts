import assert from "node:assert/strict";
import {
  entity,
  type FeatureRepo,
  featureService,
  featureView,
  fileSource,
  lineageSvg,
  model,
  onDemandFeatureView,
  repoObjects,
  toOnlineValue,
  validateRepo,
} from "@mercury/features";
import { pushRow } from "@mercury/features/push";
import { fraudRepo } from "@mercury/features/examples/fraud";

function base(): FeatureRepo {
  return {
    project: "p",
    entities: [entity({ name: "card", joinKey: "card_id", valueType: "int64" })],
    views: [featureView({
      name: "stats",
      entities: ["card"],
      ttlSeconds: 3600,
      source: fileSource({ name: "tx", format: "parquet", path: "tx.parquet", timestampField: "ts" }),
      features: [{ name: "n", type: "int64" }, { name: "avg", type: "float64" }],
    })],
    onDemandViews: [onDemandFeatureView({
      name: "odfv",
      inputs: ["stats:avg"],
      request: [{ name: "amount", type: "float64" }],
      features: [{ name: "ratio", type: "float64" }],
      transform: (r) => ({ ratio: Number(r.amount) / Number(r.avg) }),
    })],
    services: [featureService({ name: "svc", features: ["stats:*", "odfv:ratio"] })],
    models: [model({ name: "m", featureService: "svc" })],
  };
}

Deno.test("validateRepo() accepts the example repos", () => {
  validateRepo(base());
  validateRepo(fraudRepo({ dir: "/tmp/x" }));
});

Deno.test("validateRepo() names the object and field of each problem", async (t) => {
  const cases: [string, (r: FeatureRepo) => void, RegExp][] = [
    [
      "unknown entity",
      (r) => (r.views[0]!.entities = ["user"]),
      /feature view "stats": entities references unknown entity "user"/,
    ],
    [
      "bad value type",
      (r) => (r.views[0]!.features[0]!.type = "int" as never),
      /feature view "stats": features\.n\.type "int" is not a value type/,
    ],
    [
      "duplicate feature",
      (r) => r.views[0]!.features.push({ name: "n", type: "int64" }),
      /features\[2\]\.name "n" is defined twice/,
    ],
    [
      "feature named like a join key",
      (r) => r.views[0]!.features.push({ name: "card_id", type: "int64" }),
      /clashes with a join key/,
    ],
    ["negative ttl", (r) => (r.views[0]!.ttlSeconds = -1), /feature view "stats": ttlSeconds -1/],
    ["sql without {source}", (r) => (r.views[0]!.sql = "select 1"), /sql does not read \{source\}/],
    [
      "no timestamp field",
      (r) => (r.views[0]!.source = { ...r.views[0]!.source, timestampField: "" }),
      /source\.timestampField is missing/,
    ],
    [
      "unknown feature in a service",
      (r) => (r.services![0]!.features = ["stats:nope"]),
      /feature service "svc": features references "stats:nope": view "stats" has no feature "nope"/,
    ],
    ["unknown view in a service", (r) => (r.services![0]!.features = ["other:x"]), /no feature view "other"/],
    [
      "unknown on-demand input",
      (r) => (r.onDemandViews![0]!.inputs = ["stats:zzz"]),
      /on-demand feature view "odfv": features references "stats:zzz"/,
    ],
    [
      "unknown service of a model",
      (r) => (r.models![0]!.featureService = "x"),
      /model "m": featureService references unknown feature service "x"/,
    ],
    ["two views with one name", (r) => r.views.push({ ...r.views[0]! }), /feature view "stats": name is defined twice/],
    ["bad project", (r) => (r.project = "a b"), /repo: project "a b" is not an identifier/],
  ];
  for (const [name, mutate, re] of cases) {
    await t.step(name, () => {
      const r = structuredClone({ ...base(), onDemandViews: [] }) as FeatureRepo;
      r.onDemandViews = base().onDemandViews;
      mutate(r);
      assert.throws(() => validateRepo(r), re);
    });
  }
});

Deno.test("repoObjects(): a changed transform is a changed object", () => {
  const a = repoObjects(base());
  const changed = base();
  changed.onDemandViews![0]!.transform = (r) => ({ ratio: Number(r.amount) * 2 });
  const b = repoObjects(changed);
  const hash = (objs: typeof a) => objs.find((o) => o.name === "odfv")!.hash;
  assert.notEqual(hash(a), hash(b));
  assert.equal(a.find((o) => o.name === "stats")!.hash, b.find((o) => o.name === "stats")!.hash);
});

Deno.test("toOnlineValue() keeps each type as JSON can carry it", () => {
  assert.equal(toOnlineValue(42n, "int64"), 42);
  assert.equal(toOnlineValue("2.5", "float64"), 2.5);
  assert.equal(toOnlineValue("x y", "string"), "x y");
  assert.equal(toOnlineValue(0, "bool"), false);
  assert.equal(toOnlineValue("2024-01-01T00:00:00Z", "timestamp"), 1704067200000);
  assert.equal(toOnlineValue("not a number", "float64"), null);
  assert.equal(toOnlineValue(undefined, "int64"), null);
});

Deno.test("pushRow() rejects events without a usable timestamp", () => {
  const repo = fraudRepo({ dir: "/tmp/x" });
  const live = repo.views.find((v) => v.name === "card_live")!;
  assert.match(String(pushRow(live, ["card_id"], { card_id: 1, ts: "yesterday" })), /bad or missing "ts"/);
});

Deno.test("lineageSvg() draws every node", () => {
  const svg = lineageSvg({
    nodes: [
      { id: "source:a", kind: "source", name: "a" },
      { id: "feature_view:v", kind: "feature_view", name: "v", pii: ["email"] },
    ],
    edges: [{ from: "source:a", to: "feature_view:v" }],
  });
  assert.equal(svg.match(/<rect/g)?.length, 2);
  assert.match(svg, /PII: email/);
  assert.match(svg, /<path d="M/);
});
