#!/usr/bin/env python3
"""Page and API timing sweep (issue 23, docs/performance.md).

Signs in, then walks every page reachable by links from the home page
(same origin, GET only, at most --per-path variants of each path, at most
--limit in all), each once, and then the API's read paths with the
parameters the pages showed; a list too long to download directly is
exported through the download centre (the post, then the file once it is
made, each timed as a request; how long the making took is printed).
Prints the slowest, and every request that
took longer than --budget seconds or failed; exits 1 if there is any.

    tools/drills/pages.py --base http://127.0.0.1:8080 --user office --password …
"""
import argparse
import collections
import http.cookiejar
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

SKIP = ("/logout", "/static/", "/collect/sw.js")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="http://127.0.0.1:8080")
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--year", default="2024")
    ap.add_argument("--limit", type=int, default=400)
    ap.add_argument("--per-path", type=int, default=3)
    ap.add_argument("--budget", type=float, default=1.0)
    a = ap.parse_args()

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = json.dumps({"username": a.user, "password": a.password}).encode()
    req = urllib.request.Request(
        a.base + "/api/v1/session",
        data=login,
        headers={"content-type": "application/json", "origin": a.base},
    )
    opener.open(req).read()

    def get(path):
        t = time.perf_counter()
        try:
            with opener.open(a.base + path, timeout=120) as r:
                body = r.read()
                status = r.status
                ctype = r.headers.get("content-type", "")
        except urllib.error.HTTPError as e:
            body, status, ctype = e.read(), e.code, ""
        return status, time.perf_counter() - t, body, ctype

    def post(path):
        t = time.perf_counter()
        req = urllib.request.Request(a.base + path, data=b"", headers={"origin": a.base})
        try:
            with opener.open(req, timeout=120) as r:
                r.read()
                status = r.status
        except urllib.error.HTTPError as e:
            e.read()
            status = e.code
        return status, time.perf_counter() - t

    seen, per_path, results = set(), collections.Counter(), []
    prepares = []
    queue = collections.deque(["/"])
    codes = {"region": set(), "flag": set()}
    while queue and len(results) < a.limit:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        status, secs, body, ctype = get(path)
        results.append((secs, status, path))
        if "html" not in ctype:
            continue
        text = body.decode("utf-8", "replace")
        for action in re.findall(r'<form[^>]*method="post" action="(/[^"]*\.(?:xlsx|csv|zip)[^"]*)" id="prepare-', text):
            action = action.replace("&amp;", "&")
            kind = action.split("?")[0]
            if action not in prepares and sum(p.split("?")[0] == kind for p in prepares) < 1:
                prepares.append(action)
        for href in re.findall(r'href="(/[^"#]*)"', text):
            href = href.replace("&amp;", "&")
            if href.startswith(SKIP) or href in seen:
                continue
            base = urllib.parse.urlsplit(href).path
            m = re.match(r"/region/(\w+)", base)
            if m:
                codes["region"].add(m.group(1))
            m = re.match(r"/quality/(\d+)", base)
            if m:
                codes["flag"].add(m.group(1))
            # A path's first variants; /region/… and /report/… by pattern.
            pattern = re.sub(r"/\d+(?=/|$)", "/N", base)
            if per_path[pattern] >= a.per_path:
                continue
            per_path[pattern] += 1
            queue.append(href)

    y = a.year
    some = sorted(codes["region"])[:3]
    api = [
        f"/api/v1/scores?period={y}&level=city",
        f"/api/v1/scores?period={y}&level=county",
        f"/api/v1/scores?period={y}",
        f"/api/v1/framework?year={y}",
        "/api/v1/framework/versions",
        "/api/v1/regions",
        "/api/v1/flags",
        "/api/v1/work",
        "/api/v1/risk",
        "/api/v1/notices",
        "/api/v1/audit",
        "/api/v1/audit/verify",
        "/api/v1/cases",
        "/api/v1/checks",
        "/api/v1/verifications",
        "/api/v1/rectify-late",
        "/api/v1/callbacks/draws",
        f"/api/v1/public/{y}/scores",
        "/api/v1/openapi.json",
    ]
    for r in some:
        api += [
            f"/api/v1/regions?parent={r}",
            f"/api/v1/values?region={r}&period={y}",
            f"/api/v1/scores?period={y}&parent={r}",
            f"/api/v1/rectify/{r}",
            f"/api/v1/reports/{r}",
        ]
    for f in sorted(codes["flag"])[:3]:
        api.append(f"/api/v1/flags/{f}")
    for path in api:
        status, secs, _, _ = get(path)
        results.append((secs, status, path))

    made = []
    for action in prepares:
        started = time.perf_counter()
        status, secs = post(action)  # follows the redirect to /downloads
        results.append((secs, status, "POST " + action))
        while time.perf_counter() - started < 600:
            _, _, body, _ = get("/downloads")
            text = body.decode("utf-8", "replace")
            row = re.search(r'<tr data-status="(\w+)">.*?</tr>', text, re.S)
            if row and row.group(1) != "running":
                break
            time.sleep(0.5)
        ready = time.perf_counter() - started
        link = re.search(r'href="(/downloads/\d+)"', row.group(0)) if row else None
        if link:
            status, secs, body, _ = get(link.group(1))
            results.append((secs, status, link.group(1)))
            made.append(f"{action}: made in {ready:.1f} s, {len(body) / 1e6:.1f} MB fetched in {secs:.2f} s")
        else:
            made.append(f"{action}: not made ({row.group(0)[:200] if row else 'no row'})")
            results.append((ready, 599, "download centre: " + action))

    results.sort(reverse=True)
    slow = [r for r in results if r[0] > a.budget]
    failed = [r for r in results if r[1] >= 500]
    print(f"{len(results)} requests ({len(results) - len(api) - 2 * len(prepares)} pages, {len(api)} API calls, {len(prepares)} background exports)")
    times = sorted(r[0] for r in results)
    print(
        "median {:.3f} s, p90 {:.3f} s, max {:.3f} s".format(
            times[len(times) // 2], times[int(len(times) * 0.9)], times[-1]
        )
    )
    for m in made:
        print("download centre:", m)
    print("slowest:")
    for secs, status, path in results[:12]:
        print(f"  {secs:7.3f} s  {status}  {path}")
    others = collections.Counter(r[1] for r in results if r[1] != 200)
    if others:
        print("statuses other than 200:", dict(others))
        for secs, status, path in results:
            if status != 200:
                print(f"  {status}  {path}")
    if slow or failed:
        print(f"FAILED: {len(slow)} over {a.budget} s, {len(failed)} server errors")
        return 1
    print(f"ok: every request under {a.budget} s, no server error")
    return 0


if __name__ == "__main__":
    sys.exit(main())
