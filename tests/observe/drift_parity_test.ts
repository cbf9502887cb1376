/**
 * Evidently parity: the same reference/current data through this module and
 * through evidently 0.7.23 (its stat-test functions and a `DataDriftPreset`
 * report) in the shared venv; every statistic and p-value within 1e-6 and
 * the same drift decisions.
 */
import assert from "node:assert/strict";
import { normal, seededRandom } from "@mercury/core/random";
import { columnDrift, type ColumnKind, dataDrift, type DriftTestName } from "@mercury/observe/stats";
import { runPython } from "./_stats_peer.ts";

type Col = (number | string | null)[];

function makeData(nRef: number, nCur: number, seed: number, shift: number) {
  const r = seededRandom(seed);
  const gen = (n: number, s: number): Record<string, Col> => ({
    // continuous with a few missing values (dropped by both sides)
    num: Array.from({ length: n }, (_, i) => (i % 97 === 5 ? null : normal(r, s, 1 + s / 2))),
    // rounded: many ties
    ties: Array.from({ length: n }, () => Math.round(normal(r, 10 + 3 * s, 3))),
    // four distinct numbers: chi-square (small) or Jensen–Shannon (large)
    few: Array.from({ length: n }, () => Math.floor(r() * (s > 0 ? 3.6 : 4))),
    // binary: Z-test (small) or Jensen–Shannon (large)
    flag: Array.from({ length: n }, () => (r() < 0.3 + s / 5 ? "yes" : "no")),
    // categorical with a category only in current when shifted
    cat: Array.from({ length: n }, () => {
      const u = r();
      return u < 0.4 ? "a" : u < 0.7 ? "b" : u < 0.95 - s / 10 ? "c" : s > 0 ? "d" : "c";
    }),
    // a column that does not move
    still: Array.from({ length: n }, () => normal(r, 0, 1)),
  });
  return { reference: gen(nRef, 0), current: gen(nCur, shift) };
}

const KINDS: Record<string, ColumnKind> = {
  num: "numerical",
  ties: "numerical",
  few: "numerical",
  flag: "categorical",
  cat: "categorical",
  still: "numerical",
};

const FORCED: [string, DriftTestName][] = [
  ["num", "ks"],
  ["num", "psi"],
  ["num", "kl_div"],
  ["num", "jensenshannon"],
  ["ties", "wasserstein"],
  ["ties", "psi"],
  ["few", "psi"],
  ["few", "kl_div"],
  ["cat", "psi"],
  ["cat", "kl_div"],
  ["cat", "jensenshannon"],
  ["cat", "chisquare"],
  ["flag", "z"],
  ["still", "ks"],
];

const PYTHON = `
import numpy as np, pandas as pd
from scipy import stats
from evidently import Report, Dataset, DataDefinition
from evidently.presets import DataDriftPreset
from evidently.legacy.core import ColumnType
from evidently.legacy.calculations.stattests.registry import get_stattest
from evidently.legacy.calculations.stattests.ks_stattest import _ks_stat_test
from evidently.legacy.calculations.stattests.chisquare_stattest import _chi_stat_test
from evidently.legacy.calculations.stattests.z_stattest import _z_stat_test
from evidently.legacy.calculations.stattests.wasserstein_distance_norm import _wasserstein_distance_norm
from evidently.legacy.calculations.stattests.jensenshannon import _jensenshannon
from evidently.legacy.calculations.stattests.psi import _psi
from evidently.legacy.calculations.stattests.kl_div import _kl_div
fns = {"ks": _ks_stat_test, "chisquare": _chi_stat_test, "z": _z_stat_test, "wasserstein": _wasserstein_distance_norm,
       "jensenshannon": _jensenshannon, "psi": _psi, "kl_div": _kl_div}
thr = {"ks": 0.05, "chisquare": 0.05, "z": 0.05, "wasserstein": 0.1, "jensenshannon": 0.1, "psi": 0.1, "kl_div": 0.1}
kinds = data["kinds"]
out = []
for case in data["cases"]:
    ref, cur = pd.DataFrame(case["reference"]), pd.DataFrame(case["current"])
    num = [c for c, k in kinds.items() if k == "numerical"]
    cat = [c for c, k in kinds.items() if k == "categorical"]
    res = {"default": {}, "forced": [], "stats": {}}
    for c in kinds:
        ft = ColumnType.Numerical if kinds[c] == "numerical" else ColumnType.Categorical
        r, k = ref[c].dropna(), cur[c].dropna()
        t = get_stattest(r, k, ft, None)
        v, d = fns[t.name](r, k, ft, thr[t.name])
        res["default"][c] = {"test": t.name, "score": float(v), "drifted": bool(d)}
        if kinds[c] == "numerical":
            ks = stats.ks_2samp(r, k)
            res["stats"][c] = {"ks_d": float(ks.statistic), "ks_p": float(ks.pvalue)}
    for c, name in data["forced"]:
        ft = ColumnType.Numerical if kinds[c] == "numerical" else ColumnType.Categorical
        r, k = ref[c].dropna(), cur[c].dropna()
        v, d = fns[name](r, k, ft, thr[name])
        res["forced"].append({"column": c, "test": name, "score": float(v), "drifted": bool(d)})
    dd = DataDefinition(numerical_columns=num, categorical_columns=cat)
    snap = Report([DataDriftPreset()]).run(Dataset.from_pandas(cur, data_definition=dd), Dataset.from_pandas(ref, data_definition=dd))
    metrics = snap.dict()["metrics"]
    res["preset"] = {m["config"]["column"]: m["value"] for m in metrics if m["config"]["type"].endswith("ValueDrift")}
    res["share"] = [m["value"]["share"] for m in metrics if m["config"]["type"].endswith("DriftedColumnsCount")][0]
    out.append(res)
print(json.dumps(out))
`;

interface PyCase {
  default: Record<string, { test: string; score: number; drifted: boolean }>;
  forced: { column: string; test: DriftTestName; score: number; drifted: boolean }[];
  stats: Record<string, { ks_d: number; ks_p: number }>;
  preset: Record<string, number>;
  share: number;
}

const close = (a: number, b: number, what: string) =>
  assert.ok(a === b || Math.abs(a - b) <= 1e-6, `${what}: mercury ${a} vs evidently ${b}`);

Deno.test("drift tests match Evidently 0.7.23 to 1e-6 with the same decisions (small and large windows)", async () => {
  const cases = [
    makeData(600, 800, 1, 0.4), // small reference, unequal sizes: ks (inside method), chisquare, z
    makeData(500, 500, 2, 0.15), // small, equal sizes: ks (outside-square formula)
    makeData(900, 700, 3, 0), // no shift: few or no drifts
    makeData(3000, 2500, 4, 0.3), // large reference: wasserstein, jensenshannon
    makeData(4000, 6000, 5, 0.02), // large, barely moved
    makeData(300, 12000, 6, 0.1), // small reference, current > 10,000 rows: KS through scipy's kstwo
  ];
  const py = await runPython<PyCase[]>(PYTHON, { cases, kinds: KINDS, forced: FORCED });
  let compared = 0;
  cases.forEach((c, i) => {
    const want = py[i]!;
    const report = dataDrift(c.reference, c.current, { kinds: KINDS });
    for (const col of report.columns) {
      const w = want.default[col.column]!;
      assert.equal(col.test, w.test, `case ${i} column ${col.column}: default test`);
      close(col.score, w.score, `case ${i} ${col.column} ${col.test}`);
      close(col.score, want.preset[col.column]!, `case ${i} ${col.column} preset value`);
      assert.equal(col.drifted, w.drifted, `case ${i} ${col.column}: drift decision`);
      compared++;
    }
    close(report.shareDrifted, want.share, `case ${i} share of drifted columns`);
    for (const f of want.forced) {
      const got = columnDrift(f.column, c.reference[f.column]!, c.current[f.column]!, {
        kind: KINDS[f.column],
        test: f.test,
      });
      close(got.score, f.score, `case ${i} ${f.column} forced ${f.test}`);
      assert.equal(got.drifted, f.drifted, `case ${i} ${f.column} forced ${f.test}: decision`);
      compared++;
    }
    for (const [col, s] of Object.entries(want.stats)) {
      const got = columnDrift(col, c.reference[col]!, c.current[col]!, { kind: "numerical", test: "ks" });
      close(got.statistic, s.ks_d, `case ${i} ${col} KS D`);
      close(got.pValue!, s.ks_p, `case ${i} ${col} KS p`);
    }
  });
  // the cases exercise every test and both decisions
  const tests = new Set(
    cases.flatMap((c) => dataDrift(c.reference, c.current, { kinds: KINDS }).columns.map((x) => x.test)),
  );
  assert.deepEqual([...tests].sort(), ["chisquare", "jensenshannon", "ks", "wasserstein", "z"]);
  assert.ok(compared > 80);
});
