"""M4 Hourly with statsforecast (AutoETS, AutoARIMA, AutoTheta) and Prophet.

usage: python peer.py TRAIN.csv TEST.csv OUT.json [LIMIT] [PROPHET_LIMIT] [MODELS]
Writes {model: {"seconds": s, "forecasts": {id: [48 floats]}}} after each model and every 25 Prophet series
(temp file + rename; a stopped run keeps what finished, a partial model is marked "partial": true).
MODELS: comma-separated subset of AutoETS,AutoARIMA,AutoTheta,Prophet (default all).
"""
import json, os, signal, sys, time
from multiprocessing import Pool
import numpy as np
import pandas as pd

train_csv, test_csv, out = sys.argv[1], sys.argv[2], sys.argv[3]
limit = int(sys.argv[4]) if len(sys.argv) > 4 else 0
prophet_limit = int(sys.argv[5]) if len(sys.argv) > 5 else 0
wanted = set((sys.argv[6] if len(sys.argv) > 6 and sys.argv[6] else "AutoETS,AutoARIMA,AutoTheta,Prophet").split(","))
H, M = 48, 24

# Stopped by the bench (--peer-timeout): take the worker processes down too; OUT already holds what finished.
os.setpgrp()


def _stop(sig, frame):
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.killpg(0, signal.SIGKILL)


signal.signal(signal.SIGTERM, _stop)

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


def dump():
    json.dump(res, open(out + ".tmp", "w"))
    os.replace(out + ".tmp", out)


def run_sf(name, model, chunks=1):
    """One statsforecast model on every series (n_jobs=2); with chunks > 1, in that many slices, each written when done."""
    ids = list(series)
    per = -(-len(ids) // chunks)
    fcs, secs = {}, 0.0
    for c in range(chunks):
        part = long[long["unique_id"].isin(set(ids[c * per:(c + 1) * per]))]
        if part.empty:
            continue
        sf = StatsForecast(models=[model], freq="h", n_jobs=2)
        s = time.perf_counter()
        fc = sf.forecast(df=part, h=H)
        secs += time.perf_counter() - s
        col = [x for x in fc.columns if x not in ("unique_id", "ds")][0]
        fcs.update({k: g[col].tolist() for k, g in fc.groupby("unique_id")})
        res[name] = {"seconds": secs, "forecasts": fcs, **({"partial": True} if len(fcs) < len(ids) else {})}
        dump()
    print(f"{name}: {secs:.1f}s", file=sys.stderr, flush=True)


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


def run_prophet():
    items = list(series.items())
    if prophet_limit:
        items = items[:prophet_limit]
    s = time.perf_counter()
    pr = {}
    with Pool(2) as pool:
        for k, f in pool.imap_unordered(prophet_one, items):
            pr[k] = f
            if len(pr) % 25 == 0 and len(pr) < len(items):  # partial results, scored on the series that finished
                res["Prophet"] = {"seconds": time.perf_counter() - s, "forecasts": pr, "partial": True}
                dump()
    res["Prophet"] = {"seconds": time.perf_counter() - s, "forecasts": pr}
    print(f"Prophet: {res['Prophet']['seconds']:.1f}s", file=sys.stderr, flush=True)
    dump()


# Slowest last, so a --peer-timeout stop loses the least; AutoARIMA in 9 slices, each written when done.
for name in ["AutoETS", "AutoTheta", "Prophet", "AutoARIMA"]:
    if name not in wanted:
        continue
    if name == "Prophet":
        run_prophet()
    elif name == "AutoARIMA":
        run_sf(name, AutoARIMA(season_length=M), chunks=9)
    else:
        run_sf(name, AutoETS(season_length=M) if name == "AutoETS" else AutoTheta(season_length=M))
