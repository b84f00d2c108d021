#!/usr/bin/env python3
"""Record what the API and the CLI answer on a small province, normalised,
so two builds can be compared (a refactor must not change them).

    tools/api_snapshot.py target/debug/pingan OUT_DIR [--port 18181]
    diff -r OUT_A OUT_B

The province, the accounts and every request are fixed; only times, hashes
and similar run-dependent text are replaced by placeholders. Needs the
`requests` package.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import requests

PW = "Pingan-2024x"
HEX = re.compile(r"\b[0-9a-f]{64}\b")
TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")
VOLATILE_KEYS = {"hash", "prev_hash", "head", "token", "expires_at"}


def normalise(v):
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if k in VOLATILE_KEYS and isinstance(x, str):
                out[k] = "<volatile>"
            elif k == "detail" and isinstance(x, str):
                try:
                    out[k] = normalise(json.loads(x))
                except ValueError:
                    out[k] = normalise(x)
            else:
                out[k] = normalise(x)
        return out
    if isinstance(v, list):
        return [normalise(x) for x in v]
    if isinstance(v, str):
        return HEX.sub("<hex>", TIME.sub("<T>", v))
    return v


class Run:
    def __init__(self, exe, out, port):
        self.exe = os.path.abspath(exe)
        self.out = out
        self.base = f"http://127.0.0.1:{port}"
        self.port = port
        self.n = 0
        self.cookies = {}
        self.dir = tempfile.mkdtemp(prefix="pingan-snap-")
        self.db = f"sqlite://{self.dir}/p.db"

    def save(self, name, value):
        self.n += 1
        path = os.path.join(self.out, f"{self.n:03d}-{name}.json")
        text = json.dumps(normalise(value), ensure_ascii=False, indent=1, sort_keys=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(self.dir, "<dir>") + "\n")

    def cli(self, name, *args, stdin=None):
        env = dict(os.environ, PINGAN_PASSWORD=PW, PINGAN_USER="snap", PINGAN_DB=self.db)
        p = subprocess.run([self.exe, *args], capture_output=True, text=True, env=env,
                           input=stdin, cwd=self.dir)
        stdout = p.stdout
        try:
            stdout = json.loads(stdout)
        except ValueError:
            stdout = stdout.replace(self.dir, "<dir>")
        self.save("cli-" + name, {"args": [a.replace(self.dir, "<dir>") for a in args],
                                  "code": p.returncode, "stdout": stdout,
                                  "stderr": p.stderr.replace(self.dir, "<dir>")})
        return p

    def login(self, user):
        r = requests.post(self.base + "/api/v1/session", json={"username": user, "password": PW})
        self.save(f"login-{user}", {"status": r.status_code, "body": r.json()})
        self.cookies[user] = r.cookies.get("pingan_session")

    def call(self, name, method, path, user=None, body=None, data=None, headers=None):
        h = dict(headers or {})
        if user:
            h["cookie"] = f"pingan_session={self.cookies[user]}"
        r = requests.request(method, self.base + path, json=body, data=data, headers=h)
        try:
            b = r.json()
        except ValueError:
            b = {"text": r.text[:200]}
        self.save(name, {"method": method, "path": path, "user": user,
                         "status": r.status_code, "body": b})
        return b

    def get(self, name, path, user):
        return self.call(name, "GET", path, user)

    def post(self, name, path, user, body):
        return self.call(name, "POST", path, user, body)


def main():
    exe, out = sys.argv[1], sys.argv[2]
    port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 18181
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    s = Run(exe, out, port)
    d = s.dir
    s.cli("generate", "generate", "--out", d, "--seed", "9", "--cities", "2", "--counties", "4",
          "--townships", "8", "--years", "2023-2024")
    s.cli("init", "init", "--db", s.db)
    for kind in ["regions", "benchmarks", "values"]:
        s.cli(f"import-{kind}", "import", kind, f"{d}/{kind}.csv")
    regions = [l.split(",") for l in open(f"{d}/regions.csv", encoding="utf-8").read().splitlines()[1:]]
    counties = [r[0] for r in regions if r[3] == "county"]
    towns = [r[0] for r in regions if r[3] == "township" and r[2] == counties[0]]
    county = counties[0]
    with open(f"{d}/bad.csv", "w", encoding="utf-8") as f:
        f.write("region,period,element,value\n")
        f.write(f"{towns[0]},2024-06,criminal_cases,abc\n")
        f.write("999999,2024-13,nope,1\n")
    s.cli("import-bad", "import", "values", f"{d}/bad.csv")
    with open(f"{d}/cases.csv", "w", encoding="utf-8") as f:
        f.write("case_id,region,date,type,outcome,agreement,fulfilled\n")
        for t in towns:
            for i in range(10):
                ok = i % 4 != 0
                f.write(f"(2024){t}调字第{i}号,{t},2024-{i + 1:02d}-15,邻里纠纷,"
                        f"{'调解成功' if ok else '调解不成功'},{'是' if ok else '否'},{'是' if ok else '否'}\n")
    s.cli("import-cases", "import", "cases", f"{d}/cases.csv")
    users = [
        ("office", "office_admin", None, None), ("county", "region_official", county, None),
        ("super", "supervisor", None, None), ("auditor", "audit_admin", None, None),
        ("sysadmin", "system_admin", None, None), ("secadmin", "security_admin", None, None),
        ("dept", "department", None, "公安"), ("sifa", "department", None, "司法"),
        ("expert", "expert", None, None), ("collector", "collector", None, None),
        ("verifier", "verifier", None, None), ("verifier2", "verifier", None, None),
    ]
    for name, role, region, dept in users:
        args = ["user", "add", name, "--role", role, "--no-force-change"]
        if region:
            args += ["--region", region]
        if dept:
            args += ["--department", dept]
        s.cli(f"user-add-{name}", *args)
    s.cli("user-list", "user", "list")
    s.cli("scores-json", "scores", "--period", "2024", "--format", "json")
    s.cli("scores-city", "scores", "--period", "2024", "--level", "city")
    s.cli("check-db", "check", "--db", s.db, "--period", "2024-06", "--format", "json")
    s.cli("framework-show", "framework", "show", "--format", "table")

    server = subprocess.Popen([s.exe, "serve", "--db", s.db, "--bind", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=d)
    try:
        for _ in range(100):
            try:
                requests.get(s.base + "/login", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        api(s, county, towns)
    finally:
        server.terminate()
        server.wait()
    s.cli("audit-list", "audit", "list", "--format", "json")
    s.cli("audit-verify", "audit", "verify")
    s.cli("callbacks-list", "callbacks", "list")
    s.cli("scores-after", "scores", "--period", "2024", "--level", "county", "--format", "json")
    shutil.rmtree(d, ignore_errors=True)


def api(s, county, towns):
    doc = requests.get(s.base + "/api/v1/openapi.json").json()
    s.save("openapi-paths", sorted(f"{m.upper()} {p}" for p, ops in doc["paths"].items() for m in ops))
    s.save("openapi-schemas", sorted(doc.get("components", {}).get("schemas", {}).keys()))
    s.call("anonymous-regions", "GET", "/api/v1/regions")
    # Ten login attempts a minute per address: nine accounts and one failure.
    for u in ["office", "county", "auditor", "dept", "sifa", "expert", "collector", "verifier",
              "verifier2"]:
        s.login(u)
    r = requests.post(s.base + "/api/v1/session", json={"username": "office", "password": "wrong"})
    s.save("login-bad", {"status": r.status_code, "body": r.json()})
    s.get("regions", "/api/v1/regions", "office")
    s.get("regions-county", "/api/v1/regions", "county")
    s.get("regions-parent", f"/api/v1/regions?parent={county}", "office")
    s.get("regions-forbidden", f"/api/v1/regions?parent=990000", "county")
    s.get("framework", "/api/v1/framework", "expert")
    s.get("values", f"/api/v1/values?region={towns[0]}&period=2024-06", "office")
    s.get("values-dept", f"/api/v1/values?region={towns[0]}&period=2024-06", "dept")
    s.get("values-none", "/api/v1/values", "office")
    s.get("scores-city", "/api/v1/scores?period=2024&level=city", "office")
    s.get("scores-county", "/api/v1/scores?period=2024", "county")
    s.get("scores-bad-period", "/api/v1/scores?period=2024-13", "office")
    s.get("scores-forbidden", "/api/v1/scores?period=2024", "auditor")
    s.get("scores-preview", "/api/v1/scores?period=2024&level=city&preview=true", "office")
    good = {"dataValues": [{"region": towns[0], "period": "2024-12", "element": "criminal_cases",
                            "value": 7}, {"region": towns[1], "period": "2024-12",
                                          "element": "public_order_cases", "value": "12"}]}
    bad = {"dataValues": [{"region": towns[0], "period": "2024-12", "element": "criminal_cases",
                           "value": "x"}, {"region": "000", "period": "2024-12",
                                           "element": "schools", "value": 1},
                          {"region": towns[0], "period": "2024-12", "element": "criminal_cases",
                           "value": 3}]}
    s.post("dvs-dry", "/api/v1/dataValueSets?dryRun=true", "dept", good)
    s.post("dvs-bad", "/api/v1/dataValueSets", "dept", bad)
    s.post("dvs-unknown-field", "/api/v1/dataValueSets", "dept", {"values": []})
    s.post("dvs-forbidden", "/api/v1/dataValueSets", "county", good)
    s.post("dvs", "/api/v1/dataValueSets", "dept", good)
    s.post("dvs-again", "/api/v1/dataValueSets", "dept", good)
    s.get("sets", "/api/v1/dataSets?year=2024", "collector")
    key = {"department": "公安", "region": towns[0], "period": "2024-12"}
    s.get("set", f"/api/v1/dataSets/公安/{towns[0]}/2024-12", "collector")
    s.post("review-wrong-level", "/api/v1/dataSets/review", "verifier", {"sets": [key], "action": "pass"})
    s.post("review-no-reason", "/api/v1/dataSets/review", "collector", {"sets": [key], "action": "return"})
    for u in ["collector", "verifier", "expert"]:
        s.post(f"review-pass-{u}", "/api/v1/dataSets/review", u, {"sets": [key], "action": "pass"})
    s.post("dvs-locked", "/api/v1/dataValueSets", "dept",
           {"dataValues": [{"region": towns[0], "period": "2024-12", "element": "criminal_cases", "value": 9}]})
    s.post("review-unlock", "/api/v1/dataSets/review", "office", {"sets": [key], "action": "unlock", "reason": "更正"})
    s.get("set-after", f"/api/v1/dataSets/公安/{towns[0]}/2024-12", "office")
    s.post("checks", "/api/v1/checks", "collector", {"period": "2024-06", "save": True})
    s.post("checks-county-forbidden", "/api/v1/checks", "county", {"period": "2024-06"})
    flags = s.get("flags", "/api/v1/flags?page_size=5", "office")
    s.get("flags-county", "/api/v1/flags?page_size=5", "county")
    s.get("flags-bad-status", "/api/v1/flags?status=x", "office")
    fid = flags["items"][0]["id"] if flags.get("items") else 1
    s.get("flag", f"/api/v1/flags/{fid}", "office")
    s.post("flag-resolve-bad", f"/api/v1/flags/{fid}/resolve", "collector", {"resolution": "maybe"})
    s.post("flag-resolve", f"/api/v1/flags/{fid}/resolve", "collector",
           {"resolution": "explained", "note": "季节性波动"})
    s.post("flag-resolve-again", f"/api/v1/flags/{fid}/resolve", "collector",
           {"resolution": "explained", "note": "再次"})
    s.post("flag-task", f"/api/v1/flags/{fid}/verification", "office", {})
    t = s.post("task", "/api/v1/verifications", "office",
               {"region": towns[-1], "period": "2024", "elements": ["patrol_teams", "monitored_area"]})
    s.post("task-bad", "/api/v1/verifications", "office",
           {"region": towns[-1], "period": "2024", "elements": ["nope"]})
    s.post("task-draw", "/api/v1/verifications/draw", "verifier",
           {"period": "2024", "count": 2, "elements": ["patrol_teams"], "seed": 7})
    s.get("tasks", "/api/v1/verifications", "verifier")
    s.get("tasks-county", "/api/v1/verifications", "county")
    tid = t.get("id", 1)
    visit = {"team": "核查一组", "verifiers": ["verifier", "verifier2"],
             "checklist": {c: True for c in t.get("checklist", [])},
             "observed": {"patrol_teams": 3, "monitored_area": 50}, "latitude": 30.1, "longitude": 120.2}
    rec = s.post("record", f"/api/v1/verifications/{tid}/records", "verifier", visit)
    s.post("record-office", f"/api/v1/verifications/{tid}/records", "office", visit)
    rid = rec.get("record", {}).get("id", 1)
    png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0" + bytes(64)
    s.call("photo", "POST", f"/api/v1/verifications/records/{rid}/photos?name=a.png", "verifier",
           data=png, headers={"content-type": "image/png"})
    s.call("photo-svg", "POST", f"/api/v1/verifications/records/{rid}/photos?name=a.svg", "verifier",
           data=b"<svg/>", headers={"content-type": "image/png"})
    s.post("confirm-self", f"/api/v1/verifications/records/{rid}/confirm", "verifier", {})
    s.post("confirm", f"/api/v1/verifications/records/{rid}/confirm", "verifier2", {})
    s.get("task-detail", f"/api/v1/verifications/{tid}", "expert")
    s.post("task-close", f"/api/v1/verifications/{tid}/close", "office", {"note": "完成"})
    s.get("cases", f"/api/v1/cases?region={county}&page_size=3", "office")
    s.post("cases-import", "/api/v1/cases?dryRun=true", "sifa",
           {"cases": [{"case_id": "X1", "region": towns[0], "date": "2024-02-30", "type": "邻里纠纷",
                       "outcome": "调解成功", "agreement": True, "fulfilled": "maybe"}]})
    s.post("cases-forbidden", "/api/v1/cases", "dept", {"cases": []})
    dr = s.post("draw", "/api/v1/callbacks/draws", "office", {"region": county, "year": 2024, "seed": 11})
    s.post("draw-again", "/api/v1/callbacks/draws", "office", {"region": county, "year": 2024, "seed": 11})
    s.post("draw-other", "/api/v1/callbacks/draws", "office", {"region": county, "year": 2024, "seed": 12})
    s.get("draws", "/api/v1/callbacks/draws", "expert")
    s.get("draws-dept", "/api/v1/callbacks/draws", "sifa")
    did = dr.get("id", 1)
    s.get("draw-one", f"/api/v1/callbacks/draws/{did}", "county")
    case = dr.get("items", [{}])[0].get("case", {}).get("case_id", "x")
    s.post("callback", f"/api/v1/callbacks/{did}/{case}", "verifier", {"result": "confirmed"})
    s.post("callback-bad", f"/api/v1/callbacks/{did}/{case}", "verifier", {"result": "maybe"})
    s.get("evidence", f"/api/v1/callbacks/evidence?region={county}&year=2024", "office")
    s.get("audit", "/api/v1/audit?page_size=200", "auditor")
    s.get("audit-verify", "/api/v1/audit/verify", "auditor")
    s.get("audit-forbidden", "/api/v1/audit", "office")
    for name, path, user in [("dashboard", "/", "office"), ("dashboard-county", "/", "county"),
                             ("region", f"/region/{county}?period=2024", "office"),
                             ("framework", "/framework", "expert"), ("quality", "/quality", "collector"),
                             ("review", "/review?state=all", "office"), ("verify", "/verify", "verifier"),
                             ("callbacks", f"/callbacks?region={county}&year=2024", "office"),
                             ("progress", "/progress", "dept"), ("submit", "/submit", "dept"),
                             ("audit", "/audit", "auditor"), ("forbidden", "/audit", "office")]:
        page(s, name, path, user)
    s.post("password-bad", "/api/v1/session/password", "expert", {"old": "x", "new": "y"})
    s.call("logout", "DELETE", "/api/v1/session", "county")
    s.get("after-logout", "/api/v1/regions", "county")


def page(s, name, path, user):
    """A page's visible text, one line per block, for a rough comparison."""
    r = requests.get(s.base + path, headers={"cookie": f"pingan_session={s.cookies[user]}"})
    html = re.sub(r"(?s)<(script|style)[^>]*>.*?</\\1>", "", r.text)
    html = re.sub(r"<(br|/tr|/p|/div|/li|/h[1-6]|/dt|/dd)[^>]*>", "\\n", html)
    text = re.sub(r"<[^>]+>", " ", html)
    lines = [re.sub(r"\\s+", " ", l).strip() for l in text.splitlines()]
    s.save("page-" + name, {"path": path, "user": user, "status": r.status_code,
                            "text": [l for l in lines if l]})


if __name__ == "__main__":
    main()
