"""whylogs peer of bench/quality_profile_bench.ts: reads the same Parquet with pyarrow into pandas, profiles it
with whylogs (counts, nulls, HLL distinct, KLL quantiles, frequent items, types), prints JSON timings and a few
figures the bench compares with Mercury's profile."""
import json
import sys
import time

import pyarrow.parquet as pq
import whylogs as why

path = sys.argv[1]
t0 = time.perf_counter()
df = pq.read_table(path).to_pandas()
t1 = time.perf_counter()
view = why.log(df).view()
t2 = time.perf_counter()
cols = {}
for name in df.columns:
    m = view.get_column(name).to_summary_dict()
    cols[name] = {
        "count": m.get("counts/n"),
        "nulls": m.get("counts/null"),
        "distinct": m.get("cardinality/est"),
        "min": m.get("distribution/min"),
        "max": m.get("distribution/max"),
        "mean": m.get("distribution/mean"),
    }
def clean(v):
    if isinstance(v, float) and v != v:
        return None
    return v


cols = {k: {m: clean(x) for m, x in c.items()} for k, c in cols.items()}
print(json.dumps({"read_s": t1 - t0, "profile_s": t2 - t1, "total_s": t2 - t0, "rows": len(df), "columns": cols}, default=str))
