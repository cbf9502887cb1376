"""Evidently's DataDriftPreset on the benchmark's data (raw float64 column files written by
bench/observe_drift_bench.ts). Prints one JSON line: per-column values, the share of drifted
columns and the seconds of each run of Report.run (data loading excluded)."""
import json, sys, time, warnings

import numpy as np
import pandas as pd
from evidently import Dataset, DataDefinition, Report
from evidently.presets import DataDriftPreset

warnings.filterwarnings("ignore")
meta = json.load(open(sys.argv[1]))
reps = int(sys.argv[2])


def frame(side):
    cols = {}
    for c in meta["columns"]:
        a = np.fromfile(f"{meta['dir']}/{side}_{c['name']}.f64", dtype="<f8")
        cols[c["name"]] = a.astype(np.int64) if c["kind"] == "categorical" else a
    return pd.DataFrame(cols)


ref, cur = frame("reference"), frame("current")
dd = DataDefinition(
    numerical_columns=[c["name"] for c in meta["columns"] if c["kind"] == "numerical"],
    categorical_columns=[c["name"] for c in meta["columns"] if c["kind"] == "categorical"],
)
seconds, cpu = [], []
for _ in range(reps):
    t0, c0 = time.perf_counter(), time.process_time()
    snap = Report([DataDriftPreset()]).run(Dataset.from_pandas(cur, data_definition=dd), Dataset.from_pandas(ref, data_definition=dd))
    metrics = snap.dict()["metrics"]
    seconds.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
    print(f"evidently run {len(seconds)}: {seconds[-1]:.2f} s wall, {cpu[-1]:.2f} s CPU", file=sys.stderr)
values = {m["config"]["column"]: {"value": m["value"], "method": m["config"]["method"], "threshold": m["config"]["threshold"]}
          for m in metrics if m["config"]["type"].endswith("ValueDrift")}
share = [m["value"]["share"] for m in metrics if m["config"]["type"].endswith("DriftedColumnsCount")][0]
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "columns": values, "share": share}))
