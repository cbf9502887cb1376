"""Peer answers for the privacy plugin's accountant tests and benchmark.

Reads a JSON list of cases on stdin, writes a JSON list of answers on stdout.
Case kinds:
  rdp_dpa      subsampled-Gaussian RDP from Google's dp-accounting (integer orders)
  rdp_opacus   the same from Opacus's analysis/rdp.py (loaded by path: no torch)
  rdp_mpmath   the same as a 50-digit numerical integral (mpmath.quad)
  eps_dpa      (ε at δ) of `steps` subsampled Gaussian steps, dp-accounting's RdpAccountant
  pld_gauss    ε at δ of `count` Gaussian mechanisms, dp-accounting PLD (pessimistic, no connect-dots)
  pld_laplace  the same for Laplace mechanisms
  pld_sgauss   the same for Poisson-subsampled Gaussian mechanisms (sampling_prob q, add and remove)
"""
import importlib.util
import json
import math
import os
import sys

import mpmath
import dp_accounting
from dp_accounting.pld import privacy_loss_distribution as pld
from dp_accounting.rdp import rdp_privacy_accountant as rdp


def opacus_rdp_module():
    import site

    for d in site.getsitepackages():
        path = os.path.join(d, "opacus", "accountants", "analysis", "rdp.py")
        if os.path.exists(path):
            spec = importlib.util.spec_from_file_location("opacus_rdp", path)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            return mod
    raise RuntimeError("opacus is not installed in this venv")


def mp_rdp(q, sigma, alpha):
    mpmath.mp.dps = 50
    q, sigma, alpha = mpmath.mpf(q), mpmath.mpf(sigma), mpmath.mpf(alpha)

    def f(z):
        mu0 = mpmath.npdf(z, 0, sigma)
        ratio = (1 - q) + q * mpmath.exp((2 * z - 1) / (2 * sigma**2))
        return mu0 * ratio**alpha

    pts = [-mpmath.inf] + [sigma * k for k in range(-20, 41, 2)] + [mpmath.inf]
    a = mpmath.quad(f, pts)
    return float(mpmath.log(a) / (alpha - 1))


def main():
    cases = json.load(sys.stdin)
    op = None
    out = []
    for c in cases:
        k = c["kind"]
        if k == "rdp_dpa":
            out.append(float(rdp._compute_rdp_poisson_subsampled_gaussian(c["q"], c["sigma"], [c["alpha"]])[0]))
        elif k == "rdp_opacus":
            op = op or opacus_rdp_module()
            out.append(float(op._compute_rdp(c["q"], c["sigma"], c["alpha"])))
        elif k == "rdp_mpmath":
            out.append(mp_rdp(c["q"], c["sigma"], c["alpha"]))
        elif k == "eps_dpa":
            acc = rdp.RdpAccountant(c.get("orders") or rdp.DEFAULT_RDP_ORDERS)
            ev = dp_accounting.PoissonSampledDpEvent(c["q"], dp_accounting.GaussianDpEvent(c["sigma"]))
            acc.compose(ev, c["steps"])
            out.append(float(acc.get_epsilon(c["delta"])))
        elif k == "pld_sgauss":
            p = pld.from_gaussian_mechanism(
                c["scale"], sensitivity=c.get("sensitivity", 1), value_discretization_interval=c["interval"],
                pessimistic_estimate=True, use_connect_dots=False, sampling_prob=c["q"])
            out.append(float(p.self_compose(c["count"]).get_epsilon_for_delta(c["delta"])))
        elif k in ("pld_gauss", "pld_laplace"):
            h = c["interval"]
            if k == "pld_gauss":
                p = pld.from_gaussian_mechanism(
                    c["scale"], sensitivity=c.get("sensitivity", 1), value_discretization_interval=h,
                    pessimistic_estimate=True, use_connect_dots=False)
            else:
                p = pld.from_laplace_mechanism(
                    c["scale"], sensitivity=c.get("sensitivity", 1), value_discretization_interval=h,
                    pessimistic_estimate=True, use_connect_dots=False)
            p = p.self_compose(c["count"])
            out.append(float(p.get_epsilon_for_delta(c["delta"])))
        else:
            raise ValueError(f"unknown case kind {k}")
    # JSON has no Infinity/NaN: a peer that gives up answers null.
    json.dump([x if math.isfinite(x) else None for x in out], sys.stdout)


if __name__ == "__main__":
    main()
