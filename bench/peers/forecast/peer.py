"""statsforecast (AutoETS, AutoARIMA, AutoTheta) and Prophet on any set of series.

usage: python peer.py INPUT.csv OUT.json [MODELS] [PROPHET_LIMIT]
INPUT: unique_id,m,h,y — one row per observation, in time order within each series; each (m, h) group is forecast
with season_length=m and horizon h (integer time index).
Writes {model: {"seconds": s, "forecasts": {id: [h floats]}}} after each model and every slice (temp file + rename; a
stopped run keeps what finished, a partial model is marked "partial": true).
MODELS: comma-separated subset of AutoETS,AutoARIMA,AutoTheta,Prophet (default AutoETS,AutoTheta,AutoARIMA).
"""
import json, os, signal, sys, time
from multiprocessing import Pool
import numpy as np
import pandas as pd

inp, out = sys.argv[1], sys.argv[2]
wanted = (sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else "AutoETS,AutoTheta,AutoARIMA").split(",")
prophet_limit = int(sys.argv[4]) if len(sys.argv) > 4 else 0

# Stopped by the bench (--peer-timeout): take the worker processes down too; OUT already holds what finished.
try:
    os.setpgrp()
except PermissionError:  # already a session leader (the bench starts peers with setsid)
    pass


def _stop(sig, frame):
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.killpg(0, signal.SIGKILL)


signal.signal(signal.SIGTERM, _stop)

d = pd.read_csv(inp, dtype={"unique_id": str})
d["ds"] = d.groupby("unique_id", sort=False).cumcount()
ids = list(dict.fromkeys(d["unique_id"]))
groups = [(int(m), int(h), g[["unique_id", "ds", "y"]]) for (m, h), g in d.groupby(["m", "h"], sort=False)]
res = {}
from statsforecast import StatsForecast
from statsforecast.models import AutoARIMA, AutoETS, AutoTheta


def dump():
    json.dump(res, open(out + ".tmp", "w"))
    os.replace(out + ".tmp", out)


def make(name, m):
    # AutoARIMA on a season above 52 (365-day, 336 half-hours) takes minutes a series: fitted non-seasonal, as
    # Mercury's AutoARIMA and the R peer do.
    if name == "AutoARIMA" and m > 52:
        m = 1
    return {"AutoETS": AutoETS, "AutoARIMA": AutoARIMA, "AutoTheta": AutoTheta}[name](season_length=m)


def run_sf(name, chunk=50):
    """One statsforecast model on every series (n_jobs=2), in slices of `chunk` series, each written when done."""
    fcs, secs = {}, 0.0
    for m, h, g in groups:
        gids = list(dict.fromkeys(g["unique_id"]))
        for c in range(0, len(gids), chunk):
            part = g[g["unique_id"].isin(set(gids[c:c + chunk]))]
            sf = StatsForecast(models=[make(name, m)], freq=1, n_jobs=2)
            s = time.perf_counter()
            fc = sf.forecast(df=part, h=h)
            secs += time.perf_counter() - s
            col = [x for x in fc.columns if x not in ("unique_id", "ds")][0]
            fcs.update({k: v[col].tolist() for k, v in fc.groupby("unique_id")})
            res[name] = {"seconds": secs, "forecasts": fcs, **({"partial": True} if len(fcs) < len(ids) else {})}
            dump()
    print(f"statsforecast {name}: {secs:.1f}s", file=sys.stderr, flush=True)


def prophet_one(item):
    import logging
    logging.getLogger("cmdstanpy").disabled = True
    from prophet import Prophet
    k, v, h = item
    t0 = pd.Timestamp("2015-01-01")
    df = pd.DataFrame({"ds": pd.date_range(t0, periods=len(v), freq="h"), "y": v})
    m = Prophet(uncertainty_samples=0)
    m.fit(df)
    fut = m.make_future_dataframe(periods=h, freq="h", include_history=False)
    return k, m.predict(fut)["yhat"].tolist()


def run_prophet():
    items = [(k, g["y"].to_numpy(), int(g["h"].iloc[0])) for k, g in d.groupby("unique_id", sort=False)]
    if prophet_limit:
        items = items[:prophet_limit]
    s = time.perf_counter()
    pr = {}
    with Pool(2) as pool:
        for k, f in pool.imap_unordered(prophet_one, items):
            pr[k] = f
            if len(pr) % 25 == 0 and len(pr) < len(items):
                res["Prophet"] = {"seconds": time.perf_counter() - s, "forecasts": pr, "partial": True}
                dump()
    res["Prophet"] = {"seconds": time.perf_counter() - s, "forecasts": pr}
    print(f"Prophet: {res['Prophet']['seconds']:.1f}s", file=sys.stderr, flush=True)
    dump()


for name in wanted:
    if name == "Prophet":
        run_prophet()
    else:
        run_sf(name)
