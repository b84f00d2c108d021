#!/usr/bin/env python3
"""Held-out synthetic province for measuring `pingan check` on data the project's own
generator did not make.  Standard library only, deterministic for a given --seed.

    python3 heldout_gen.py --out DIR [--seed N] [--towns 600] [--years 2022-2024] [--anomalies 150]

Writes DIR/regions.csv, DIR/values.csv, DIR/anomalies.csv (and DIR/benchmarks.csv, so that
`pingan score` has the national_criminal_rate it needs).  Only the built-in framework's
element codes and the rules file's validation rules are relied on; the model is our own.
"""
import argparse
import csv
import itertools
import math
import os
import random
import sys

# The Spring Festival moves between January and February; holiday effects must move with it,
# otherwise same-month-last-year comparisons would be unrealistically easy.
SPRING_FESTIVAL = {2019: 2, 2020: 1, 2021: 2, 2022: 2, 2023: 1, 2024: 2, 2025: 1, 2026: 2, 2027: 2, 2028: 1}

# Base flows: (code, events per 10k residents per month, urban elasticity, log-trend per year,
#              typical NB shape k (smaller = more overdispersed), seasonal components, department)
BASE_FLOWS = [
    ("criminal_cases", 0.9, 0.4, -0.04, 25, [("summer", .18), ("sf_dip", .15)], "公安"),
    ("public_order_cases", 1.6, 0.3, -0.02, 20, [("summer", .25)], "公安"),
    ("major_cases", 0.001, 0.0, 0.0, 2, [], "公安"),
    ("fraud_cases", 0.5, 0.9, 0.12, 15, [("yearend", .20), ("sf_peak", .15)], "公安"),
    ("work_accident_deaths", 0.012, -0.3, -0.08, 3, [("summer", .30)], "应急"),
    ("hazards_found", 3.0, 0.0, 0.05, 8, [("june", .90), ("sf_peak", .30)], "应急"),
    ("fire_incidents", 0.35, 0.2, 0.0, 15, [("winter", .35), ("sf_peak", .50)], "应急"),
    ("food_samples", 2.2, 0.3, 0.04, 10, [("sf_peak", .40), ("june", .20)], "市场监管"),
    ("outbreak_events", 0.01, 0.3, 0.0, 2, [("winter", .60)], "卫健"),
    ("medical_incidents", 4.0, 0.4, 0.03, 50, [("winter", .20)], "卫健"),
    ("pi_complaints", 0.25, 1.0, 0.10, 10, [], "网信"),
    ("rumours", 0.35, 0.6, 0.0, 6, [("yearend", .10)], "网信"),
    ("disputes", 3.0, 0.1, -0.03, 20, [("sf_peak", .35)], "政法委"),
    ("grid_events", 30.0, 0.5, 0.06, 30, [("summer", .15), ("sf_dip", .20)], "政法委"),
    ("civil_mediations", 1.6, 0.0, -0.02, 20, [("sf_peak", .25)], "司法"),
    ("petitions", 0.9, 0.2, -0.05, 12, [("sf_dip", .30)], "信访"),
]
# Derived counts, drawn as binomials of their base so numerator <= denominator always holds:
# (code, base, success probability range, log-odds trend per year). Order = dependency order.
DERIVED = [
    ("public_order_solved", "public_order_cases", (.86, .98), .05),
    ("fraud_solved", "fraud_cases", (.30, .75), .08),
    ("hazards_fixed", "hazards_found", (.88, .995), .05),
    ("food_samples_passed", "food_samples", (.97, .997), .0),
    ("pi_complaints_timely", "pi_complaints", (.85, .99), .05),
    ("rumours_handled_timely", "rumours", (.85, .99), .05),
    ("key_area_screenings", "key_area_screenings_required", (.75, 1.0), .10),
    ("disputes_resolved", "disputes", (.85, .98), .03),
    ("grid_events_timely", "grid_events", (.88, .995), .05),
    ("joint_events", "grid_events", (.04, .15), .0),
    ("joint_events_timely", "joint_events", (.82, .98), .05),
    ("civil_mediation_success", "civil_mediations", (.80, .96), .0),
    ("agreements", "civil_mediation_success", (.55, .90), .0),
    ("agreements_fulfilled", "agreements", (.90, .995), .0),
    ("repeat_petitions", "petitions", (.08, .30), -.10),
    ("petitions_due", "petitions", (.80, .97), .0),
    ("petitions_closed_on_time", "petitions_due", (.88, .995), .05),
]
# Response-time totals: sum over incidents of a per-incident time (gamma), so the ratio is a mean.
RESPONSE = [("fire_response_minutes", "fire_incidents", (7, 16)),
            ("outbreak_response_hours", "outbreak_events", (1.0, 3.5)),
            ("medical_response_minutes", "medical_incidents", (10, 20))]
# Anomaly targets.  Raising a pure denominator, or lowering a pure numerator, can never break an
# `a <= b` rule, so no partner has to be touched (touching it would plant an unlisted anomaly).
# Compulsory-pair elements and the fixed requirement series are left alone.
UP_OK = ["criminal_cases", "public_order_cases", "fraud_cases", "hazards_found", "food_samples",
         "pi_complaints", "rumours", "disputes", "grid_events", "civil_mediations", "petitions"]
DOWN_OK = ["criminal_cases", "public_order_solved", "fraud_solved", "hazards_fixed", "food_samples_passed",
           "pi_complaints_timely", "rumours_handled_timely", "key_area_screenings", "disputes_resolved",
           "grid_events_timely", "joint_events_timely", "agreements_fulfilled", "repeat_petitions",
           "petitions_closed_on_time"]
# Snapshot pairs (numerator, denominator, final-ratio range, year-to-date?).  Coverage counts are
# cumulative from January (framework: 覆盖类为年初至期末累计), states are end-of-month levels.
SNAP_PAIRS = [
    ("monitored_area", "required_monitored_area", (.82, .995), False),
    ("patrol_teams", "patrol_teams_required", (.70, 1.0), False),
    ("transit_checked", "transit_total", (.85, 1.0), True),
    ("lighting_ok", "lighting_total", (.80, 1.0), False),
    ("safety_trained", "safety_training_required", (.75, 1.0), True),
    ("supplies_ok_items", "supplies_required_items", (.80, 1.0), False),
    ("vaccinated", "vaccination_target", (.85, .99), True),
    ("villages_screened", "villages", (.90, 1.0), True),
    ("grid_workers_trained", "grid_workers", (.75, 1.0), True),
    ("industries_with_mediation", "industries_required", (.50, 1.0), False),
    ("villages_with_legal_adviser", "villages", (.85, 1.0), False),
    ("law_educated", "population", (.82, .97), True),
    ("communities_with_facilities", "communities", (.70, 1.0), False),
    ("social_orgs_participating", "social_orgs", (.30, .90), False),
    ("backlog_resolved", "backlog_cases", (.40, .95), True),
    ("safety_volunteers", "population", (.004, .025), False),
]
RATINGS = ["campus_order_rating", "reward_mechanism_rating", "cii_protection_rating", "enforcement_rating"]
SURVEYS = ["elderly_child_satisfaction", "safety_index", "night_safety_satisfaction", "police_satisfaction",
           "food_confidence", "traffic_confidence", "environment_confidence", "service_convenience",
           "dispute_channel_convenience"]
SYLL = "安宁平和丰泰兴隆长乐永清新东西南北江河山川湖溪石桥林松柏梅桃杏云龙凤鹤金银玉宝华光明阳春秋青白红黄" \
       "城关沙坪坝田庄园岭峰岗塘湾浦洲港水源泉坡岩台营寨堡集店铺家"


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def poisson(self, lam):
        if lam <= 0:
            return 0
        if lam < 30:  # inversion by sequential search
            k, p = 0, math.exp(-lam)
            s, u = p, self.r.random()
            while u > s and k < 1000:
                k += 1
                p *= lam / k
                s += p
            return k
        # PTRS transformed rejection (Hörmann 1993), exact for large means
        slam, loglam = math.sqrt(lam), math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        inva, vr = 1.1239 + 1.1328 / (b - 3.4), 0.9277 - 3.6224 / (b - 2)
        while True:
            u, v = self.r.random() - 0.5, self.r.random()
            us = 0.5 - abs(u)
            k = math.floor((2 * a / us + b) * u + lam + 0.43)
            if us >= 0.07 and v <= vr:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if (math.log(v) + math.log(inva) - math.log(a / (us * us) + b)
                    <= -lam + k * loglam - math.lgamma(k + 1)):
                return k

    def negbin(self, mu, k):
        # gamma-Poisson mixture: Var = mu + mu^2/k
        return self.poisson(mu * self.r.gammavariate(k, 1.0 / k)) if mu > 0 else 0

    def binom(self, n, p):
        if n <= 0 or p <= 0:
            return 0
        if p >= 1:
            return n
        q = min(p, 1 - p)
        if n * q > 40:
            x = min(n, max(0, round(self.r.gauss(n * q, math.sqrt(n * q * (1 - q))))))
        else:  # geometric skipping: exact and O(n*q)
            lq, x, i = math.log(1 - q), 0, 0
            while True:
                i += int(math.log(1.0 - self.r.random()) / lq) + 1
                if i > n:
                    break
                x += 1
        return x if p <= 0.5 else n - x


def season(shapes, m, year):
    """Multiplicative seasonal factor for calendar month m (1..12)."""
    f, sf = 1.0, SPRING_FESTIVAL.get(year, 2)
    for shape, a in shapes:
        if shape == "summer":
            f *= 1 + a * math.cos(2 * math.pi * (m - 7.5) / 12)
        elif shape == "winter":
            f *= 1 + a * math.cos(2 * math.pi * (m - 0.5) / 12)
        elif shape == "sf_dip":  # holiday month quiet, the next one catches up a little
            f *= 1 - a if m == sf else (1 + a / 3 if m == sf + 1 else 1)
        elif shape == "sf_peak":  # the run-up to the holiday is busy
            f *= 1 + a if m == sf else (1 + a / 2 if m == sf - 1 else 1)
        elif shape == "june":  # 安全生产月 and similar campaign months
            f *= 1 + a if m == 6 else (1 + a / 4 if m == 5 else 1)
        elif shape == "yearend":
            f *= 1 + a if m == 12 else (1 + a / 3 if m == 11 else 1)
    return f


def interp(anchors, t):
    """Piecewise-linear interpolation of per-year anchors placed at mid-year, so level drift is
    smooth rather than a January step."""
    x = (t - 5.5) / 12.0
    if x <= 0:
        return anchors[0]
    j = int(x)
    if j >= len(anchors) - 1:
        return anchors[-1]
    return anchors[j] + (x - j) * (anchors[j + 1] - anchors[j])


def split(g, total, parts, lo):
    """Split total into parts (each >= lo) with gamma-distributed, i.e. uneven, shares."""
    w = [g.r.gammavariate(2.0, 1.0) for _ in range(parts)]
    rest = total - lo * parts
    out = [lo + int(rest * x / sum(w)) for x in w]
    for i in range(total - sum(out)):
        out[i % parts] += 1
    return out


def build_regions(g, towns):
    used = set()

    def name(suffix):
        while True:
            s = g.r.choice(SYLL) + g.r.choice(SYLL)
            if s[0] != s[1] and s + suffix not in used:
                used.add(s + suffix)
                return s + suffix
    ncity = max(1, round(towns / 75))
    ncounty = max(ncity, min(round(towns / 10), towns))
    prov = "360000"
    regions = [(prov, "某某省", "", "province")]
    townships = []  # (code, city index, urban?, population)
    per_city = split(g, ncounty, ncity, 1)
    per_county = split(g, towns, ncounty, 1 if towns < 3 * ncounty else 3)
    ci = 0
    for c in range(ncity):
        ccode = "36%02d00" % (c + 1)
        regions.append((ccode, name("市"), prov, "city"))
        for k in range(per_city[c]):
            urban = k < max(1, per_city[c] // 4)  # the first counties are urban districts (区)
            kcode = "36%02d%02d" % (c + 1, k + 2 if urban else k + 21)
            regions.append((kcode, name("区" if urban else "县"), ccode, "county"))
            for j in range(per_county[ci]):
                # township sizes span two orders of magnitude; districts' 街道 are bigger
                pop = int(min(4e5, max(1500, 10 ** g.r.gauss(4.6 if urban else 4.2, 0.38))))
                kind = "街道" if urban and j % 3 != 2 else ("镇" if g.r.random() < 0.7 else "乡")
                code = kcode + "%03d" % ((j + 1) if kind == "街道" else (100 + j + 1))
                regions.append((code, name(kind), kcode, "township"))
                townships.append((code, c, urban, pop))
            ci += 1
    return regions, townships, ncity


def simulate(g, townships, ncity, years):
    T, ny = 12 * len(years), len(years)
    # Correlated city-wide shocks: some months one department's whole city runs 10-20 % higher.
    depts = sorted({d for *_, d in BASE_FLOWS})
    shock = {}
    for c in range(ncity):
        for t in range(T):
            if g.r.random() < 0.05:
                shock[(c, t, g.r.choice(depts))] = g.r.uniform(1.10, 1.20)
    vals, model = {}, {}
    for code, city, urban, pop0 in townships:
        v, md = {}, {}
        u = g.r.uniform(0.6, 1.0) if urban else g.r.uniform(0.0, 0.5)
        growth = g.r.uniform(-0.015, 0.02)
        pop = [int(pop0 * math.exp(growth * t / 12)) for t in range(T)]
        v["population"] = pop
        for e, rate, elast, trend, k0, shapes, dept in BASE_FLOWS:
            prop = math.exp(g.r.gauss(0, 0.35) + elast * (u - 0.5) * 1.5)
            k = k0 * math.exp(g.r.gauss(0, 0.4))
            amps = [(s, a * g.r.uniform(0.6, 1.4)) for s, a in shapes]
            tr = trend + g.r.gauss(0, 0.03)
            anchors = [0.0]
            for _ in range(ny - 1):  # year-to-year drift of up to about +-30 %
                anchors.append(anchors[-1] + tr + max(-0.3, min(0.3, g.r.gauss(0, 0.13))))
            mus = [rate * pop[t] / 1e4 * prop * math.exp(interp(anchors, t)) * season(amps, t % 12 + 1,
                   years[t // 12]) * shock.get((city, t, dept), 1.0) for t in range(T)]
            # tiny series get an occasional nil return on top of the NB zeros
            v[e] = [0 if mu < 1.5 and g.r.random() < 0.04 else g.negbin(mu, k) for mu in mus]
            md[e] = (mus, k)
        # A fixed requirement, with an extra screening due at each quarter's end.
        base_req = 2 + round(pop0 / 15000)
        v["key_area_screenings_required"] = [base_req + (1 if t % 3 == 2 else 0) for t in range(T)]
        for e, src, (plo, phi), tr in DERIVED:
            lo0 = g.r.uniform(plo, phi)
            lo0 = math.log(lo0 / (1 - lo0)) if lo0 < 1 else 6.0
            anchors = [lo0]
            for _ in range(ny - 1):  # the success rate drifts on the log-odds scale
                anchors.append(anchors[-1] + tr + g.r.gauss(0, 0.15))
            v[e] = [g.binom(v[src][t], min(phi, 1 / (1 + math.exp(-interp(anchors, t))))) for t in range(T)]
        for e, src, (lo, hi) in RESPONSE:
            mean = g.r.uniform(lo, hi) * (0.8 if urban else 1.1)
            v[e] = [round(g.r.gammavariate(4 * n, mean / 4), 1) if n > 0 else 0 for n in v[src]]
        snapshots(g, v, pop0, u, T, ny)
        vals[code], model[code] = v, md
    return vals, model


def snapshots(g, v, pop0, u, T, ny):
    def steady(base, drift=0.02):  # slowly moving stock, integer
        gr = g.r.uniform(-drift, drift * 2)
        return [max(1, round(base * math.exp(gr * t / 12))) for t in range(T)]
    r = g.r.uniform
    v["required_monitored_area"] = steady(pop0 * r(0.8, 2.5), 0.05)
    v["patrol_teams_required"] = steady(max(1, pop0 / 9000), 0.0)
    v["transit_total"] = steady(max(2, pop0 / 400 * r(0.5, 1.5)))
    v["lighting_total"] = steady(max(2, pop0 / 2500 * r(0.5, 1.5)))
    v["safety_training_required"] = steady(pop0 * r(0.01, 0.04))
    v["supplies_required_items"] = [g.r.randint(20, 45)] * T
    v["vaccination_target"] = steady(pop0 * r(0.008, 0.015))
    v["villages"] = steady(max(3, pop0 / 1800 * r(0.6, 1.4)), 0.0)
    v["grid_workers"] = steady(pop0 / 500 * r(0.6, 1.4))
    v["industries_required"] = [g.r.randint(2, 8)] * T
    v["communities"] = steady(max(1, pop0 / 1800 * r(0.1, 0.5) * (1 + u)), 0.0)
    v["social_orgs"] = steady(max(2, pop0 / 2000 * r(0.5, 1.5)))
    # Backlog: a stock carried into each year plus a trickle of cases that become backlog.
    v["backlog_cases"] = []
    for _ in range(ny):
        stock = g.negbin(pop0 / 20000, 3)
        v["backlog_cases"] += list(itertools.accumulate([stock] + [g.r.random() < 0.05 for _ in range(11)]))
    for num, den, (lo, hi), ytd in SNAP_PAIRS:
        anchors = [r(lo, hi)]
        for _ in range(ny - 1):  # coverage tends to improve year on year
            anchors.append(min(hi, max(lo, anchors[-1] * (1 + g.r.gauss(0.015, 0.035)))))
        start, gam = r(0.45, 0.8), r(0.7, 1.5)
        ratio = [anchors[t // 12] * (start + (1 - start) * ((t % 12 + 1) / 12) ** gam) if ytd
                 else interp(anchors, t) for t in range(T)]
        v[num] = [min(d, max(0, round(d * x))) for d, x in zip(v[den], ratio)]


def inject(g, vals, model, years, n):
    """Plant spikes, jumps and runs in the last year; returns [(region, element, period, kind)]."""
    last = 12 * (len(years) - 1)
    pool = {e: [c for c in sorted(vals) if sum(vals[c][e][last:]) / 12 >= 8] for e in set(UP_OK + DOWN_OK)}
    used, out = set(), []
    kinds = [("spike", "jump", "run")[i % 3] for i in range(n)]
    g.r.shuffle(kinds)
    for kind in kinds:
        down = kind == "jump" and g.r.random() < 0.5
        elems = [e for e in (DOWN_OK if down else UP_OK) if any((c, e) not in used for c in pool[e])]
        if not elems:
            continue
        e = g.r.choice(elems)
        c = g.r.choice([c for c in pool[e] if (c, e) not in used])
        used.add((c, e))
        xs = vals[c][e]
        mean = sum(xs[last:]) / 12
        if kind == "spike":
            m = g.r.randint(1, 12)
            t = last + m - 1
            xs[t] = round(max(xs[t], mean) * g.r.uniform(2.5, 6.0))
        elif kind == "jump":
            m = g.r.randint(3, 12)
            f = g.r.uniform(0.2, 0.45) if down else g.r.uniform(2.0, 3.0)
            for t in range(last + m - 1, last + 12):
                xs[t] = round(xs[t] * f) if down else max(round(xs[t] * f), round(mean * (f - 1)))
        else:
            m = g.r.randint(3, 12)
            mus, k = model[c][e]
            for t in range(last + m - 3, last + m):
                sd = math.sqrt(mus[t] + mus[t] ** 2 / k)  # the model's own NB noise at t
                xs[t] += max(1, round(g.r.uniform(1.8, 3.0) * sd))
        out.append((c, e, "%d-%02d" % (years[-1], m), kind))
    return sorted(out)


def annual(g, townships, years):
    """Expert ratings (0-100) and survey means (1-5): a persistent town effect, a shared
    'how satisfied is this town' factor across survey items, and yearly sampling noise."""
    rows = []
    for code, *_ in townships:
        mood = g.r.gauss(0, 0.15)
        reff = {e: g.r.gauss(0, 6) for e in RATINGS}
        seff = {e: g.r.gauss(0, 0.1) for e in SURVEYS}
        for i, y in enumerate(years):
            for e in RATINGS:
                x = 80 + i + reff[e] + g.r.gauss(0, 4)
                rows.append((code, str(y), e, "%.1f" % min(99.5, max(45, x))))
            for e in SURVEYS:
                x = 4.15 + 0.03 * i + mood + seff[e] + g.r.gauss(0, 0.08)
                rows.append((code, str(y), e, "%.2f" % min(4.95, max(2.5, x))))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--towns", type=int, default=600)
    ap.add_argument("--years", default="2022-2024")
    ap.add_argument("--anomalies", type=int, default=150)
    a = ap.parse_args()
    y0, _, y1 = a.years.partition("-")
    years = list(range(int(y0), int(y1 or y0) + 1))
    g = Gen(a.seed)
    regions, townships, ncity = build_regions(g, max(1, a.towns))
    vals, model = simulate(g, townships, ncity, years)
    # Everything clean is drawn before injecting, so --anomalies 0 gives the identical clean file.
    ann = annual(g, townships, years)
    bench = []  # near the province's own clean rate, per 100k residents per year
    for i, y in enumerate(years):
        cases = sum(sum(vals[c]["criminal_cases"][12 * i:12 * i + 12]) for c, *_ in townships)
        popn = sum(vals[c]["population"][12 * i + 11] for c, *_ in townships)
        bench.append(("national_criminal_rate", y, "%.1f" % (cases / popn * 1e5 * g.r.uniform(0.95, 1.1))))
    anomalies = inject(g, vals, model, years, a.anomalies)
    os.makedirs(a.out, exist_ok=True)

    def write(fname, header, rows):
        with open(os.path.join(a.out, fname), "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            w.writerows(rows)
    monthly = ((code, "%d-%02d" % (years[t // 12], t % 12 + 1), e, str(v[e][t]) if isinstance(v[e][t], int) else "%.1f" % v[e][t])
               for code, v in ((c, vals[c]) for c, *_ in townships)
               for t in range(12 * len(years)) for e in v)
    rows = len(townships) * 12 * len(years) * len(vals[townships[0][0]]) + len(ann)
    write("regions.csv", ["code", "name", "parent", "level"], regions)
    write("values.csv", ["region", "period", "element", "value"], itertools.chain(monthly, ann))
    write("anomalies.csv", ["region", "element", "period", "kind"], anomalies)
    write("benchmarks.csv", ["benchmark", "period", "value"], bench)
    by = {k: sum(1 for *_, kk in anomalies if kk == k) for k in ("spike", "jump", "run")}
    print("heldout_gen: %d towns (%d counties, %d cities), %d value rows, %d anomalies (spike %d, jump %d, run %d)"
          % (len(townships), sum(1 for r in regions if r[3] == "county"), ncity, rows, len(anomalies),
             by["spike"], by["jump"], by["run"]), file=sys.stderr)


if __name__ == "__main__":
    main()
