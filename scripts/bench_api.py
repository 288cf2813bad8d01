#!/usr/bin/env python3
"""HTTP API under load: bounded concurrent clients on loopback against one store, while it is read and while it changes.

    python scripts/bench_api.py --store DIR [--scale 12] [--clients 8] [--seconds 20] [--during-commit] [--out F.json]

If DIR has no CURRENT it is built first: ``make_logs.py public.json LOGDIR --scale X`` (scale 12 is about 1M prompts),
then ``promptsim run`` over it (12-15 minutes at 1M on two cores). Prompt, campaign and account ids are sampled from
the live snapshot's DuckDB database (read-only, fixed seed); then ``promptsim serve`` is started on a free loopback
port and each phase runs ``--clients`` closed-loop clients (one thread and one keep-alive ``http.client`` connection
each) for ``--seconds`` after a short warm-up:

    similar_1      GET /prompts/{id}/similar?k=10, one client (unloaded latency)
    similar        the same, --clients clients
    campaign       GET /campaigns/{id}            campaign_page  GET /ui/campaigns/{id}
    account        GET /accounts/{id}             account_page   GET /ui/accounts/{id}

Per phase: requests, req/s, p50/p90/p99/max latency (ms, measured by the client, so it includes client overhead on
the shared cores) and errors by kind (non-2xx, exceptions, timeouts); the server's VmRSS / VmHWM after each phase;
the clients' own CPU seconds (to see whether the load generator, not the server, is the limit).

``--during-commit`` adds a phase in which similar and campaign clients keep going while a nightly run commits to the
same store (a small ``make_logs.py --scale 0.05`` log with fresh prompt ids, so the night adds prompts; it takes the
writer lock and re-scores the whole window). It reports the run's wall time, how long after CURRENT changed the
server's /health showed the new snapshot, latency while the run was going and after the swap, and every failed
request. ``--out F.json`` keeps every figure (phases, RSS, cpus, the store's prompt count). Exit status 1 if any
request failed, the run failed or the server never swapped; 2 if the server never answered /health.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"
HOST = "127.0.0.1"
PHASES = ("similar_1", "similar", "campaign", "campaign_page", "account", "account_page")
PROMPTSIM = [sys.executable, "-m", "engine.app.cli"]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
#: one group of clients' requests: (start, seconds) of each success, (start, kind) of each failure
Samples = tuple[list[tuple[float, float]], list[tuple[float, str]]]


def build_store(store: Path, logs: Path, scale: float) -> None:
    if not (logs / "prompts.jsonl").exists():
        print(f"writing the log: make_logs.py public.json {logs} --scale {scale:g}", flush=True)
        make = [
            sys.executable,
            str(BENCH / "make_logs.py"),
            str(BENCH / "public.json"),
            str(logs),
            "--scale",
            str(scale),
        ]
        subprocess.run(make, check=True, stdout=subprocess.DEVNULL)
    n = sum(1 for _ in (logs / "prompts.jsonl").open("rb"))
    print(f"building the store: promptsim run over {n:,} prompts into {store} (12-15 minutes at 1M) ...", flush=True)
    t0 = time.perf_counter()
    inputs = ["--input", str(logs / "prompts.jsonl"), "--accounts", str(logs / "accounts.jsonl")]
    subprocess.run([*PROMPTSIM, "run", *inputs, "--store", str(store), "--quiet"], check=True, cwd=ROOT, env=ENV)
    print(f"  built in {time.perf_counter() - t0:.0f} s", flush=True)


def sample_ids(store: Path, n: int, seed: int) -> dict[str, list[str]]:
    """Prompt ids of the window, the flagged campaigns (topped up by score to 50), half flagged / half other accounts."""
    import duckdb

    snap = store / "snapshots" / (store / "CURRENT").read_text().strip()
    con = duckdb.connect(str(snap / "db.duckdb"), read_only=True)
    try:

        def col(sql: str, *params: object) -> list[str]:
            return [r[0] for r in con.execute(sql, list(params)).fetchall()]

        order = "ORDER BY hash({} || ?::VARCHAR) LIMIT ?"
        return {
            "prompt": col(f"SELECT prompt_id FROM window_prompts {order.format('prompt_id')}", seed, n),
            "campaign": col("SELECT campaign_id FROM campaigns ORDER BY flagged DESC, score DESC LIMIT 50"),
            "flagged_campaign": col("SELECT campaign_id FROM campaigns WHERE flagged ORDER BY score DESC"),
            "account": col(f"SELECT account_id FROM accounts WHERE flagged {order.format('account_id')}", seed, n // 2)
            + col(f"SELECT account_id FROM accounts WHERE NOT flagged {order.format('account_id')}", seed, n - n // 2),
        }
    finally:
        con.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def get(port: int, path: str, headers: dict[str, str], timeout: float = 5.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def health(port: int, headers: dict[str, str]) -> str | None:
    try:
        status, body = get(port, "/health", headers, timeout=2.0)
        return json.loads(body).get("snapshot") if status == 200 else None
    except (OSError, ValueError, http.client.HTTPException):
        return None


def _tree(pid: int) -> list[int]:
    """The server and its worker processes (``--workers N`` forks them under the first)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def rss_mb(pid: int) -> dict[str, float]:
    """The server's resident memory now and its peak (VmHWM), MB, summed over its worker processes; empty once it
    has exited."""
    total = {"rss_mb": 0.0, "hwm_mb": 0.0}
    for p in _tree(pid):
        try:
            text = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if "VmRSS" not in fields:
            continue
        for k, f in (("rss_mb", "VmRSS"), ("hwm_mb", "VmHWM")):
            total[k] += int(fields[f].split()[0]) / 1024
    return {k: round(v, 1) for k, v in total.items()} if total["rss_mb"] else {}


def client(
    port: int,
    paths: list[str],
    start: int,
    headers: dict[str, str],
    timeout: float,
    stop: threading.Event,
    out: Samples,
) -> None:
    """One closed-loop client: a request, wait for the whole answer, the next id; one keep-alive connection."""
    ok, err = out
    conn: http.client.HTTPConnection | None = None
    i = start
    while not stop.is_set():
        path, i = paths[i % len(paths)], i + 1
        t0 = time.perf_counter()
        try:
            if conn is None:
                conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            if 200 <= resp.status < 300 and body:
                ok.append((t0, time.perf_counter() - t0))
            else:
                err.append((t0, f"http_{resp.status}" if body else "empty_body"))
            if resp.will_close:
                conn.close()
                conn = None
        except Exception as e:  # every failure is counted by kind, the client carries on with a new connection
            err.append((t0, type(e).__name__))
            if conn is not None:
                conn.close()
                conn = None
            time.sleep(0.05)
    if conn is not None:
        conn.close()


def load(
    port: int,
    groups: dict[str, tuple[list[str], int]],
    headers: dict[str, str],
    timeout: float,
    wait: Callable[[], None],
) -> dict[str, Samples]:
    """Run each group's clients (paths, how many) until ``wait`` returns; each group's samples, all clients merged."""
    stop, threads, out = threading.Event(), [], {}
    for name, (paths, n) in groups.items():
        out[name] = ([], [])
        for c in range(n):
            args = (port, paths, c * len(paths) // n, headers, timeout, stop, out[name])
            threads.append(threading.Thread(target=client, args=args, daemon=True))
    for t in threads:
        t.start()
    try:
        wait()
    finally:
        stop.set()
        for t in threads:
            t.join(timeout + 5)
    return out


def stats(s: Samples, t_from: float, t_to: float) -> dict[str, object]:
    lat = np.array([dt for t0, dt in s[0] if t_from <= t0 < t_to]) * 1000
    errors = Counter(kind for t0, kind in s[1] if t_from <= t0 < t_to)
    pct = np.percentile(lat, [50, 90, 99]).round(2).tolist() if len(lat) else [None] * 3
    return {
        "requests": len(lat) + sum(errors.values()),
        "seconds": round(t_to - t_from, 2),
        "req_s": round(len(lat) / (t_to - t_from), 1),
        **dict(zip(("p50", "p90", "p99"), pct, strict=True)),
        "max": round(float(lat.max()), 2) if len(lat) else None,
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
    }


def commit_log(work: Path) -> Path:
    """A small night with prompt ids never stored before (so the run adds prompts instead of skipping them all)."""
    src = work / "commit-src"
    if not (src / "prompts.jsonl").exists():
        make = [sys.executable, str(BENCH / "make_logs.py"), str(BENCH / "public.json"), str(src), "--scale", "0.05"]
        subprocess.run(make, check=True, stdout=subprocess.DEVNULL)
    night, tag = work / "commit-night.jsonl", f"bench{int(time.time())}_"
    with (src / "prompts.jsonl").open(encoding="utf-8") as f, night.open("w", encoding="utf-8") as g:
        for line in f:
            row = json.loads(line)
            g.write(json.dumps({**row, "prompt_id": tag + row["prompt_id"]}) + "\n")
    return night


def during_commit(a: argparse.Namespace, port: int, pid: int, groups: dict, headers: dict[str, str]) -> dict:
    night = commit_log(a.work)
    current = a.store / "CURRENT"
    old, old_seen = current.read_text().strip(), health(port, headers)
    r: dict[str, object] = {"night": str(night), "old_snapshot": old_seen}
    marks: dict[str, float] = {}

    def wait() -> None:
        time.sleep(a.warmup)
        marks["start"] = time.perf_counter()
        with (a.work / "commit-run.log").open("w") as log:
            cmd = [*PROMPTSIM, "run", "--input", str(night), "--store", str(a.store), "--quiet"]
            proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=log, stderr=subprocess.STDOUT)
            peak = 0.0
            while True:
                now = time.perf_counter()
                peak = max(peak, rss_mb(pid).get("rss_mb", 0.0))
                if "current" not in marks and current.read_text().strip() != old:
                    marks["current"] = now
                if "exit" not in marks and proc.poll() is not None:
                    marks["exit"], r["run_rc"] = now, proc.returncode
                if "swap" not in marks and (seen := health(port, headers)) not in (old_seen, None):
                    marks["swap"], r["new_snapshot"] = now, seen
                if "exit" in marks and (
                    "swap" in marks
                    or proc.returncode != 0
                    or now - marks.get("current", marks["exit"]) > a.swap_timeout
                ):
                    break
                time.sleep(0.05)
        r["rss_peak_mb"] = peak
        marks["end_run"] = marks.get("swap", time.perf_counter())
        time.sleep(a.seconds if "swap" in marks else 0)
        marks["end"] = time.perf_counter()

    samples = load(port, groups, headers, a.timeout, wait)
    r["run_s"] = round(marks["exit"] - marks["start"], 1)
    r["swap_after_current_s"] = (
        round(marks["swap"] - marks["current"], 2) if {"swap", "current"} <= marks.keys() else None
    )
    r["during_run"] = {k: stats(s, marks["start"], marks["end_run"]) for k, s in samples.items()}
    r["after_swap"] = (
        {k: stats(s, marks["end_run"], marks["end"]) for k, s in samples.items()} if "swap" in marks else {}
    )
    r["failed_requests"] = sum(len(s[1]) for s in samples.values())  # the whole phase, warm-up included
    if r.get("run_rc") != 0:
        print((a.work / "commit-run.log").read_text()[-3000:], file=sys.stderr)
    return r


@contextlib.contextmanager
def serve(a: argparse.Namespace, headers: dict[str, str], result: dict) -> Iterator[tuple[int, int]]:
    """``promptsim serve`` on a free loopback port, up once /health answers; its log is scanned for errors at the end."""
    port = free_port()
    cmd = [*PROMPTSIM, "serve", "--store", str(a.store), "--host", HOST, "--port", str(port), "--quiet"]
    cmd += ["--api-key", a.api_key] if a.api_key else []
    cmd += ["--workers", str(a.workers)]
    log = a.work / f"server-{port}.log"
    with log.open("w") as out:
        server = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=out, stderr=subprocess.STDOUT)
    try:
        t0 = time.perf_counter()
        while health(port, headers) is None:
            if server.poll() is not None or time.perf_counter() - t0 > a.start_timeout:
                tail = log.read_text(errors="replace")[-4000:]
                print(
                    f"server gave no /health in {time.perf_counter() - t0:.0f} s (rc {server.poll()}):\n{tail}",
                    file=sys.stderr,
                )
                raise SystemExit(2)
            time.sleep(0.2)
        result["server_start_s"] = round(time.perf_counter() - t0, 1)
        result["rss"].append({"after": "start", **rss_mb(server.pid)})
        print(f"server pid {server.pid} port {port}: /health after {result['server_start_s']} s, {result['rss'][-1]}\n")
        yield server.pid, port
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        errors = [ln for ln in log.read_text(errors="replace").splitlines() if "Traceback" in ln or "ERROR" in ln]
        result["server_log"], result["server_log_errors"] = str(log), len(errors)
        if errors:
            print(f"server log {log}: {len(errors)} error lines, the first: {errors[0]}", file=sys.stderr)


def row(name: str, clients: int, s: dict, rss: float | str = "") -> str:
    cells = [s["requests"], s["req_s"], s["p50"], s["p90"], s["p99"], s["max"], s["errors"], rss, s.get("client_cpu_s")]
    text = ["-" if c is None else f"{c:,}" if isinstance(c, int) else str(c) for c in cells]
    return f"| {name} | {clients} | " + " | ".join(text) + " |"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--store", type=Path, required=True, help="store directory; built first if it has no CURRENT")
    p.add_argument("--scale", type=float, default=12.0, help="make_logs scale when building (12: ~1M prompts, 1: ~85k)")
    p.add_argument("--work", type=Path, help="logs and scratch (default: DIR.bench beside the store)")
    p.add_argument("--clients", type=int, default=8, help="concurrent clients per phase (default 8)")
    p.add_argument("--seconds", type=float, default=20.0, help="measured seconds per phase (default 20)")
    p.add_argument("--warmup", type=float, default=2.0, help="uncounted seconds before each phase (default 2)")
    p.add_argument("--ids", type=int, default=2000, help="prompt and account ids sampled (default 2000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-k", type=int, default=10, help="neighbours asked of similar (default 10)")
    p.add_argument("--phases", default=",".join(PHASES), help="comma-separated, any of the default (empty: none)")
    p.add_argument("--during-commit", action="store_true", help="add the phase in which a nightly run commits")
    p.add_argument("--api-key", help="start the server with this key and send it as X-API-Key")
    p.add_argument("--workers", type=int, default=1, help="server processes (promptsim serve --workers; default 1)")
    p.add_argument("--timeout", type=float, default=10.0, help="per-request timeout, seconds (default 10)")
    p.add_argument("--start-timeout", type=float, default=180.0, help="seconds to wait for /health (default 180)")
    p.add_argument("--swap-timeout", type=float, default=60.0, help="seconds after the commit to see it (default 60)")
    p.add_argument("--out", type=Path, help="write every figure here as JSON")
    a = p.parse_args()
    if unknown := set(filter(None, a.phases.split(","))) - set(PHASES):
        p.error(f"unknown phases {sorted(unknown)}; known: {', '.join(PHASES)}")
    a.store = a.store.resolve()
    a.work = (a.work or a.store.with_name(a.store.name + ".bench")).resolve()
    a.work.mkdir(parents=True, exist_ok=True)
    if not (a.store / "CURRENT").exists():
        build_store(a.store, a.work / f"log-scale{a.scale:g}", a.scale)
    meta = json.loads((a.store / "snapshots" / (a.store / "CURRENT").read_text().strip() / "snapshot.json").read_text())
    ids = sample_ids(a.store, a.ids, a.seed)
    print(
        f"store {a.store}: {meta.get('prompts', 0):,} prompts, snapshot {meta.get('run_id')}; sampled "
        f"{len(ids['prompt']):,} prompts, {len(ids['campaign'])} campaigns ({len(ids['flagged_campaign'])} flagged), "
        f"{len(ids['account']):,} accounts; {os.cpu_count()} cpus",
        flush=True,
    )
    q = lambda v: quote(v, safe="")  # noqa: E731
    paths = {
        "similar": [f"/prompts/{q(i)}/similar?k={a.k}" for i in ids["prompt"]],
        "campaign": [f"/campaigns/{q(i)}" for i in ids["campaign"]],
        "campaign_page": [f"/ui/campaigns/{q(i)}" for i in ids["campaign"]],
        "account": [f"/accounts/{q(i)}" for i in ids["account"]],
        "account_page": [f"/ui/accounts/{q(i)}" for i in ids["account"]],
    }
    headers = {"X-API-Key": a.api_key} if a.api_key else {}
    result: dict = {
        "machine": {"cpus": os.cpu_count()},
        "store": {"path": str(a.store), "prompts": meta.get("prompts"), "snapshot": meta.get("run_id")},
        "settings": {k: str(v) for k, v in vars(a).items()},
        "phases": {},
        "rss": [],
    }
    with serve(a, headers, result) as (pid, port):
        print(
            "| phase | clients | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | server RSS MB | client CPU s |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for phase in [p for p in a.phases.split(",") if p]:
            kind, clients = ("similar", 1) if phase == "similar_1" else (phase, a.clients)
            marks: dict[str, float] = {}

            def wait(marks: dict[str, float] = marks) -> None:
                time.sleep(a.warmup)
                marks["start"] = time.perf_counter()
                time.sleep(a.seconds)
                marks["end"] = time.perf_counter()

            cpu = time.process_time()
            samples = load(port, {kind: (paths[kind], clients)}, headers, a.timeout, wait)[kind]
            s = result["phases"][phase] = {"clients": clients, **stats(samples, marks["start"], marks["end"])}
            s["client_cpu_s"] = round(time.process_time() - cpu, 1)  # the clients' own CPU, warm-up included
            result["rss"].append({"after": phase, **rss_mb(pid)})
            print(row(phase, clients, s, result["rss"][-1].get("rss_mb", "gone")), flush=True)
        failed = any(s["errors"] for s in result["phases"].values())
        if a.during_commit:
            n = max(1, a.clients // 2)
            campaigns = [f"/campaigns/{q(i)}" for i in ids["flagged_campaign"] or ids["campaign"]]
            groups = {"similar": (paths["similar"], n), "campaign": (campaigns, max(1, a.clients - n))}
            c = result["during_commit"] = during_commit(a, port, pid, groups, headers)
            result["rss"].append({"after": "during_commit", **rss_mb(pid)})
            for when in ("during_run", "after_swap"):
                for kind, s in c[when].items():
                    print(row(f"{when}:{kind}", groups[kind][1], s, result["rss"][-1].get("rss_mb", "gone")))
            print(
                f"\nnightly run during load: rc {c.get('run_rc')}, {c['run_s']} s; snapshot {c['old_snapshot']} -> "
                f"{c.get('new_snapshot', 'NOT SWAPPED')}, seen {c['swap_after_current_s']} s after CURRENT changed; "
                f"failed requests {c['failed_requests']}; server RSS peak {c['rss_peak_mb']} MB during the run"
            )
            failed |= bool(c["failed_requests"]) or c.get("run_rc") != 0 or "new_snapshot" not in c
        last = result["rss"][-1]
        print(f"\nserver RSS {last.get('rss_mb')} MB, peak (VmHWM) {last.get('hwm_mb')} MB")
    result["failed"] = failed
    if a.out:
        a.out.write_text(json.dumps(result, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
