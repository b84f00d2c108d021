#!/usr/bin/env python3
"""Oracle upper bound for spike/jump/run detection on heldout_gen.py data.

    python3 oracle_bound.py --seed 1 [--towns 600 --anomalies 150] [--workers 2]

Builds the held-out generator with heldout_oracle.patch (byte-identical outputs to
crates/cli/tests/heldout_gen.py plus the true clean-data parameters), runs it into
--work (/tmp/pingan-oracle)/data<seed>_<towns>_<anomalies>, then scores every (region, element, month) of the last
year with

  post   : Bayes posterior P(key is a listed spike/jump/run | data of its family), from exact
           likelihood ratios of every anomaly hypothesis (kind x month, plus pairs "whole anomalous
           AND its part down-jumped") against clean, with the generator's own parameter laws
           integrated numerically, and priors from a Monte-Carlo replay of inject()'s choices;
  lrmax  : max over kinds of the likelihood ratio "anomaly of kind T listed at this key" vs clean
           (no priors, no competition between hypotheses);
  simple : max of -log10 exact tail probabilities (single point; 3-month run sum; sum m..Dec),
           using the true marginal laws (no parent/child joint).

and prints precision-recall tables.  "Family" = a whole W (NegBin) with its direct binomial
children (one of which, D, may itself be a down-jump target), or a lone derived leaf whose parent
is never touched, or criminal_cases (no children; up and down anomalies).
"""
import argparse
import csv
import math
import os
import random
import subprocess
import sys
import time
from collections import defaultdict

import numpy as np
from scipy.special import gammaln, log_ndtr
from scipy.signal import fftconvolve
from scipy.stats import nbinom

HERE = os.path.dirname(os.path.abspath(__file__))
GENERATOR = os.path.join(HERE, "..", "..", "crates", "cli", "tests", "heldout_gen.py")


def oracle_generator(work):
    """The held-out generator with heldout_oracle.patch applied: the same files byte for byte,
    plus oracle_params.csv (the true clean law of every last-year value), oracle_pool.csv and
    oracle_truth.csv (diagnostics only)."""
    out = os.path.join(work, "heldout_gen_oracle.py")
    with open(GENERATOR, encoding="utf-8") as f:
        src = f.read()
    with open(out, "w", encoding="utf-8") as f:
        f.write(src)
    subprocess.check_call(["patch", "--quiet", out, os.path.join(HERE, "heldout_oracle.patch")])
    return out
UP_OK = ["criminal_cases", "public_order_cases", "fraud_cases", "hazards_found", "food_samples",
         "pi_complaints", "rumours", "disputes", "grid_events", "civil_mediations", "petitions"]
DOWN_OK = ["criminal_cases", "public_order_solved", "fraud_solved", "hazards_fixed", "food_samples_passed",
           "pi_complaints_timely", "rumours_handled_timely", "key_area_screenings", "disputes_resolved",
           "grid_events_timely", "joint_events_timely", "agreements_fulfilled", "repeat_petitions",
           "petitions_closed_on_time"]
NEG = -np.inf
NF = 300   # cells for the up-jump factor f ~ U(2, 3)
ND = 150   # cells for the down-jump factor f ~ U(0.2, 0.45)
FE = np.linspace(2.0, 3.0, NF + 1)
F0, F1, FM, DF = FE[:-1], FE[1:], 0.5 * (FE[:-1] + FE[1:]), 1.0 / NF
GE = np.linspace(0.2, 0.45, ND + 1)
G0, G1, DG = GE[:-1], GE[1:], 0.25 / ND
LNF, LND = math.log(NF), math.log(ND)


# ----------------------------------------------------------------------------- numerics
def lse(a, axis=None):
    a = np.asarray(a, float)
    if a.size == 0 or (axis is not None and a.shape[axis] == 0):
        if axis is None:
            return NEG
        shp = list(a.shape)
        del shp[axis]
        return np.full(shp, NEG)
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        r = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return np.squeeze(r, axis=axis) if axis is not None else float(r.reshape(()))


def safelog(x):
    with np.errstate(divide="ignore"):
        return np.log(x)


def nb_logpmf(x, mu, k):
    """Generator's negbin(mu, k) (gamma-Poisson) with the nil-return zero inflation for mu < 1.5."""
    x = np.asarray(x, float)
    if mu <= 0:
        return np.where(x == 0, 0.0, NEG)
    lp = (gammaln(x + k) - gammaln(k) - gammaln(x + 1) + k * math.log(k / (k + mu))
          + x * math.log(mu / (k + mu)))
    if mu < 1.5:
        lp = math.log(0.96) + lp
        p0 = math.log(0.04 + 0.96 * math.exp(k * math.log(k / (k + mu))))
        lp = np.where(x == 0, p0, lp)
    return np.where(x < 0, NEG, lp)


def log_phi_diff(a, b):
    """log(Phi(b) - Phi(a)) for a < b, accurate in both tails."""
    flip = a > 0
    lo = np.where(flip, -b, a)
    hi = np.where(flip, -a, b)
    lhi, llo = log_ndtr(hi), log_ndtr(lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        return lhi + np.log1p(-np.exp(llo - lhi))


def genbin_logpmf(d, n, p):
    """log P(Gen.binom(n, p) == d): exact binomial if n*min(p,1-p) <= 40, else the generator's
    rounded+clipped normal approximation; mirrored for p > 0.5."""
    d, n = np.broadcast_arrays(np.asarray(d, float), np.asarray(n, float))
    out = np.full(d.shape, NEG)
    if p <= 0:
        out[d == 0] = 0.0
        return out
    if p >= 1:
        out[d == n] = 0.0
        return out
    out[(n <= 0) & (d == 0)] = 0.0
    q = min(p, 1 - p)
    y = d if p <= 0.5 else n - d
    ok = (y >= 0) & (y <= n) & (n > 0)
    normal = ok & (n * q > 40)
    exact = ok & ~normal
    if exact.any():
        ye, ne = y[exact], n[exact]
        out[exact] = (gammaln(ne + 1) - gammaln(ye + 1) - gammaln(ne - ye + 1)
                      + ye * math.log(q) + (ne - ye) * math.log1p(-q))
    if normal.any():
        yn, nn = y[normal], n[normal]
        mu = nn * q
        s = np.sqrt(nn * q * (1 - q))
        a = np.where(yn <= 0, -np.inf, (yn - 0.5 - mu) / s)
        b = np.where(yn >= nn, np.inf, (yn + 0.5 - mu) / s)
        out[normal] = log_phi_diff(a, b)
    return out


def overlap(lo, hi, a, b):
    return np.clip(np.minimum(hi, b) - np.maximum(lo, a), 0.0, None)


# ----------------------------------------------------------------------------- kernels
def spike_logk(xs, w, s_oth):
    """log P(observed w | clean x) for spike: w = round(max(x, mean) * U(2.5, 6)), mean=(S_oth+x)/12."""
    b = np.maximum(xs, (s_oth + xs) / 12.0)
    with np.errstate(divide="ignore"):
        lo, hi = (w - 0.5) / b, (w + 0.5) / b
    ov = np.where(b > 0, overlap(lo, hi, 2.5, 6.0) / 3.5, 1.0 if w == 0 else 0.0)
    return safelog(ov)


def run_addlaw(sd):
    """Law of a = max(1, round(U(1.8, 3.0) * sd)): returns (values, log probs)."""
    jmax = int(math.floor(3.0 * sd + 0.5)) + 1
    j = np.arange(1, jmax + 1, dtype=float)
    lo = np.where(j == 1, -np.inf, (j - 0.5) / sd)
    pr = overlap(lo, (j + 0.5) / sd, 1.8, 3.0) / 1.2
    keep = pr > 0
    return j[keep].astype(int), np.log(pr[keep])


def upjump_cells(w):
    """For observed w and each f-cell: candidate clean x with round(x f) = w, with log of the
    fraction of the cell where it holds; and the branch threshold (x f < w - 0.5 at cell middle)."""
    if w == 0:
        idx = np.zeros((NF, 1), int)
        lov = np.zeros((NF, 1))
    else:
        xlo = np.maximum(1, np.ceil((w - 0.5) / F1)).astype(int)
        xhi = np.minimum(w, np.floor((w + 0.5) / F0)).astype(int)
        K = max(1, int((xhi - xlo).max()) + 1)
        idx = xlo[:, None] + np.arange(K)[None, :]
        valid = idx <= xhi[:, None]
        xf = np.maximum(idx, 1).astype(float)
        ov = overlap((w - 0.5) / xf, (w + 0.5) / xf, F0[:, None], F1[:, None]) / DF
        lov = np.where(valid & (ov > 0), safelog(ov), NEG)
        idx = np.where(valid, idx, 0)
    thr = np.ceil((w - 0.5) / FM).astype(int) - 1
    return idx, lov, thr


def downjump_cells(v):
    """For observed v and each g-cell (factor U(0.2,0.45)): clean values d with round(d g) = v and
    log fraction of the cell where it holds."""
    if v == 0:
        dlo = np.zeros(ND, int)
        dhi = np.floor(0.5 / G0).astype(int)
    else:
        dlo = np.ceil((v - 0.5) / G1).astype(int)
        dhi = np.floor((v + 0.5) / G0).astype(int)
    K = int((dhi - dlo).max()) + 1
    d = dlo[:, None] + np.arange(K)[None, :]
    valid = d <= dhi[:, None]
    df = np.maximum(d, 1).astype(float)
    ov = overlap((v - 0.5) / df, (v + 0.5) / df, G0[:, None], G1[:, None]) / DG
    ov = np.where(d == 0, 1.0 if v == 0 else 0.0, ov)
    lov = np.where(valid & (ov > 0), safelog(ov), NEG)
    return np.where(valid, d, 0), lov


def down_term(v, logpmf_d, lp_obs):
    """Per g-cell log P(obs v | down-jump, g in cell) - log P(v | clean); logpmf_d(d array)."""
    d, lov = downjump_cells(v)
    return lse(logpmf_d(d) + lov, axis=1) - lp_obs


def cumlse(a, axis=0):
    with np.errstate(invalid="ignore"):
        return np.logaddexp.accumulate(a, axis=axis)


# ----------------------------------------------------------------------------- families
def upjump_J(F_t, w_t, P0_t, cells, M_c):
    """Single-month log LR vector over f-cells for an up-jump, given clean-x log weights F_t."""
    idx, lov, thr = cells
    main = lse(F_t[idx] + lov, axis=1)
    cum = cumlse(F_t)
    br = np.where(thr >= 0, cum[np.clip(thr, 0, None)], NEG)
    lwm = safelog(np.clip(w_t + 1 - M_c, 0, 1))
    lwb = safelog(np.maximum(0.0, 1 - np.abs(w_t - M_c)))
    return np.logaddexp(main + lwm, br + lwb) - P0_t


def w_family(fam, prior, combo_thresh):
    """fam: dict(region, W, w, mu, k, others=[(vals, ps)], D=(name, vals, ps) or None,
    Dpool bool, crim bool).  Returns list of (log weight, keys) and per-key single LRs."""
    reg, W, w, mu, k = fam["region"], fam["W"], fam["w"], fam["mu"], fam["k"]
    D = fam["D"]
    crim = fam["crim"]
    hypD = D is not None and fam["Dpool"]
    A, Dc, F, P0 = [], [], [], np.zeros(12)
    for t in range(12):
        xs = np.arange(w[t] + 1, dtype=float)
        a = nb_logpmf(xs, mu[t], k)
        for vals, ps in fam["others"]:
            a = a + genbin_logpmf(vals[t], xs, ps[t])
        dc = genbin_logpmf(D[1][t], xs, D[2][t]) if D is not None else np.zeros_like(xs)
        A.append(a)
        Dc.append(dc)
        F.append(a + dc)
        P0[t] = F[t][w[t]]
    S = int(w.sum())
    single = {}   # (kind, m) -> log LR
    # spikes
    spk = {}
    for m in range(1, 13):
        t = m - 1
        spk[m] = spike_logk(np.arange(w[t] + 1, dtype=float), w[t], S - w[t])
        single[("spike", m)] = lse(F[t] + spk[m]) - P0[t]
    # runs
    runlaw, runL = {}, np.zeros(12)
    for t in range(12):
        sd = math.sqrt(mu[t] + mu[t] ** 2 / k)
        j, lpj = run_addlaw(sd)
        keep = j <= w[t]
        j, lpj = j[keep], lpj[keep]
        runlaw[t] = (j, lpj)
        runL[t] = lse(F[t][w[t] - j] + lpj) - P0[t] if len(j) else NEG
    for m in range(3, 13):
        single[("run", m)] = runL[m - 3] + runL[m - 2] + runL[m - 1]
    # up-jumps
    cells = {t: upjump_cells(int(w[t])) for t in range(2, 12)}
    Mc = {}
    Jw = {}
    for m in range(3, 13):
        pre, post = w[:m - 1].sum(), w[m - 1:].sum()
        Mc[m] = (pre + post / FM) / 12.0 * (FM - 1)
        tot = np.zeros(NF)
        for t in range(m - 1, 12):
            Jw[(m, t)] = upjump_J(F[t], w[t], P0[t], cells[t], Mc[m])
            tot = tot + Jw[(m, t)]
        single[("jump", m)] = lse(tot) - LNF
    # down-jumps: of D (W-family) or of W itself (criminal_cases)
    Ddv = {}
    if hypD:
        for t in range(2, 12):
            Ddv[t] = down_term(int(D[1][t]), lambda d, t=t: genbin_logpmf(d, w[t], D[2][t]), Dc[t][w[t]])
    elif crim:
        for t in range(2, 12):
            Ddv[t] = down_term(int(w[t]), lambda d, t=t: nb_logpmf(d, mu[t], k), A[t][w[t]])
    if Ddv:
        for m in range(3, 13):
            single[("down", m)] = lse(sum(Ddv[t] for t in range(m - 1, 12))) - LND

    # ---- weights
    Wkey = lambda m: (reg, W, m)
    Dkey = (lambda m: (reg, D[0], m)) if hypD else (lambda m: (reg, W, m))
    lp = {}
    for (kind, m), _ in single.items():
        if kind == "down":
            lp[(kind, m)] = prior["down"] / 10.0
        else:
            lp[(kind, m)] = prior[kind] / (12.0 if kind == "spike" else 10.0)
    pW0 = 1.0 - sum(prior[x] for x in ("spike", "run", "jump"))
    pD0 = 1.0 - prior["down"] if hypD else 1.0
    if crim:
        pW0 -= prior["down"]
    weights = [(math.log(max(pW0, 1e-12)) + math.log(max(pD0, 1e-12)), ())]
    for (kind, m), llr in single.items():
        if lp[(kind, m)] <= 0:
            continue
        if kind == "down":
            key = Dkey(m)
            lw = math.log(lp[(kind, m)]) + (math.log(pW0) if hypD else 0.0) + llr
        else:
            key = Wkey(m)
            lw = math.log(lp[(kind, m)]) + math.log(max(pD0, 1e-12)) + llr
        weights.append((lw, (key,)))
    lrsingle = defaultdict(lambda: NEG)
    for (kind, m), llr in single.items():
        key = Dkey(m) if kind == "down" else Wkey(m)
        lrsingle[(key, kind)] = max(lrsingle[(key, kind)], llr)

    # ---- pairs (W anomalous AND D down-jumped)
    ncombo = 0
    if hypD:
        best = max(lw for lw, keys in weights if keys)
        full = best > math.log(combo_thresh)
        for mw in range(1, 13):
            for md in range(3, 13):
                for kind in ("spike", "run", "jump"):
                    if kind != "spike" and mw < 3:
                        continue
                    last_w = 12 if kind == "jump" else mw
                    first_w = mw - 2 if kind == "run" else mw
                    if lp[(kind, mw)] <= 0 or lp[("down", md)] <= 0:
                        continue
                    lpr = math.log(lp[(kind, mw)]) + math.log(lp[("down", md)])
                    if last_w < md:   # no overlapping month: factorises exactly
                        weights.append((lpr + single[(kind, mw)] + single[("down", md)], (Wkey(mw), Dkey(md))))
        if full and prior["down"] > 0 and min(prior[x] for x in ("spike", "run", "jump")) > 0:
            ncombo = 1
            weights += pair_overlaps(fam, A, Dc, F, P0, w, mu, k, D, spk, runlaw, runL, cells, Mc, Jw, Ddv,
                                     lp, Wkey, Dkey)
    return weights, lrsingle, ncombo


def pair_overlaps(fam, A, Dc, F, P0, w, mu, k, D, spk, runlaw, runL, cells, Mc, Jw, Ddv, lp, Wkey, Dkey):
    out = []
    # D-jumped likelihood of observed D_t as a function of clean whole x (rows) and g-cell (cols)
    Dj = {}
    for t in range(2, 12):
        wt = int(w[t])
        xmax_lo = wt // 2 + 2
        j, _ = runlaw[t]
        xs_need = np.unique(np.concatenate([np.arange(min(xmax_lo, wt) + 1), wt - j])).astype(int)
        d, lov = downjump_cells(int(D[1][t]))
        tab = np.full((wt + 1, ND), NEG)
        dmin, dmax = int(d.min()), int(min(d.max(), wt))
        if dmin <= dmax:
            dr = np.arange(dmin, dmax + 1)
            G = genbin_logpmf(dr[None, :], xs_need[:, None].astype(float), D[2][t])   # (X, Dr)
            di = np.clip(d - dmin, 0, len(dr) - 1)
            lov2 = np.where(d > dmax, NEG, lov)
            tab[xs_need] = lse(G[:, di] + lov2[None], axis=2)
        Dj[t] = tab
    for md in range(3, 13):
        pd = math.log(lp[("down", md)])
        base = {t: Ddv[t] for t in range(md - 1, 12)}
        # spike(mw) with mw >= md
        for mw in range(md, 13):
            t = mw - 1
            sm = lse(A[t][:, None] + spk[mw][:, None] + Dj[t], axis=0) - P0[t]
            tot = sum(base[s] for s in base if s != t) + sm
            out.append((pd + math.log(lp[("spike", mw)]) + lse(tot) - LND, (Wkey(mw), Dkey(md))))
        # run(mw): window mw-2..mw overlapping md..12
        for mw in range(max(3, md), 13):
            tot = np.zeros(ND)
            for t in range(mw - 3, mw):
                if t >= md - 1:
                    jj, lpj = runlaw[t]
                    x = w[t] - jj
                    tot = tot + lse(A[t][x][:, None] + lpj[:, None] + Dj[t][x], axis=0) - P0[t]
                else:
                    tot = tot + runL[t]
            for t in range(md - 1, 12):
                if not (mw - 3 <= t < mw):
                    tot = tot + base[t]
            out.append((pd + math.log(lp[("run", mw)]) + lse(tot) - LND, (Wkey(mw), Dkey(md))))
    # jump(mw) x down(md)
    mainDj, brDj = {}, {}
    for t in range(2, 12):
        idx, lov, thr = cells[t]
        X = A[t][:, None] + Dj[t]                                    # (x, g)
        mainDj[t] = lse(X[idx] + lov[:, :, None], axis=1)            # (f, g)
        tmax = int(max(0, thr.max()))
        cum = cumlse(X[:tmax + 1], axis=0)
        brDj[t] = np.where((thr >= 0)[:, None], cum[np.clip(thr, 0, tmax)], NEG)
    for mw in range(3, 13):
        c = Mc[mw]
        B = {}
        for t in range(mw - 1, 12):
            lwm = safelog(np.clip(w[t] + 1 - c, 0, 1))[:, None]
            lwb = safelog(np.maximum(0.0, 1 - np.abs(w[t] - c)))[:, None]
            B[t] = np.logaddexp(mainDj[t] + lwm, brDj[t] + lwb) - P0[t]
        C = {12: np.zeros((NF, ND))}
        for t in range(11, mw - 2, -1):
            C[t] = C[t + 1] + B[t]
        for md in range(3, 13):
            if md >= mw:
                Wv = sum((Jw[(mw, t)] for t in range(mw - 1, md - 1)), np.zeros(NF))
                tot = C[md - 1] + Wv[:, None]
            else:
                Dv = sum((Ddv[t] for t in range(md - 1, mw - 1)), np.zeros(ND))
                tot = C[mw - 1] + Dv[None, :]
            out.append((math.log(lp[("jump", mw)]) + math.log(lp[("down", md)]) + lse(tot) - LNF - LND,
                        (Wkey(mw), Dkey(md))))
    return out


def leaf_family(fam, prior):
    """Down-jump of a derived leaf whose parent is never altered: n_t = observed parent."""
    reg, E, v, n, ps = fam["region"], fam["E"], fam["v"], fam["n"], fam["ps"]
    Ddv = {}
    for t in range(2, 12):
        lp0 = genbin_logpmf(v[t], n[t], ps[t]).item()
        Ddv[t] = down_term(int(v[t]), lambda d, t=t: genbin_logpmf(d, n[t], ps[t]), lp0)
    p0 = 1 - prior["down"]
    weights = [(math.log(max(p0, 1e-12)), ())]
    lrs = {}
    for m in range(3, 13):
        llr = lse(sum(Ddv[t] for t in range(m - 1, 12))) - LND
        weights.append((math.log(prior["down"] / 10) + llr, ((reg, E, m),)))
        lrs[((reg, E, m), "down")] = llr
    return weights, lrs, 0


# ----------------------------------------------------------------------------- simple scores
def nb_pmf_trunc(mu, k, s, upper=True):
    """pmf on 0..s of min(X, s) (upper=True) or of X restricted to 0..s (upper=False)."""
    x = np.arange(s + 1, dtype=float)
    p = np.exp(nb_logpmf(x, mu, k))
    if upper and s > 0:
        if mu <= 0:
            p[s] = 0.0
        else:   # P(X >= s) without cancellation
            sf = nbinom.sf(s - 1, k, k / (k + mu))
            p[s] = sf * (0.96 if mu < 1.5 else 1.0)
    return p


def gb_pmf_trunc(n, p_, s, upper=True):
    x = np.arange(s + 1, dtype=float)
    p = np.exp(genbin_logpmf(x, n, p_))
    if upper and s > 0:
        p[s] = max(0.0, 1.0 - p[:s].sum())
    return p


def conv(a, b, s):
    if len(a) * len(b) < 4e6:
        c = np.convolve(a, b)
    else:
        c = np.clip(fftconvolve(a, b), 0, None)
    return c[:s + 1] if len(c) > s + 1 else c


def tail_sum(pmfs_fn, months, s, upper):
    """P(sum over months >= s) (upper) or <= s (lower)."""
    if upper and s <= 0:
        return 1.0
    acc = np.array([1.0])
    for t in months:
        acc = conv(acc, pmfs_fn(t, s, upper), s)
        if upper:
            if len(acc) > s:
                acc[s] = acc[s:].sum()
                acc = acc[:s + 1]
    if upper:
        return float(acc[s]) if len(acc) > s else 0.0
    return float(acc[:s + 1].sum())


def simple_scores(series, up, down):
    """series: dict(v, kind='nb'(mu,k) or 'gb'(n, ps)).  Returns {m: -log10 p} (max of 3 tests)."""
    v = series["v"]
    if series["dist"] == "nb":
        mu, k = series["mu"], series["k"]
        fn = lambda t, s, u: nb_pmf_trunc(mu[t], k, s, u)
    else:
        n, ps = series["n"], series["ps"]
        fn = lambda t, s, u: gb_pmf_trunc(n[t], ps[t], s, u)
    sc = {}
    for m in range(1, 13):
        best = 0.0
        tests = [[m - 1]]
        if m >= 3:
            tests.append([m - 3, m - 2, m - 1])
            tests.append(list(range(m - 1, 12)))
        for i, ms in enumerate(tests):
            s = int(sum(v[t] for t in ms))
            if up:
                p = tail_sum(fn, ms, s, True)
                best = max(best, -math.log10(max(p, 1e-300)))
            if down and i != 1:
                p = tail_sum(fn, ms, s, False)
                best = max(best, -math.log10(max(p, 1e-300)))
        sc[m] = best
    return sc


# ----------------------------------------------------------------------------- I/O
def load(datadir):
    last_year = None
    params = {}
    for r in csv.DictReader(open(os.path.join(datadir, "oracle_params.csv"), encoding="utf-8")):
        params.setdefault((r["region"], r["element"]), []).append(r)
    years = sorted({rs[0]["period"][:4] for rs in params.values()})
    last_year = years[-1]
    need = {e for (_, e) in params}
    vals = defaultdict(lambda: [0] * 12)
    for r in csv.DictReader(open(os.path.join(datadir, "values.csv"), encoding="utf-8")):
        p = r["period"]
        if len(p) == 7 and p.startswith(last_year) and r["element"] in need:
            vals[(r["region"], r["element"])][int(p[5:]) - 1] = int(r["value"])
    pool = defaultdict(set)
    for r in csv.DictReader(open(os.path.join(datadir, "oracle_pool.csv"), encoding="utf-8")):
        pool[r["element"]].add(r["region"])
    anomalies = [r for r in csv.DictReader(open(os.path.join(datadir, "anomalies.csv"), encoding="utf-8"))
                 if r["kind"] in ("spike", "jump", "run")]
    truth = {(r["region"], r["element"], int(r["month"])): r
             for r in csv.DictReader(open(os.path.join(datadir, "oracle_truth.csv"), encoding="utf-8"))}
    return params, vals, pool, anomalies, truth, last_year


def load_pool_true(datadir):
    pool = defaultdict(set)
    for r in csv.DictReader(open(os.path.join(datadir, "oracle_pool.csv"), encoding="utf-8")):
        pool[r["element"]].add(r["region"])
    return pool


def mc_priors(pool, n=150, reps=4000, seed=12345):
    """Expected number of picks per (kind, element) when replaying inject()'s selection logic."""
    rng = random.Random(seed)
    sizes = {e: len(pool.get(e, ())) for e in set(UP_OK + DOWN_OK)}
    cnt = defaultdict(float)
    for _ in range(reps):
        used = defaultdict(int)
        kinds = [("spike", "jump", "run")[i % 3] for i in range(n)]
        rng.shuffle(kinds)
        for kind in kinds:
            down = kind == "jump" and rng.random() < 0.5
            elems = [e for e in (DOWN_OK if down else UP_OK) if used[e] < sizes[e]]
            if not elems:
                continue
            e = rng.choice(elems)
            used[e] += 1
            cnt[("down" if down else kind, e)] += 1
    return {key: c / reps for key, c in cnt.items()}


def perturb(ps_or_mu, kind, rng, sigma):
    """Detector-side misspecification (sensitivity runs only): a per-series constant error."""
    if sigma <= 0:
        return ps_or_mu
    z = rng.gauss(0, sigma)
    if kind == "mu":
        return np.asarray(ps_or_mu) * math.exp(z)
    out = []
    for p in ps_or_mu:
        if 0 < p < 1:
            lo = math.log(p / (1 - p)) + z
            p = 1 / (1 + math.exp(-lo))
        out.append(p)
    return out


def build_families(params, vals, pool, joint=True, mu_noise=0.0, p_noise=0.0, noise_seed=0):
    rng = random.Random(noise_seed)
    P = lambda reg, c: perturb([float(r["b"]) for r in params[(reg, c)]], "p", rng, p_noise)
    children = defaultdict(list)
    for (reg, e), rs in params.items():
        if rs[0]["dist"] == "binom":
            children[(reg, rs[0]["a"])].append(e)
    fams = []
    for (reg, e), rs in sorted(params.items()):
        if e in UP_OK and reg in pool[e]:
            mu = perturb(np.array([float(r["a"]) for r in rs]), "mu", rng, mu_noise)
            k = float(rs[0]["b"])
            kids = children[(reg, e)]
            D = [c for c in kids if c in DOWN_OK]
            assert len(D) <= 1
            others = [(np.array(vals[(reg, c)]), P(reg, c)) for c in kids if c not in D]
            Dt = None
            if D:
                Dt = (D[0], np.array(vals[(reg, D[0])]), P(reg, D[0]))
            if not joint:   # series-by-series detector: whole alone; its part scored against observed whole
                if Dt is not None and reg in pool[D[0]]:
                    fams.append(dict(type="leaf", region=reg, E=D[0], v=Dt[1], n=np.array(vals[(reg, e)]), ps=Dt[2]))
                others, Dt = [], None
            fams.append(dict(type="W", region=reg, W=e, w=np.array(vals[(reg, e)]), mu=mu, k=k, others=others,
                             D=Dt, Dpool=Dt is not None and reg in pool[D[0]], crim=(e == "criminal_cases")))
        elif e in DOWN_OK and e != "criminal_cases" and reg in pool[e]:
            src = rs[0]["a"]
            if src in UP_OK:
                continue   # handled inside the W family
            if src == "key_area_screenings_required":
                n = [int(r["a"]) for r in params[(reg, src)]]
            else:
                n = vals[(reg, src)]
            fams.append(dict(type="leaf", region=reg, E=e, v=np.array(vals[(reg, e)]), n=np.array(n),
                             ps=P(reg, e)))
    return fams


def model_pool(params):
    """Pool membership without looking at clean data: P(clean last-year mean >= 8) under the model
    (normal approximation of the 12-month sum).  Returns {element: {region: prob}} (prob > 1e-4)."""
    mean, var = {}, {}
    order = list(params.items())
    # base flows and fixed first, derived in dependency order (parents appear before children)
    def mv(reg, e):
        if (reg, e) in mean:
            return mean[(reg, e)], var[(reg, e)]
        rs = params[(reg, e)]
        d = rs[0]["dist"]
        if d == "nb":
            mu = np.array([float(r["a"]) for r in rs]); k = float(rs[0]["b"])
            m, v = mu, mu + mu ** 2 / k
        elif d == "fixed":
            m, v = np.array([float(r["a"]) for r in rs]), np.zeros(12)
        else:
            pm, pv = mv(reg, rs[0]["a"])
            p = np.array([float(r["b"]) for r in rs])
            m, v = pm * p, pm * p * (1 - p) + p ** 2 * pv
        mean[(reg, e)], var[(reg, e)] = m, v
        return m, v
    out = defaultdict(dict)
    for (reg, e), rs in order:
        if e in UP_OK or e in DOWN_OK:
            m, v = mv(reg, e)
            z = (96 - 0.5 - m.sum()) / math.sqrt(max(v.sum(), 1e-9))
            pr = 0.5 * math.erfc(z / math.sqrt(2))
            if pr > 1e-4:
                out[e][reg] = pr
    return out


def family_prior(fam, pri, pool):
    if fam["type"] == "leaf":
        e = fam["E"]
        return {"down": pri.get(("down", e), 0) * share(pool, e, fam["region"])}
    e = fam["W"]
    reg = fam["region"]
    p = {kd: pri.get((kd, e), 0) * share(pool, e, reg) for kd in ("spike", "run", "jump")}
    if fam["crim"]:
        p["down"] = pri.get(("down", e), 0) * share(pool, e, reg)
    elif fam["D"] is not None and fam["Dpool"]:
        p["down"] = pri.get(("down", fam["D"][0]), 0) * share(pool, fam["D"][0], reg)
    else:
        p["down"] = 0.0
    return p


def share(pool, e, reg):
    """Probability that a given pick of element e lands on series reg."""
    pe = pool[e]
    if isinstance(pe, dict):
        return pe.get(reg, 0.0) / sum(pe.values())
    return 1.0 / len(pe)


def work(args):
    fams, pri, pool, combo_thresh, do_simple = args
    res = []
    for fam in fams:
        pr = family_prior(fam, pri, pool)
        if fam["type"] == "leaf":
            weights, lrs, nc = leaf_family(fam, pr)
        else:
            weights, lrs, nc = w_family(fam, pr, combo_thresh)
        lw = np.array([x for x, _ in weights])
        Z = lse(lw)
        post = defaultdict(list)
        for x, keys in weights:
            for key in keys:
                post[key].append(x)
        postk = {key: lse(np.array(v)) - Z for key, v in post.items()}
        simp = {}
        if do_simple:
            if fam["type"] == "leaf":
                s = simple_scores(dict(v=fam["v"], dist="gb", n=fam["n"], ps=fam["ps"]), False, True)
                simp.update({(fam["region"], fam["E"], m): x for m, x in s.items()})
            else:
                s = simple_scores(dict(v=fam["w"], dist="nb", mu=fam["mu"], k=fam["k"]), True, fam["crim"])
                simp.update({(fam["region"], fam["W"], m): x for m, x in s.items()})
                if fam["D"] is not None and fam["Dpool"]:
                    D = fam["D"]
                    s = simple_scores(dict(v=D[1], dist="gb", n=fam["w"], ps=D[2]), False, True)
                    simp.update({(fam["region"], D[0], m): x for m, x in s.items()})
        res.append((postk, dict(lrs), simp, nc))
    return res


# ----------------------------------------------------------------------------- evaluation
def pr_curve(scores, truth_keys, kind_of):
    """scores: dict key -> score (higher = more anomalous). Returns arrays sorted by score desc."""
    items = sorted(scores.items(), key=lambda kv: -kv[1])
    tp = np.cumsum([1 if k in truth_keys else 0 for k, _ in items])
    nflag = np.arange(1, len(items) + 1)
    return items, tp, nflag


def summarize(name, scores, truth_keys, kind_of, out):
    items, tp, nflag = pr_curve(scores, truth_keys, kind_of)
    ntrue = len(truth_keys)
    rec = tp / ntrue
    prec = tp / nflag
    # resolve ties: only evaluate at the last index of each tie group
    sc = np.array([s for _, s in items])
    last = np.r_[sc[1:] != sc[:-1], True]
    r, p = rec[last], prec[last]
    best_p_at_r90 = max([pp for rr, pp in zip(r, p) if rr >= 0.9], default=0.0)
    anom_series = {(k[0], k[1]) for k in truth_keys}
    i90 = [i for i in range(len(rec)) if last[i] and rec[i] >= 0.9]
    if i90:
        i = i90[0]
        fps = [k for k, _ in items[:i + 1] if k not in truth_keys]
        ins = sum(1 for k in fps if (k[0], k[1]) in anom_series)
    best_r_at_p80 = max([rr for rr, pp in zip(r, p) if pp >= 0.8], default=0.0)
    print("\n== %s ==" % name, file=out)
    print("  best precision at recall>=0.90: %.3f    best recall at precision>=0.80: %.3f"
          % (best_p_at_r90, best_r_at_p80), file=out)
    if i90:
        print("  at recall>=0.9: %d false keys, %d of them in a series that holds an injected anomaly"
              % (len(fps), ins), file=out)
    print("  %8s %8s %8s %8s | %6s %6s %6s | %s" % ("flagged", "TP", "recall", "prec", "spike", "jump", "run",
                                                 "threshold"), file=out)
    kinds = ("spike", "jump", "run")
    nk = {kd: sum(1 for key in truth_keys if kind_of[key] == kd) for kd in kinds}
    marks = sorted(set([0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0]))
    shown = set()
    for target in marks:
        ok = np.nonzero(rec >= target - 1e-12)[0]
        ok = [i for i in ok if last[i]]
        if not ok:
            continue
        i = ok[0]
        if i in shown:
            continue
        shown.add(i)
        flagged = set(k for k, _ in items[:i + 1])
        perk = ["%.2f" % (sum(1 for key in truth_keys if kind_of[key] == kd and key in flagged) / max(1, nk[kd]))
                for kd in kinds]
        print("  %8d %8d %8.3f %8.3f | %6s %6s %6s | %.4g" % (i + 1, tp[i], rec[i], prec[i], *perk, items[i][1]),
              file=out)
    # also the points at precision 0.9/0.8/0.5 (largest recall)
    for pt in (0.95, 0.9, 0.8, 0.5, 0.3):
        ok = [i for i in range(len(rec)) if last[i] and prec[i] >= pt]
        if ok:
            i = max(ok, key=lambda i: rec[i])
            print("  max recall with precision>=%.2f: recall %.3f (flag %d, TP %d)" % (pt, rec[i], i + 1, tp[i]),
                  file=out)
    return best_p_at_r90, best_r_at_p80


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--towns", type=int, default=600)
    ap.add_argument("--anomalies", type=int, default=150)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--combo-thresh", type=float, default=1e-4,
                    help="compute overlapping (whole anomaly + part down-jump) pairs in a family when some "
                         "single hypothesis has prior*LR above this")
    ap.add_argument("--no-simple", action="store_true")
    ap.add_argument("--pool", choices=["true", "model"], default="true",
                    help="true: the generator's pool (clean last-year mean >= 8) is known; model: only the "
                         "model-implied probability of being in the pool")
    ap.add_argument("--no-joint", action="store_true",
                    help="sensitivity: score each whole alone and each part against its observed whole")
    ap.add_argument("--mu-noise", type=float, default=0.0, help="sensitivity: per-series lognormal error on mu")
    ap.add_argument("--p-noise", type=float, default=0.0, help="sensitivity: per-series logit error on p")
    ap.add_argument("--noise-seed", type=int, default=0)
    ap.add_argument("--dump", default="", help="write per-key scores (csv) to this path")
    ap.add_argument("--limit", type=int, default=0, help="debug: only first N families")
    ap.add_argument("--work", default="/tmp/pingan-oracle",
                    help="where the patched generator and its data sets are written")
    a = ap.parse_args()
    datadir = os.path.join(a.work, "data%d_%d_%d" % (a.seed, a.towns, a.anomalies))
    if not os.path.exists(os.path.join(datadir, "oracle_truth.csv")):
        os.makedirs(a.work, exist_ok=True)
        gen = oracle_generator(a.work)
        subprocess.check_call([sys.executable, gen, "--out", datadir,
                               "--seed", str(a.seed), "--towns", str(a.towns), "--anomalies", str(a.anomalies)])
    t0 = time.time()
    params, vals, pool, anomalies, truth, year = load(datadir)
    if a.pool == "model":
        mp_ = model_pool(params)
        sizes = {e: set(r for r, pr in d.items() if pr >= 0.5) for e, d in mp_.items()}
        pri = mc_priors(sizes, a.anomalies)
        pool = defaultdict(dict, mp_)
        print("model pool: %d candidate series (true pool %d)" % (sum(len(d) for d in mp_.values()),
                                                                   sum(len(v) for v in load_pool_true(datadir).values())),
              file=sys.stderr)
    else:
        pri = mc_priors(pool, a.anomalies)
    fams = build_families(params, vals, pool, joint=not a.no_joint, mu_noise=a.mu_noise, p_noise=a.p_noise,
                          noise_seed=a.noise_seed)
    if a.limit:
        fams = fams[:a.limit]
    print("loaded %d families in %.1fs" % (len(fams), time.time() - t0), file=sys.stderr)
    # interleave big and small families across workers
    chunks = [fams[i::a.workers * 8] for i in range(a.workers * 8)]
    jobs = [(c, pri, pool, a.combo_thresh, not a.no_simple) for c in chunks]
    if a.workers > 1:
        import multiprocessing as mp
        with mp.Pool(a.workers) as P:
            results = P.map(work, jobs)
    else:
        results = list(map(work, jobs))
    post, lrmax, simple, ncombo = {}, {}, {}, 0
    lrkind = defaultdict(dict)
    for chunk in results:
        for postk, lrs, simp, nc in chunk:
            post.update(postk)
            simple.update(simp)
            ncombo += nc
            for (key, kind), v in lrs.items():
                lrkind[key][kind] = v
                lrmax[key] = max(lrmax.get(key, NEG), v)
    print("scored in %.1fs (%d families with overlapping pair hypotheses)" % (time.time() - t0, ncombo),
          file=sys.stderr)
    kind_of = {}
    for r in anomalies:
        kind_of[(r["region"], r["element"], int(r["period"][5:]))] = r["kind"]
    truth_keys = set(kind_of)
    for key in truth_keys:   # every listed key is inside a scored series (pool); make sure it is scored
        post.setdefault(key, NEG)
        lrmax.setdefault(key, NEG)
        simple.setdefault(key, 0.0)
    if a.dump:
        with open(a.dump, "w", newline="") as f:
            wr = csv.writer(f)
            wr.writerow(["region", "element", "month", "log_post", "log_lrmax", "simple", "truth"])
            for key in sorted(post):
                wr.writerow([*key, "%.6g" % post[key], "%.6g" % lrmax.get(key, NEG), "%.4g" % simple.get(key, 0.0),
                             kind_of.get(key, "")])
    out = sys.stdout
    print("seed %d: %d injected spike/jump/run keys (spike %d, jump %d, run %d); %d candidate keys scored"
          % (a.seed, len(truth_keys), *[sum(1 for v in kind_of.values() if v == kd) for kd in ("spike", "jump", "run")],
             len(post)), file=out)
    print("sum of posteriors over all keys = %.1f (expected number of listed anomalies)" % sum(
        math.exp(v) for v in post.values()), file=out)
    res = {}
    res["post"] = summarize("ORACLE Bayes posterior per key (family joint, priors, all kinds)", post, truth_keys,
                            kind_of, out)
    res["lrmax"] = summarize("ORACLE max-over-kinds likelihood ratio per key (no priors)", lrmax, truth_keys,
                             kind_of, out)
    if not a.no_simple:
        res["simple"] = summarize("SIMPLE exact tail probabilities (point / 3-month sum / m..Dec sum)", simple,
                                  truth_keys, kind_of, out)
    # calibration of the posterior
    print("\nposterior calibration (bin: keys, expected TP = sum post, observed TP):", file=out)
    ps = np.array([math.exp(v) for v in post.values()])
    ist = np.array([k in truth_keys for k in post])
    for lo, hi in ((0, 1e-3), (1e-3, 0.01), (0.01, 0.1), (0.1, 0.3), (0.3, 0.5), (0.5, 0.7), (0.7, 0.9),
                   (0.9, 0.99), (0.99, 1.01)):
        sel = (ps >= lo) & (ps < hi)
        print("  [%.3g,%.3g): %7d keys, expected %6.1f, observed %4d" % (lo, hi, sel.sum(), ps[sel].sum(),
                                                                        ist[sel].sum()), file=out)
    # per-anomaly listing
    rank_post = {k: i for i, (k, _) in enumerate(sorted(post.items(), key=lambda kv: -kv[1]))}
    print("\ninjected anomalies, weakest first (posterior, rank, log10 LR of true kind, best log10 LR of any kind, "
          "simple -log10 p):", file=out)
    rows = []
    for key in truth_keys:
        kd = kind_of[key]
        tr = truth.get(key)
        tkind = tr["kind"] if tr else kd
        lkind = {"spike": "spike", "run": "run", "jump": "jump", "jump_down": "down"}[tkind]
        l_true = lrkind.get(key, {}).get(lkind, NEG) / math.log(10)
        rows.append((math.exp(post[key]), key, tkind, rank_post.get(key, -1), l_true, lrmax[key] / math.log(10),
                     simple[key], tr))
    rows.sort(key=lambda r: r[0])
    for p, key, tkind, rk, lt, lm, sm, tr in rows:
        print("  %.3g rank %5d %-9s %s %-24s m=%2d  log10LR %7.2f (max %7.2f) simple %6.2f  clean=[%s] obs=[%s]"
              % (p, rk, tkind, key[0], key[1], key[2], lt, lm, sm, tr["clean"] if tr else "",
                 tr["observed"] if tr else ""), file=out)
    print("\nHEADLINE seed %d: best precision at recall>=0.9 = %.3f ; best recall at precision>=0.8 = %.3f"
          % (a.seed, *res["post"]), file=out)
    print("elapsed %.1fs" % (time.time() - t0), file=sys.stderr)


if __name__ == "__main__":
    main()
