#!/usr/bin/env python3
"""Independent reference implementation of /work/shared/spec/survey.md (used only by tests).

Written from the spec text alone (standard library only, Python 3.11).

  survey_reference.py size --margin M [--confidence C] [--population N] [--deff D] [--response-rate R]
  survey_reference.py plan --regions R --frame F --size N [--allocation proportional|equal] [--min 30]
                           [--response-rate 0.893]
  survey_reference.py estimate --form F.xlsx --regions R --frame F --responses R.csv [--margins M.csv]
                               [--min-n 30]
  survey_reference.py selftest

Any input problem: message on stderr, exit 1.
"""
import argparse, csv, io, json, math, operator, os, posixpath, re, shutil, sys, tempfile, zipfile
import xml.etree.ElementTree as ET
from datetime import date, datetime
from fractions import Fraction
from statistics import NormalDist

Z95 = 1.959963984540054
ANSWERABLE = {"select_one", "select_multiple", "integer", "decimal", "text", "date"}
FIXED_COLS = ["instance_id", "form_version", "region", "channel", "started", "submitted"]
CHANNELS = {"online", "interview", "paper", "hotline"}

class InputError(Exception):
    pass

def die(msg):
    raise InputError(msg)

# ----------------------------------------------------------------------------------------------- CSV
def read_csv(path):
    """-> (header, [(line_no, {col: value})]); UTF-8 (BOM optional) or GB18030."""
    raw = open(path, "rb").read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    if not rows:
        die(f"{path}: empty file")
    header = [h.strip() for h in rows[0]]
    out = []
    for i, r in enumerate(rows[1:], start=2):
        if not r or all(not c.strip() for c in r):
            continue
        if len(r) > len(header):
            die(f"{path}:{i}: too many fields")
        out.append((i, {h: (r[k] if k < len(r) else "") for k, h in enumerate(header)}))
    return header, out

def read_regions(path):
    """-> ordered dict code -> {name, parent, level}; plus children map."""
    _, rows = read_csv(path)
    regions = {}
    for ln, r in rows:
        code = r.get("code", "").strip()
        if not code or code in regions:
            die(f"{path}:{ln}: missing or duplicate code")
        level = r.get("level", "").strip()
        if level not in ("province", "city", "county", "township"):
            die(f"{path}:{ln}: bad level {level!r}")
        regions[code] = {"parent": r.get("parent", "").strip(), "level": level}
    children = {c: [] for c in regions}
    for c, info in regions.items():
        if info["parent"]:
            if info["parent"] not in regions:
                die(f"{path}: unknown parent {info['parent']}")
            children[info["parent"]].append(c)
    return regions, children

def subtree(children, code):
    out, stack = set(), [code]
    while stack:
        c = stack.pop()
        if c not in out:
            out.add(c)
            stack.extend(children[c])
    return out

def read_frame(path, regions, children):
    """-> ordered dict region -> population (int); frame regions must be base regions."""
    _, rows = read_csv(path)
    frame = {}
    for ln, r in rows:
        code = r.get("region", "").strip()
        if code not in regions or children[code] or code in frame:
            die(f"{path}:{ln}: {code!r} is not a (new) base region")
        pop = r.get("population", "").strip()
        if not pop.isdigit():
            die(f"{path}:{ln}: bad population {pop!r}")
        frame[code] = int(pop)
    return frame

# ---------------------------------------------------------------------------------------------- size
def cmd_size(margin, confidence=0.95, population=None, deff=1.0, rate=1.0):
    # z: exact two-sided quantile; the spec's constant at 0.95 (inv_cdf differs in the last bit there)
    z = Z95 if confidence == 0.95 else NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    n = z * z * 0.25 / (margin * margin)
    if population is not None:
        n = n / (1 + (n - 1) / population)
    return math.ceil(n * deff / rate)

# ---------------------------------------------------------------------------------------------- plan
def cmd_plan(frame, size, allocation="proportional", m=30, rate="0.893"):
    """-> list of (region, population, target, invitations) in frame order."""
    target = {r: min(m, p) for r, p in frame.items()}
    rest = size - sum(target.values())
    if rest < 0:
        die("size smaller than the sum of the minimums")
    cap = {r: frame[r] - target[r] for r in frame}          # room left below the population
    active = [r for r in frame if cap[r] > 0]
    shares = {}
    while True:                                              # cap over-allocated regions, re-share
        if rest > 0 and not active:
            die("size larger than the total population")
        if allocation == "equal":
            s = {r: Fraction(rest, len(active)) for r in active} if active else {}
        else:
            tot = sum(frame[r] for r in active)
            s = {r: Fraction(rest * frame[r], tot) for r in active} if tot else {r: Fraction(0) for r in active}
            if rest > 0 and not tot:
                die("no population to share over")
        over = [r for r in active if s[r] > cap[r]]
        if not over:
            shares.update(s)
            break
        for r in over:
            shares[r] = Fraction(cap[r])
            rest -= cap[r]
        active = [r for r in active if r not in over]
    for r in frame:
        shares.setdefault(r, Fraction(0))
    floors = {r: shares[r].numerator // shares[r].denominator for r in frame}
    left = sum(shares.values()) - sum(floors.values())      # an integer
    order = sorted(frame, key=lambda r: (-(shares[r] - floors[r]), r))
    for r in order[: int(left)]:
        floors[r] += 1
    q = Fraction(str(rate))
    ceil = lambda x: -((-x.numerator) // x.denominator)
    return [(r, frame[r], target[r] + floors[r], ceil((target[r] + floors[r]) / q)) for r in frame]

# ---------------------------------------------------------------------------------------------- xlsx
def _local(tag):
    return tag.rsplit("}", 1)[-1]

def _text_of(el):
    """Concatenated <t> text of a shared string / inline string, skipping phonetic runs."""
    parts = []
    for ch in el:
        n = _local(ch.tag)
        if n == "t":
            parts.append(ch.text or "")
        elif n == "r":
            parts.extend(t.text or "" for t in ch if _local(t.tag) == "t")
    return "".join(parts)

def col_index(ref):
    """'C7' -> 2."""
    n = 0
    for ch in re.match(r"[A-Za-z]+", ref).group(0).upper():
        n = n * 26 + ord(ch) - 64
    return n - 1

def read_xlsx(path):
    """-> {sheet name: [(row number, [cell strings])]}."""
    try:
        z = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as e:
        die(f"{path}: not an xlsx ({e})")
    names = set(z.namelist())
    shared = []
    if "xl/sharedStrings.xml" in names:
        shared = [_text_of(si) for si in ET.fromstring(z.read("xl/sharedStrings.xml"))
                  if _local(si.tag) == "si"]
    rels = {}
    for rel in ET.fromstring(z.read("xl/_rels/workbook.xml.rels")):
        tgt = rel.get("Target")
        rels[rel.get("Id")] = tgt.lstrip("/") if tgt.startswith("/") else posixpath.normpath("xl/" + tgt)
    sheets = {}
    for el in ET.fromstring(z.read("xl/workbook.xml")).iter():
        if _local(el.tag) != "sheet":
            continue
        rid = next(v for k, v in el.attrib.items() if _local(k) == "id")
        rows = []
        for row in ET.fromstring(z.read(rels[rid])).iter():
            if _local(row.tag) != "row":
                continue
            cells, nxt = [], 0
            for c in row:
                if _local(c.tag) != "c":
                    continue
                idx = col_index(c.get("r")) if c.get("r") else nxt
                nxt = idx + 1
                t = c.get("t", "n")
                v = next((ch.text or "" for ch in c if _local(ch.tag) == "v"), None)
                if t == "inlineStr":
                    val = next((_text_of(ch) for ch in c if _local(ch.tag) == "is"), "")
                elif v is None:
                    val = ""
                elif t == "s":
                    val = shared[int(v)]
                elif t == "b":
                    val = "true" if v.strip() == "1" else "false"
                elif t in ("str", "e"):
                    val = v
                else:                                        # number: 1 not 1.0, 0.1 not 0.1000…01
                    f = float(v)
                    val = str(int(f)) if f.is_integer() and abs(f) < 1e15 else repr(f)
                cells += [""] * (idx + 1 - len(cells))
                cells[idx] = val
            rnum = int(row.get("r")) if row.get("r") else (rows[-1][0] + 1 if rows else 1)
            rows.append((rnum, cells))
        sheets[el.get("name")] = rows
    return sheets

def sheet_records(sheets, name):
    """-> [(row number, {header: stripped value})], header = first row."""
    if name not in sheets:
        die(f"form: no sheet {name!r}")
    rows = sheets[name]
    if not rows:
        return []
    header = [h.strip() for h in rows[0][1]]
    return [(rn, {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header) if h})
            for rn, cells in rows[1:]]

# --------------------------------------------------------------------------------------- expressions
TOKEN = re.compile(r"""\s*(?:(?P<ref>\$\{[^}]*\})|(?P<num>\d+(?:\.\d*)?|\.\d+)|(?P<str>'[^']*'|"[^"]*")
    |(?P<op>!=|<=|>=|=|<|>|\+|-|\*|\(|\)|,)|(?P<dot>\.)|(?P<name>[A-Za-z_][A-Za-z0-9_\-]*))""", re.X)
NUM_STR = re.compile(r"^\s*-?(\d+(\.\d*)?|\.\d+)\s*$")
NUM_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "+": operator.add,
           "-": operator.sub, "*": operator.mul}

def tokenize(src):
    toks, pos, src = [], 0, src.rstrip()
    while pos < len(src):
        m = TOKEN.match(src, pos)
        if not m or m.end() == pos:
            die(f"bad expression {src!r} at {pos}")
        pos = m.end()
        toks.append((m.lastgroup, m.group(m.lastgroup)))
    return toks

def parse_expr(src):
    """Recursive descent -> AST of tuples. or < and < (= !=) < (< <= > >=) < (+ -) < (* div) < unary -."""
    toks, i = tokenize(src), [0]

    def peek():
        return toks[i[0]] if i[0] < len(toks) else (None, None)

    def take(val=None):
        t = peek()
        if t[0] is None or (val is not None and t[1] != val):
            die(f"bad expression {src!r}: expected {val or 'more'}")
        i[0] += 1
        return t

    def binary(sub, ops):
        def f():
            left = sub()
            while peek()[1] in ops and peek()[0] in ("op", "name"):
                op = take()[1]
                left = ("bin", op, left, sub())
            return left
        return f

    def unary():
        if peek() == ("op", "-"):
            take()
            return ("neg", unary())
        return primary()

    def primary():
        kind, val = take()
        if kind == "num":
            return ("lit", float(val))
        if kind == "str":
            return ("lit", val[1:-1])
        if kind == "ref":
            return ("ref", val[2:-1].strip())
        if kind == "dot":
            return ("dot",)
        if (kind, val) == ("op", "("):
            e = orx()
            take(")")
            return e
        if kind == "name" and val in ("not", "selected", "count-selected"):
            take("(")
            args = [orx()]
            while peek() == ("op", ","):
                take()
                args.append(orx())
            take(")")
            if len(args) != {"not": 1, "selected": 2, "count-selected": 1}[val]:
                die(f"bad expression {src!r}: wrong arguments to {val}()")
            return ("fn", val, args)
        die(f"bad expression {src!r}: unexpected {val!r}")

    mul = binary(unary, ("*", "div"))
    add = binary(mul, ("+", "-"))
    rel = binary(add, ("<", "<=", ">", ">="))
    eq = binary(rel, ("=", "!="))
    andx = binary(eq, ("and",))
    orx = binary(andx, ("or",))
    ast = orx()
    if peek()[0] is not None:
        die(f"bad expression {src!r}: trailing {peek()[1]!r}")
    return ast

def refs_of(ast):
    """Names referenced as ${name} anywhere in the AST."""
    if ast[0] == "ref":
        yield ast[1]
    for part in ast[1:]:
        for sub in (part if isinstance(part, list) else [part] if isinstance(part, tuple) else []):
            yield from refs_of(sub)

# XPath 1.0 conversions; values are bool, float or str
def to_num(v):
    if isinstance(v, (bool, float)):
        return float(v)
    return float(v) if NUM_STR.match(v) else math.nan

def to_bool(v):
    return v != 0 and not math.isnan(v) if isinstance(v, float) else bool(v)

def to_str(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return (str(int(v)) if v.is_integer() else repr(v)) if isinstance(v, float) else v

def evaluate(ast, answers, own):
    """answers: name -> string ('' when blank); own: the answer of '.'."""
    k = ast[0]
    if k == "lit":
        return ast[1]
    if k == "ref":
        return answers.get(ast[1], "")
    if k == "dot":
        return own
    if k == "neg":
        return -to_num(evaluate(ast[1], answers, own))
    if k == "fn":
        args = [evaluate(a, answers, own) for a in ast[2]]
        if ast[1] == "not":
            return not to_bool(args[0])
        if ast[1] == "selected":
            return to_str(args[1]).strip() in to_str(args[0]).split()
        return float(len(to_str(args[0]).split()))
    op, a, b = ast[1], evaluate(ast[2], answers, own), evaluate(ast[3], answers, own)
    if op == "or":
        return to_bool(a) or to_bool(b)
    if op == "and":
        return to_bool(a) and to_bool(b)
    if op in ("=", "!="):
        if isinstance(a, bool) or isinstance(b, bool):
            same = to_bool(a) == to_bool(b)
        elif isinstance(a, float) or isinstance(b, float):
            same = to_num(a) == to_num(b)                     # NaN equals nothing
        else:
            same = a == b
        return same if op == "=" else not same
    x, y = to_num(a), to_num(b)
    if op in NUM_OPS:
        return NUM_OPS[op](x, y)
    if y == 0:                                                # div: XPath infinities / NaN
        return math.nan if x == 0 or math.isnan(x) else math.copysign(math.inf, x)
    return x / y

# ---------------------------------------------------------------------------------------------- form
def load_form(path):
    sheets = read_xlsx(path)
    # choices: list -> {name: score or None}
    lists = {}
    for rn, r in sheet_records(sheets, "choices"):
        ln = r.get("list_name", r.get("list name", ""))
        if not ln:
            continue
        name, score = r.get("name", ""), r.get("score", "")
        if score:
            try:
                score = float(score)
            except ValueError:
                die(f"choices!{rn}: score {score!r} is not a number")
            if not 0 <= score <= 100:
                die(f"choices!{rn}: score out of 0..100")
        lists.setdefault(ln, {})[name] = score if score != "" else None
    questions, elements, groups, names = [], [], [], set()
    for rn, r in sheet_records(sheets, "survey"):
        typ = re.sub(r"\s+", " ", r.get("type", ""))
        if not typ:
            continue
        parts = typ.split(" ")
        base = {"begin group": "begin_group", "end group": "end_group"}.get(typ, parts[0])
        try:
            rel = parse_expr(r["relevant"]) if r.get("relevant") else None
            con = parse_expr(r["constraint"]) if r.get("constraint") else None
        except InputError as e:
            die(f"survey!{rn}: {e}")
        if base == "begin_group":
            groups.append(rel)
            continue
        if base == "end_group":
            if not groups:
                die(f"survey!{rn}: end_group without begin_group")
            groups.pop()
            continue
        if base in ("select_one", "select_multiple"):
            if len(parts) != 2:
                die(f"survey!{rn}: bad type {typ!r}")
            if parts[1] not in lists:
                die(f'survey!{rn}: 未知的选项列表 "{parts[1]}"')
        elif base not in ANSWERABLE | {"note"} or len(parts) != 1:
            die(f"survey!{rn}: unsupported type {typ!r}")
        name = r.get("name", "")
        if not name or name in names:
            die(f"survey!{rn}: missing or duplicate name")
        names.add(name)
        el = r.get("element", "")
        if el and el not in elements:
            elements.append(el)
        questions.append({"name": name, "type": base, "list": parts[1] if len(parts) > 1 else None,
                          "required": r.get("required", "").lower() in ("yes", "true"),
                          "relevant": [g for g in groups if g] + ([rel] if rel else []),
                          "constraint": con, "element": el, "row": rn})
    if groups:
        die("survey: begin_group without end_group")
    for q in questions:
        for ast in q["relevant"] + ([q["constraint"]] if q["constraint"] else []):
            for ref in refs_of(ast):
                if ref not in names:
                    die(f"survey!{q['row']}: unknown ${{{ref}}}")
    settings = sheet_records(sheets, "settings")
    s = settings[0][1] if settings else {}
    ms = s.get("min_seconds", "")
    return {"questions": questions, "lists": lists, "elements": elements, "form_id": s.get("form_id", ""),
            "version": s.get("version", ""), "min_seconds": Fraction(ms) if ms else Fraction(60)}

# ------------------------------------------------------------------------------------------ responses
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$")

def parse_time(s):
    """-> exact seconds since 0001-01-01 UTC (Fraction); no offset = UTC+08:00."""
    m = TIME.match(s.strip())
    if not m:
        raise ValueError(s)
    y, mo, d, h, mi, se = (int(g) for g in m.groups()[:6])
    datetime(y, mo, d, h, mi, se)                            # range check
    off = m.group(8) or "+08:00"
    off_s = 0 if off in "Zz" else (1 if off[0] == "+" else -1) * (int(off[1:3]) * 3600 + int(off[4:6]) * 60)
    frac = Fraction(m.group(7)) if m.group(7) else Fraction(0)  # Fraction('.5') works
    return date(y, mo, d).toordinal() * 86400 + h * 3600 + mi * 60 + se - off_s + frac

def load_responses(path, form, frame):
    """-> (received, distinct responses in file order)."""
    _, rows = read_csv(path)
    qs = form["questions"]
    seen, distinct, received = {}, [], 0
    for ln, r in rows:
        received += 1
        key = tuple(sorted(r.items()))
        iid = r.get("instance_id", "").strip()
        if iid in seen:
            if seen[iid] != key:
                die(f"{path}:{ln}: instance_id {iid} repeated with different content")
            continue
        seen[iid] = key
        if r.get("form_version", "").strip() != form["version"]:
            die(f"{path}:{ln}: form_version {r.get('form_version')!r} is not {form['version']!r}")
        region = r.get("region", "").strip()
        if region not in frame:
            die(f"{path}:{ln}: region {region!r} unknown or outside the frame")
        if r.get("channel", "").strip() not in CHANNELS:
            die(f"{path}:{ln}: unknown channel")
        try:
            secs = parse_time(r.get("submitted", "")) - parse_time(r.get("started", ""))
        except ValueError:
            die(f"{path}:{ln}: bad time")
        ans = {}
        for q in qs:
            if q["type"] == "note":
                continue
            a = r.get(q["name"], "").strip()
            ans[q["name"]] = a
            if not a:
                continue
            if q["type"] in ("select_one", "select_multiple"):
                toks = [a] if q["type"] == "select_one" else a.split()
                for t in toks:
                    if t not in form["lists"][q["list"]]:
                        die(f"{path}:{ln}: unknown choice {t!r} for {q['name']}")
            elif q["type"] in ("integer", "decimal"):
                if not NUMBER.match(a):
                    die(f"{path}:{ln}: {q['name']}: {a!r} is not a number")
        distinct.append({"id": iid, "region": region, "secs": secs, "answers": ans, "line": ln})
    return received, distinct

def classify(resp, form):
    """-> None (valid) or 'too_fast' / 'incomplete' / 'constraint'."""
    if resp["secs"] < form["min_seconds"]:
        return "too_fast"
    ans = resp["answers"]
    qs = [q for q in form["questions"] if q["type"] in ANSWERABLE]
    relevant = {q["name"]: all(to_bool(evaluate(e, ans, ans[q["name"]])) for e in q["relevant"]) for q in qs}
    if any(q["required"] and relevant[q["name"]] and not ans[q["name"]] for q in qs):
        return "incomplete"
    for q in qs:
        a = ans[q["name"]]
        if a and (not relevant[q["name"]] or
                  (q["constraint"] and not to_bool(evaluate(q["constraint"], ans, a)))):
            return "constraint"
    return None

def is_straightlining(resp, form):
    picks = []
    for q in form["questions"]:
        a = resp["answers"].get(q["name"], "")
        if q["type"] == "select_one" and q["element"] and a and form["lists"][q["list"]].get(a) is not None:
            picks.append(a)
    return len(picks) >= 8 and len(set(picks)) == 1

def element_values(resp, form):
    """element -> mean of the scored select_one answers feeding it."""
    acc = {}
    for q in form["questions"]:
        a = resp["answers"].get(q["name"], "")
        if q["type"] == "select_one" and q["element"] and a:
            s = form["lists"][q["list"]].get(a)
            if s is not None:
                acc.setdefault(q["element"], []).append(s)
    return {e: sum(v) / len(v) for e, v in acc.items()}

# ------------------------------------------------------------------------------------------- raking
def rake(path, valid, w, regions, children):
    """Adjusts w (list, parallel to valid) in place; returns the largest number of sweeps."""
    _, rows = read_csv(path)
    margins = {}                                             # county -> var -> [(cat, T)]
    for ln, r in rows:
        c, var, cat = r.get("region", "").strip(), r.get("variable", "").strip(), r.get("category", "").strip()
        if c not in regions:
            die(f"{path}:{ln}: unknown region {c!r}")
        if not valid or var not in valid[0]["answers"]:
            die(f"{path}:{ln}: unknown variable {var!r}")
        try:
            t = float(r.get("population", ""))
        except ValueError:
            die(f"{path}:{ln}: bad population")
        if not t > 0:
            die(f"{path}:{ln}: population must be positive")
        margins.setdefault(c, {}).setdefault(var, []).append((cat, t))
    worst = 0
    for county, vars_ in margins.items():
        sub = subtree(children, county)
        idx = [i for i, v in enumerate(valid) if v["region"] in sub]
        cats = {}                                            # var -> cat -> [respondent indices]
        for var, lst in vars_.items():
            cats[var] = {cat: [] for cat, _ in lst}
            for i in idx:
                a = valid[i]["answers"][var]
                if a not in cats[var]:
                    die(f"{path}: respondent {valid[i]['id']} has no margin category for {var} ({a!r})")
                cats[var][a].append(i)
            for cat, members in cats[var].items():
                if not members:
                    die(f"{path}: {county} {var}={cat}: no respondent")
        for sweep in range(1, 101):
            for var, lst in vars_.items():
                for cat, t in lst:
                    f = t / sum(w[i] for i in cats[var][cat])
                    for i in cats[var][cat]:
                        w[i] *= f
            err = max(abs(sum(w[i] for i in cats[var][cat]) - t) / t for var, lst in vars_.items() for cat, t in lst)
            if err <= 1e-10:
                worst = max(worst, sweep)
                break
        else:
            die(f"{path}: {county}: 未收敛")
    return worst

# ----------------------------------------------------------------------------------------- estimate
def cmd_estimate(form_path, regions_path, frame_path, responses_path, margins_path=None, min_n=30):
    form = load_form(form_path)
    regions, children = read_regions(regions_path)
    frame = read_frame(frame_path, regions, children)
    received, distinct = load_responses(responses_path, form, frame)
    invalid, valid = {"too_fast": 0, "incomplete": 0, "constraint": 0}, []
    for resp in distinct:
        why = classify(resp, form)
        if why:
            invalid[why] += 1
        else:
            valid.append(resp)
    straight = sum(is_straightlining(r, form) for r in distinct)
    n_h = {h: 0 for h in frame}
    for v in valid:
        n_h[v["region"]] += 1
    w = [frame[v["region"]] / n_h[v["region"]] for v in valid]   # base weights N_h / n_h
    sweeps = rake(margins_path, valid, w, regions, children) if margins_path else 0
    ys = [element_values(v, form) for v in valid]
    by_stratum = {h: [i for i, v in enumerate(valid) if v["region"] == h] for h in frame}
    out_regions = []
    for code, info in regions.items():
        sub = subtree(children, code)
        members = [i for i, v in enumerate(valid) if v["region"] in sub]
        els = []
        for e in form["elements"]:
            dom = [i for i in members if e in ys[i]]
            n = len(dom)
            rec = {"element": e, "n": n}
            if n == 0 or n < min_n:
                rec.update(estimate=None, se=None, ci_low=None, ci_high=None, n_eff=None, deff=None,
                           reason="样本不足")
                els.append(rec)
                continue
            sw = sum(w[i] for i in dom)
            est = sum(w[i] * ys[i][e] for i in dom) / sw
            n_eff = sw * sw / sum(w[i] * w[i] for i in dom)
            z = {i: w[i] * (ys[i][e] - est) / sw for i in dom}
            var = 0.0
            for h in frame:                                  # strata outside the subtree have z = 0
                nh = n_h[h]
                if nh <= 1 or h not in sub:
                    continue
                zs = [z.get(i, 0.0) for i in by_stratum[h]]
                zbar = sum(zs) / nh
                var += (1 - nh / frame[h]) * nh / (nh - 1) * sum((x - zbar) ** 2 for x in zs)
            se = math.sqrt(var)
            rec.update(estimate=est, se=se, ci_low=est - Z95 * se, ci_high=est + Z95 * se,
                       n_eff=n_eff, deff=n / n_eff)
            els.append(rec)
        out_regions.append({"region": code, "level": info["level"], "n_valid": len(members), "elements": els})
    return {"form": form["form_id"], "version": form["version"],
            "responses": {"received": received, "duplicates": received - len(distinct), "valid": len(valid),
                          "invalid": invalid, "straightlining": straight,
                          "empty_strata": sum(1 for h in frame if n_h[h] == 0),
                          "singleton_strata": sum(1 for h in frame if n_h[h] == 1),
                          "raking_sweeps": sweeps},
            "regions": out_regions}

# ----------------------------------------------------------------------------------------- selftest
def write_xlsx(path, sheets):
    """Minimal SpreadsheetML with inline strings; sheets: {name: [[cell, ...], ...]}."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    esc = lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("xl/workbook.xml", f'<workbook {ns} {rns}><sheets>' + "".join(
            f'<sheet name="{n}" sheetId="{k + 1}" r:id="rId{k + 1}"/>' for k, n in enumerate(sheets))
            + "</sheets></workbook>")
        z.writestr("xl/_rels/workbook.xml.rels",
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
                   "".join(f'<Relationship Id="rId{k + 1}" Target="worksheets/s{k + 1}.xml" Type="x"/>'
                           for k in range(len(sheets))) + "</Relationships>")
        for k, rows in enumerate(sheets.values()):
            xml = []
            for rn, row in enumerate(rows, start=1):
                cells = "".join(                             # blank cells are simply left out
                    (f'<c r="{chr(65 + ci)}{rn}"><v>{v}</v></c>' if isinstance(v, (int, float)) else
                     f'<c r="{chr(65 + ci)}{rn}" t="inlineStr"><is><t>{esc(v)}</t></is></c>')
                    for ci, v in enumerate(row) if v != "")
                xml.append(f'<row r="{rn}">{cells}</row>')
            z.writestr(f"xl/worksheets/s{k + 1}.xml", f'<worksheet {ns}><sheetData>{"".join(xml)}</sheetData></worksheet>')

def selftest():
    close = lambda a, b: abs(a - b) <= 1e-9 * max(1, abs(b))
    ev = lambda s, ans=None, own="": evaluate(parse_expr(s), ans or {}, own)
    # expressions
    assert ev("1 + 2 * 3 = 7") is True and ev("-2 * 3 = -6") is True and ev("7 div 2") == 3.5
    assert ev(". >= 0 and . <= 120", own="30") is True and ev(". >= 0", own="") is False
    assert ev("${a} != 1", {"a": ""}) is True and ev("${a} = 1", {"a": "1.0"}) is True
    assert ev("${a} = '1'", {"a": "1.0"}) is False and ev('not(${a} = "x") or 1 = 0', {"a": "x"}) is False
    assert ev("selected(${m}, 'b') and count-selected(${m}) = 2", {"m": "a b"}) is True
    assert ev("1 < 2 = 1 > 0") is True and ev("'abc' > 1") is False
    # size: n0 = 1.959963984540054^2 * 0.25 / 0.0009 = 1067.07 -> 1068; N = 10000 -> 964.2 -> 965
    assert cmd_size(0.03) == 1068 and cmd_size(0.03, population=10000) == 965
    assert cmd_size(0.03, deff=1.5, rate=0.5) == 3202           # 1067.07 * 3 = 3201.2
    # plan: min 30 each (A 40 -> 30, B 20 -> 20, C 1000 -> 30); 100 - 80 = 20 left, shared over A, C
    # (B is full): A 20*40/1040 = 0.77 > its room 10? no -> floors 0 / 19, remainders .77 / .23 -> A + 1
    p = cmd_plan({"A": 40, "B": 20, "C": 1000}, 100, "proportional", 30, "0.893")
    assert [t for _, _, t, _ in p] == [31, 20, 49] and [i for *_, i in p] == [35, 23, 55]
    # equal: 40 left over A, C -> 20 each, A capped at 10 -> C gets 30
    assert [t for _, _, t, _ in cmd_plan({"A": 40, "B": 20, "C": 1000}, 120, "equal", 30, "1")] == [40, 20, 60]
    # ties by code: 3 left over 2 equal regions -> 1.5 each -> "X" (smaller code) gets the extra one
    assert [t for _, _, t, _ in cmd_plan({"Y": 100, "X": 100}, 63, "equal", 30, "1")] == [31, 32]

    d = tempfile.mkdtemp()
    f = lambda n: os.path.join(d, n)
    write_xlsx(f("form.xlsx"), {
        "survey": [["type", "name", "label", "required", "relevant", "constraint", "element"],
                   ["begin group", "g", "G", "", "${n1} = ''"], ["select_one sat", "q1", "Q1", "yes", "", "", "E1"],
                   ["select_one sat", "q2", "Q2", "yes", "", "", "E1"], ["select_one sex", "sex", "Sex", "yes"],
                   ["select_one age", "age", "Age", "TRUE"], ["end_group"], ["note", "n1", "N"],
                   ["integer", "q3", "Q3", "yes", "selected(${sex}, 'm') or ${sex} = 'f'", ". >= 0 and . <= 120"],
                   ["select_one sat", "q4", "Q4", "", "${q3} > 10", "", "E2"]],
        "choices": [["list_name", "name", "label", "score"],
                    ["sat", "vs", "very", 100], ["sat", "s", "sat", 80], ["sat", "ns", "not", 0],
                    ["sat", "dk", "说不清", ""], ["sex", "m", "M"], ["sex", "f", "F"],
                    ["age", "y", "Y"], ["age", "o", "O"]],
        "settings": [["form_id", "version", "form_title", "min_seconds"], ["safety2024", 1, "T", 60]]})
    open(f("regions.csv"), "w", encoding="utf-8-sig").write(
        "code,name,parent,level\nP,省,,province\nC,县,P,county\nT1,镇1,C,township\nT2,镇2,C,township\n")
    open(f("frame.csv"), "w").write("region,population\nT1,1000\nT2,500\n")
    hdr = ",".join(FIXED_COLS + ["q1", "q2", "sex", "age", "q3", "q4"])
    t0, t1 = "2024-05-01 10:00:00", "2024-05-01T02:05:00Z"        # 5 minutes apart (UTC+8 vs Z)
    rows = [("r1", "T1", t1, "vs,s,m,y,30,s"),  # E1 90, E2 80
            ("r2", "T1", t1, "s,dk,f,o,5,"),    # E1 80 (dk unscored), E2 none (q4 not relevant)
            ("r3", "T1", t1, "ns,s,m,o,50,vs"), # E1 40, E2 100
            ("r4", "T2", t1, "vs,vs,f,y,20,ns"),  # E1 100, E2 0
            ("r5", "T2", t1, "s,ns,m,y,40,s"),  # E1 40, E2 80
            ("r1", "T1", t1, "vs,s,m,y,30,s"),  # duplicate of r1
            ("r6", "T2", "2024-05-01T10:00:30.5+08:00", "vs,vs,m,y,30,s"),  # too fast (30.5 s)
            ("r7", "T1", t1, ",s,m,y,30,s"),    # incomplete (q1 required)
            ("r8", "T2", t1, "s,s,f,o,200,s"),  # constraint (q3 > 120)
            ("r9", "T2", t1, "s,s,f,o,5,s")]    # constraint (q4 answered but not relevant)
    open(f("resp.csv"), "w").write(hdr + "\n" + "".join(
        f"{i},1,{reg},online,{t0},{sub},{a}\n" for i, reg, sub, a in rows))
    res = cmd_estimate(f("form.xlsx"), f("regions.csv"), f("frame.csv"), f("resp.csv"), None, 1)
    rs = res["responses"]
    assert (res["form"], res["version"]) == ("safety2024", "1")
    assert (rs["received"], rs["duplicates"], rs["valid"]) == (10, 1, 5)
    assert rs["invalid"] == {"too_fast": 1, "incomplete": 1, "constraint": 2}
    assert (rs["empty_strata"], rs["singleton_strata"], rs["raking_sweeps"]) == (0, 0, 0)
    # On paper, E1 over the province: w = 1000/3 (T1, n=3), 250 (T2, n=2); Σw = 1500;
    # Σwy = 1000/3·(90+80+40) + 250·(100+40) = 105000 -> 70.
    # z = w(y−70)/1500: T1 2/9·(20,10,−30) mean 0, Σz² = 5600/81, factor (1−3/1000)·3/2 = 1.4955;
    # T2 1/6·(30,−30) = (5,−5), Σz² = 50, factor (1−2/500)·2 = 1.992 -> V = 1.4955·5600/81 + 99.6.
    # n_eff = 1500² / (3·(1000/3)² + 2·250²) = 2250000 / 458333.33 = 54/11.
    P = res["regions"][0]
    assert P["region"] == "P" and P["level"] == "province" and P["n_valid"] == 5
    e1 = P["elements"][0]
    V = 1.4955 * 5600 / 81 + 99.6
    assert e1["element"] == "E1" and e1["n"] == 5 and close(e1["estimate"], 70) and close(e1["se"], V ** 0.5)
    assert close(e1["ci_low"], 70 - Z95 * V ** 0.5) and close(e1["n_eff"], 54 / 11) and close(e1["deff"], 55 / 54)
    # E2: domain r1, r3, r4, r5: Σw = 2000/3 + 500; Σwy = 1000/3·180 + 250·80 = 80000 -> 480/7.
    # z (Σw = 3500/3): T1 r1 (1/3.5)(80−480/7) = 80/24.5, r2 0, r3 (1/3.5)(100−480/7) = 220/24.5,
    # mean 100/24.5, deviations (−20, −100, 120)/24.5 -> Σ = 24800/600.25;
    # T2 (0.75/3.5)·(−480/7, 80−480/7) = (−360, 60)/24.5 -> dev ∓210/24.5, Σ = 88200/600.25.
    e2 = P["elements"][1]
    V2 = (1.4955 * 24800 + 1.992 * 88200) / 600.25
    assert e2["n"] == 4 and close(e2["estimate"], 480 / 7) and close(e2["se"], V2 ** 0.5)
    # T1 alone, E1: est 70, z = (y−70)/3 -> Σz² = 1400/9; T2 strata contribute 0.
    t1e = res["regions"][2]["elements"][0]
    assert close(t1e["estimate"], 70) and close(t1e["se"], (1.4955 * 1400 / 9) ** 0.5)
    # min_n: T2 has n = 2 < 3 -> null + reason; elements without reason otherwise
    res3 = cmd_estimate(f("form.xlsx"), f("regions.csv"), f("frame.csv"), f("resp.csv"), None, 3)
    t2e = res3["regions"][3]["elements"][0]
    assert t2e["n"] == 2 and t2e["estimate"] is None and t2e["reason"] == "样本不足"
    assert "reason" not in res3["regions"][0]["elements"][0]
    # raking sex × age in county C (sex m: r1 r3 r5, f: r2 r4; age y: r1 r4 r5, o: r2 r3)
    open(f("margins.csv"), "w").write("region,variable,category,population\n"
                                      "C,sex,m,800\nC,sex,f,700\nC,age,y,900\nC,age,o,600\n")
    regions, children = read_regions(f("regions.csv"))
    form = load_form(f("form.xlsx"))
    _, distinct = load_responses(f("resp.csv"), form, read_frame(f("frame.csv"), regions, children))
    valid = [r for r in distinct if classify(r, form) is None]
    w = [1000 / 3] * 3 + [250.0] * 2
    sweeps = rake(f("margins.csv"), valid, w, regions, children)
    tot = lambda var, cat: sum(wi for wi, v in zip(w, valid) if v["answers"][var] == cat)
    assert 1 <= sweeps <= 100 and close(tot("sex", "m"), 800) and close(tot("age", "o"), 600)
    res4 = cmd_estimate(f("form.xlsx"), f("regions.csv"), f("frame.csv"), f("resp.csv"), f("margins.csv"), 1)
    y1 = [90, 80, 40, 100, 40]
    assert res4["responses"]["raking_sweeps"] == sweeps
    assert close(res4["regions"][0]["elements"][0]["estimate"], sum(a * b for a, b in zip(w, y1)) / 1500)
    # straightlining: 8 scored element items with the same choice
    sl = {"questions": [{"name": f"s{k}", "type": "select_one", "list": "sat", "element": "E"} for k in range(8)],
          "lists": form["lists"]}
    assert is_straightlining({"answers": {f"s{k}": "s" for k in range(8)}}, sl)
    assert not is_straightlining({"answers": {**{f"s{k}": "s" for k in range(7)}, "s7": "dk"}}, sl)
    shutil.rmtree(d)
    print("ok")

# ------------------------------------------------------------------------------------------------ CLI
def main(argv):
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("size")
    s.add_argument("--margin", type=float, required=True)
    for name, default in (("--confidence", 0.95), ("--population", None), ("--deff", 1.0), ("--response-rate", 1.0)):
        s.add_argument(name, type=float, default=default)
    p = sub.add_parser("plan")
    p.add_argument("--regions", required=True)
    p.add_argument("--frame", required=True)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--allocation", choices=["proportional", "equal"], default="proportional")
    p.add_argument("--min", type=int, default=30)
    p.add_argument("--response-rate", default="0.893")
    e = sub.add_parser("estimate")
    for name in ("--form", "--regions", "--frame", "--responses"):
        e.add_argument(name, required=True)
    e.add_argument("--margins")
    e.add_argument("--min-n", type=int, default=30)
    for q in (p, e):
        q.add_argument("--format")                           # accepted and ignored (CSV / JSON only)
    sub.add_parser("selftest")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "size":
            print(cmd_size(a.margin, a.confidence, a.population, a.deff, a.response_rate))
        elif a.cmd == "plan":
            regions, children = read_regions(a.regions)
            rows = cmd_plan(read_frame(a.frame, regions, children), a.size, a.allocation, a.min, a.response_rate)
            print("\n".join(["region,population,target,invitations"] + [",".join(map(str, r)) for r in rows]))
        elif a.cmd == "estimate":
            res = cmd_estimate(a.form, a.regions, a.frame, a.responses, a.margins, a.min_n)
            print(json.dumps(res, ensure_ascii=False))
        else:
            selftest()
    except (InputError, OSError, KeyError, ValueError, ZeroDivisionError, ET.ParseError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
