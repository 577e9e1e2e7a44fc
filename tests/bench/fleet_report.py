#!/usr/bin/env python3
# fleet_report.py: the load of many branches reporting to one central loadsd
# (issue 15, docs/FLEET.md), for fleet_report_bench.sh: registers the
# branches, points a site rule and 40 seen phones at each, then sends their
# reports open-loop at a given rate and measures the central's CPU per report
# (utime+stime of its /proc/PID/stat) and the answer times. --mode poll:
# then the branches' want-list polls between reports (GET /api/v1/fleet/want
# with If-None-Match), every 5 s each: steady, and with a load assigned.
import argparse
import collections
import http.client
import json
import os
import queue
import sqlite3
import sys
import threading
import time

from benchadmin import Api

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15)


def job(api, resp):
    st, j = resp
    assert st == 202, (st, j)
    while True:
        _, row = api.call("GET", "/api/v1/jobs/%d" % j["id"])
        if row["state"] in ("done", "failed"):
            return row
        time.sleep(0.05)


def branch_net(i):
    """Branch i's /26: 10.A.B.C0/26, 64 addresses, phones .10 .. .49 of it."""
    base = (10 << 24) + i * 64
    return base


def ip(n):
    return "%d.%d.%d.%d" % (n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255)


def setup(api, a, data_dir):
    """Branches, site rules, devices and their last-seen addresses; the tokens."""
    tokens = []
    t0 = time.monotonic()
    for i in range(a.branches):
        st, j = api.call("POST", "/api/v1/branches", {"name": "b%04d" % i, "address": ip(branch_net(i) + 1)})
        assert st == 201, (st, j)
        tokens.append(j["token"])
    reg_s = time.monotonic() - t0
    for i in range(a.branches):
        st, j = api.call("POST", "/api/v1/sites", {"cidr": "%s/26" % ip(branch_net(i)),
                                                   "load_server": "branch:b%04d" % i})
        assert st == 201, (st, j)
    csv = ["mac,model"]
    models = a.models.split(",")
    for i in range(a.branches):
        for p in range(a.phones):
            csv.append("00BB%08X,Cisco %s" % (i * a.phones + p, models[p % len(models)]))
    row = job(api, api.call("POST", "/api/v1/devices/import", "\r\n".join(csv) + "\r\n", "text/csv"))
    assert row["state"] == "done", row
    db = sqlite3.connect(data_dir + "/catalog.db", timeout=30)
    db.executemany("INSERT OR REPLACE INTO device_seen (mac, addr, since) VALUES (?, ?, ?)",
                   [("00BB%08X" % (i * a.phones + p), ip(branch_net(i) + 10 + p), int(time.time()))
                    for i in range(a.branches) for p in range(a.phones)])
    db.commit()
    db.close()
    return tokens, reg_s


def body(i, a, loads, change, seq):
    now = int(time.time())
    hold = [{"name": n, "state": "complete", "files_have": 6, "files_total": 6,
             "bytes_have": 105000000, "bytes_total": 105000000, "eta_s": None} for n in loads]
    if change:  # staging progress that moves every report: the holdings change
        hold.append({"name": "SIP99.99-9-%d" % (seq % 1000), "state": "staging", "files_have": 3,
                     "files_total": 6, "bytes_have": 1000000 + seq, "bytes_total": 105000000,
                     "eta_s": 240})
    phones = [{"addr": ip(branch_net(i) + 10 + p), "load": loads[p % len(loads)], "files_done": 6,
               "files_total": 6, "at": now - p} for p in range(a.phones)]
    return json.dumps({"version": "0.1.0", "time": now, "free_bytes": 52428800000,
                       "loads": hold, "phones": phones})


def open_loop(a, pid, n, rounds, period, send, label, unit):
    """Requests k = 0 .. n*rounds-1 from a.workers threads, request k due
    k*period/n s after the start (open loop: a slow answer delays no other
    request); send(k) -> (ok, status, body). The figures, keyed by unit
    ("report", "poll"), with the statuses of the good answers."""
    total = n * rounds
    work = queue.Queue()
    times, errors, got, lock = [], [], collections.Counter(), threading.Lock()
    start = time.monotonic() + 0.2
    for k in range(total):
        work.put(k)

    def worker():
        while True:
            try:
                k = work.get_nowait()
            except queue.Empty:
                return
            delay = start + k * period / n - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            t = time.monotonic()
            try:
                ok, status, data = send(k)
            except OSError as e:
                ok, status, data = False, None, str(e).encode()
            dt = time.monotonic() - t
            with lock:
                times.append(dt)
                if ok:
                    got[status] += 1
                else:
                    errors.append(data[:200])

    threads = [threading.Thread(target=worker) for _ in range(a.workers)]
    c0, w0 = cpu_s(pid), time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    c1, w1 = cpu_s(pid), time.monotonic()
    times.sort()
    pct = lambda p: times[min(len(times) - 1, int(p / 100.0 * len(times)))] * 1000
    res = {"label": label, unit + "s": total, "period_s": period, "rate_per_s": round(n / period, 1),
           "wall_s": round(w1 - w0, 1), "errors": len(errors), "achieved_per_s": round(total / (w1 - w0), 1),
           "cpu_s": round(c1 - c0, 2), "cpu_ms_per_" + unit: round((c1 - c0) * 1000 / total, 3),
           "cpu_percent_of_a_core": round(100 * (c1 - c0) / (w1 - w0), 2),
           "p50_ms": round(pct(50), 2), "p99_ms": round(pct(99), 2), "max_ms": round(times[-1] * 1000, 2)}
    if errors:
        res["first_error"] = errors[0].decode("utf-8", "replace")
    return res, got


def request(a, method, path, headers, body=None):
    """One request on a connection of its own (as a branch makes it): (status, body)."""
    c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=30)
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def phase(a, pid, tokens, loads, period, rounds, change, label):
    """Every branch reports once per period (spread evenly), `rounds` periods."""
    n = len(tokens)

    def send(k):
        i = k % n
        st, data = request(a, "POST", "/api/v1/fleet/report",
                           {"Authorization": "Bearer " + tokens[i], "Content-Type": "application/json"},
                           body(i, a, loads, change, k))
        return st == 200 and b'"want"' in data, st, data

    res, _ = open_loop(a, pid, n, rounds, period, send, label, "report")
    res["holdings_change"] = change
    res["body_bytes"] = len(body(0, a, loads, change, 0))
    print("fleet_report: %(label)s: %(reports)d reports at %(rate_per_s)s/s asked, %(achieved_per_s)s/s sent "
          "(%(wall_s)s s); central CPU "
          "%(cpu_s)s s = %(cpu_ms_per_report)s ms a report, %(cpu_percent_of_a_core)s %% of a core; "
          "answer p50 %(p50_ms)s ms, p99 %(p99_ms)s ms, max %(max_ms)s ms; %(errors)d errors" % res)
    return res


def poll_phase(a, pid, tokens, tags, period, rounds, label, change=None):
    """Every branch asks for its want list once per period (spread evenly),
    `rounds` periods, with If-None-Match: its tag; a 200 updates the tag (as
    the branch does). change(): called once, at the start of the second
    round (a load assigned: every branch's list moves once)."""
    n = len(tokens)
    changed, lock = threading.Event(), threading.Lock()

    def send(k):
        if change is not None and k >= n and not changed.is_set():
            with lock:
                if not changed.is_set():
                    change()
                    changed.set()
        i = k % n
        st, data = request(a, "GET", "/api/v1/fleet/want",
                           {"Authorization": "Bearer " + tokens[i], "If-None-Match": '"%s"' % tags[i]})
        ok = st == 304 and data == b"" or st == 200 and b'"want_tag"' in data
        if st == 200 and ok:
            tags[i] = json.loads(data)["want_tag"]
        return ok, st, data

    res, got = open_loop(a, pid, n, rounds, period, send, label, "poll")
    res["not_modified"], res["changed"] = got[304], got[200]
    print("fleet_report: %(label)s: %(polls)d polls at %(rate_per_s)s/s asked, %(achieved_per_s)s/s sent "
          "(%(wall_s)s s): %(not_modified)d 304, %(changed)d 200; central CPU "
          "%(cpu_s)s s = %(cpu_ms_per_poll)s ms a poll, %(cpu_percent_of_a_core)s %% of a core; "
          "answer p50 %(p50_ms)s ms, p99 %(p99_ms)s ms, max %(max_ms)s ms; %(errors)d errors" % res)
    return res


def poll_phases(a, tokens, loads):
    """The branches polling their want lists (docs/FLEET.md): steady (all
    304), and with one load assigned to a model mid-run (each list moves
    once: 1,000 200s after one want-index rebuild)."""
    tags = []
    for t in tokens:  # each branch's tag, as its first report's answer gives it
        st, j = Api(a.port, t).call("GET", "/api/v1/fleet/want")
        assert st == 200 and "want_tag" in j, (st, j)
        tags.append(j["want_tag"])
    model = "Cisco%20" + a.models.split(",")[0]

    def assign():
        st, j = Api(a.port, a.token).call("PUT", "/api/v1/models/%s/default-load" % model,
                                          {"load": loads[-1], "force": True})
        assert st == 200, (st, j)

    out = [poll_phase(a, a.pid, tokens, tags, a.poll_period, a.poll_rounds,
                      "polls, 1/branch/%gs, list unchanged" % a.poll_period)]
    out.append(poll_phase(a, a.pid, tokens, tags, a.poll_period, 3,
                          "polls, 1/branch/%gs, a load assigned in round 2" % a.poll_period, assign))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--data-dir", required=True)
    p.add_argument("--token", required=True, help="an admin's API token")
    p.add_argument("--loads", required=True, help="comma-separated load names the branches hold")
    p.add_argument("--models", default="7965,8845")
    p.add_argument("--branches", type=int, default=1000)
    p.add_argument("--phones", type=int, default=40)
    p.add_argument("--period", type=float, default=60)
    p.add_argument("--fast-period", type=float, default=6)
    p.add_argument("--fast-rounds", type=int, default=5)
    p.add_argument("--workers", type=int, default=16)
    p.add_argument("--mode", choices=("report", "poll", "all"), default="report",
                   help="report: the report phases; poll: the want-list polls (after one report "
                        "each); all: both")
    p.add_argument("--poll-period", type=float, default=5)
    p.add_argument("--poll-rounds", type=int, default=12)
    p.add_argument("--json")
    a = p.parse_args()
    if not 1 <= a.branches <= 16000 or not 1 <= a.phones <= 60:
        sys.exit("fleet_report: --branches 1..16000, --phones 1..60")
    loads = a.loads.split(",")
    api = Api(a.port, a.token)
    tokens, reg_s = setup(api, a, a.data_dir)
    print("fleet_report: %d branches registered through the API in %.1f s (%.1f ms each); %d site rules, "
          "%d devices seen" % (a.branches, reg_s, reg_s * 1000 / a.branches, a.branches, a.branches * a.phones))
    st, want = Api(a.port, tokens[0]).call("GET", "/api/v1/fleet/want")
    print("fleet_report: branch b0000 wants %s" % (want.get("want") if isinstance(want, dict) else want))
    out = {"branches": a.branches, "phones_per_branch": a.phones, "register_s": round(reg_s, 1),
           "want_b0000": want, "phases": []}
    # First reports: every branch's holdings change once (not measured as steady).
    out["phases"].append(phase(a, a.pid, tokens, loads, a.fast_period, 1, False, "first reports"))
    if a.mode in ("report", "all"):
        out["phases"].append(phase(a, a.pid, tokens, loads, a.period, 1, False,
                                   "steady, 1 report/branch/%gs" % a.period))
        out["phases"].append(phase(a, a.pid, tokens, loads, a.fast_period, a.fast_rounds, False,
                                   "steady, 1 report/branch/%gs" % a.fast_period))
        out["phases"].append(phase(a, a.pid, tokens, loads, a.fast_period, a.fast_rounds, True,
                                   "every report changes holdings, 1/branch/%gs" % a.fast_period))
    if a.mode in ("poll", "all"):
        out["phases"] += poll_phases(a, tokens, loads)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    sys.exit(1 if any(ph["errors"] for ph in out["phases"]) else 0)


if __name__ == "__main__":
    main()
