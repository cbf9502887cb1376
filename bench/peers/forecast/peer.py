"""M4 Hourly with statsforecast (AutoETS, AutoARIMA, AutoTheta) and Prophet.

usage: python peer.py TRAIN.csv TEST.csv OUT.json [LIMIT] [PROPHET_LIMIT] [MODELS]
Writes {model: {"seconds": s, "forecasts": {id: [48 floats]}}} after each model (a stopped run keeps what finished).
MODELS: comma-separated subset of AutoETS,AutoARIMA,AutoTheta,Prophet (default all).
"""
import json, os, sys, time
from multiprocessing import Pool
import numpy as np
import pandas as pd

train_csv, test_csv, out = sys.argv[1], sys.argv[2], sys.argv[3]
limit = int(sys.argv[4]) if len(sys.argv) > 4 else 0
prophet_limit = int(sys.argv[5]) if len(sys.argv) > 5 else 0
wanted = set((sys.argv[6] if len(sys.argv) > 6 and sys.argv[6] else "AutoETS,AutoARIMA,AutoTheta,Prophet").split(","))
H, M = 48, 24

tr = pd.read_csv(train_csv)
if limit:
    tr = tr.head(limit)
series = {row["V1"]: row.iloc[1:].dropna().astype(float).to_numpy() for _, row in tr.iterrows()}
t0 = pd.Timestamp("2015-01-01")
long = pd.concat([
    pd.DataFrame({"unique_id": k, "ds": pd.date_range(t0, periods=len(v), freq="h"), "y": v}) for k, v in series.items()
])
res = {}
from statsforecast import StatsForecast
from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

for name, model in [("AutoETS", AutoETS(season_length=M)), ("AutoARIMA", AutoARIMA(season_length=M)), ("AutoTheta", AutoTheta(season_length=M))]:
    if name not in wanted:
        continue
    sf = StatsForecast(models=[model], freq="h", n_jobs=2)
    s = time.perf_counter()
    fc = sf.forecast(df=long, h=H)
    secs = time.perf_counter() - s
    col = [c for c in fc.columns if c not in ("unique_id", "ds")][0]
    res[name] = {"seconds": secs, "forecasts": {k: g[col].tolist() for k, g in fc.groupby("unique_id")}}
    print(f"{name}: {secs:.1f}s", file=sys.stderr, flush=True)
    json.dump(res, open(out, "w"))


def prophet_one(item):
    import logging
    logging.getLogger("cmdstanpy").disabled = True
    from prophet import Prophet
    k, v = item
    df = pd.DataFrame({"ds": pd.date_range(t0, periods=len(v), freq="h"), "y": v})
    m = Prophet(uncertainty_samples=0)
    m.fit(df)
    fut = m.make_future_dataframe(periods=H, freq="h", include_history=False)
    return k, m.predict(fut)["yhat"].tolist()


if "Prophet" not in wanted:
    sys.exit(0)
items = list(series.items())
if prophet_limit:
    items = items[:prophet_limit]
s = time.perf_counter()
with Pool(2) as pool:
    pr = dict(pool.map(prophet_one, items))
res["Prophet"] = {"seconds": time.perf_counter() - s, "forecasts": pr}
print(f"Prophet: {res['Prophet']['seconds']:.1f}s", file=sys.stderr, flush=True)
json.dump(res, open(out, "w"))
