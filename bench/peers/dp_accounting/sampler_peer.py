"""OpenDP's discrete Gaussian sampler (Rust, exact CKS20 on big rationals) for bench/privacy_bench.ts.

usage: python sampler_peer.py SIGMA N [--samples]
  → prints JSON {"seconds": …, "n": N, "var": sample variance[, "samples": [...]]}
"""
import json
import sys
import time

import opendp.prelude as dp

dp.enable_features("contrib")
sigma, n = float(sys.argv[1]), int(sys.argv[2])
m = dp.m.make_gaussian(dp.vector_domain(dp.atom_domain(T=int)), dp.l2_distance(T=int), scale=sigma)
x = [0] * n
t = time.perf_counter()
y = m(x)
secs = time.perf_counter() - t
mean = sum(y) / n
out = {"seconds": secs, "n": n, "var": sum((v - mean) ** 2 for v in y) / n}
if "--samples" in sys.argv:
    out["samples"] = list(y)
print(json.dumps(out))
