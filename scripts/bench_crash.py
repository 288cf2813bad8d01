"""kill -9 suite: SIGKILL real ``promptsim run`` processes at random points and check the store survives.

The store promises that a night which crashes or is killed leaves the last good state readable and unchanged, that
the write lock dies with its holder, and that simply running the night again gives what an uninterrupted night
gives. Exceptions raised inside the pipeline (``RunConfig.fail_after``) only exercise the ``except`` path; this
suite uses SIGKILL on a real subprocess, so nothing in the process gets a chance to clean up.

Two cases, on the demo log (``scripts/make_demo_log.py``, its chat requests) split by time into two nights (the last
calendar day is night 2):

* fresh: a store that does not exist yet runs night 1;
* previous: a store that already holds night 1 runs night 2.

For each case an uninterrupted run is timed first (``--quiet`` off, so the time each stage marker such as
``[embed]`` appears on stdout is known) and exported: its verdicts are the reference. Then each trial copies the
starting state, starts ``promptsim run`` and SIGKILLs it, either after a delay drawn uniformly over the measured
duration ("uniform"), or inside one chosen stage ("aimed": after the previous stage's marker, plus a delay drawn
uniformly over that stage's measured length), so kills also land in short stages such as the commit. The aimed
stages cycle through a seeded permutation of all stages. After each kill:

* labels: an analyst labels in a loop (``LABELLER``, a second process appending to the store's labels journal) while
  the run goes, and is SIGKILLed at the same moment as the run: every label whose append had returned is in the
  journal, none is there twice, and the journal reads (a torn last line is never a record);
* lock: the store's lock file can be taken at once (flock dies with its holder; no orphaned child holds it);
* previous state: fresh, there is no CURRENT and the store says "no store here yet"; previous, CURRENT names the
  same snapshot, its files are byte-identical, and ``promptsim export --format csv`` gives byte-identical files.
  A kill that lands after CURRENT was swapped (the run had committed) is reported as ``committed``, and the
  state must then be the new, complete snapshot;
* rerun: ``promptsim run`` of the same night on the killed store must succeed and give the reference verdicts:
  the same accounts with the same exported ``score`` and ``flagged``, and the same partition of accounts into
  campaigns (grouping only: a new campaign's id embeds the id of the run that found it, so ids are not compared);
  the snapshot that was live before the kill must still be kept (``KEEP_SNAPSHOTS``); the embedding cache must
  load without skipped shards and hold no stray temp file.

    python scripts/bench_crash.py [--trials 24] [--seed 0] [--scale 0.3] [--work DIR] [--keep]

One line per trial, then a summary line; exits 1 if any trial failed. ``tests/test_crash.py`` runs the same
functions with fewer trials.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import fcntl
import hashlib
import json
import logging
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.embed.cache import EmbeddingCache  # noqa: E402
from engine.store import Store, StoreError  # noqa: E402

MARKER = re.compile(r"^\[([A-Za-z][\w-]*)\] [0-9.]+s")  # "[embed] 1.3s, peak RSS 324 MB": printed as a stage ends
CASES = ("fresh", "previous")
# an aimed kill lands in the first 75% of the stage's length in the reference run: a trial often runs faster than
# the timed reference (the machine is shared), and a kill meant for a 0.1 s stage would otherwise land in the next
AIM_SHARE = 0.75
COMPARED_EXPORTS = ("accounts.csv", "campaigns.csv", "campaigns.json", "memberships.csv", "clusters.csv")


# -- driving the CLI ---------------------------------------------------------------------------------------------


def promptsim() -> list[str]:
    """The ``promptsim`` console script of this interpreter's environment (the CLI is the stable interface)."""
    script = Path(sys.executable).with_name("promptsim")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from engine.app.cli import main; sys.exit(main())"]


def cli_env() -> dict[str, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def run_args(store: Path, inputs: Sequence[Path], accounts: Path, *, quiet: bool) -> list[str]:
    args = ["run", "--input", *map(str, inputs), "--accounts", str(accounts), "--store", str(store)]
    return [*args, "--embedder", "static", *(["--quiet"] if quiet else [])]


def start_cli(args: Sequence[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*promptsim(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(), cwd=ROOT
    )


def finish_cli(
    p: subprocess.Popen[str], args: Sequence[str], *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    out, err = p.communicate()
    if check and p.returncode != 0:
        raise RuntimeError(f"promptsim {' '.join(args[:1])} exited {p.returncode}: {err.strip()[-2000:]}")
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def cli(args: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    return finish_cli(start_cli(args), args, check=check)


#: an analyst labelling in a loop while the night runs: each label's id is printed once ``append`` has returned
LABELLER = """
import sys, time
from engine.store.journal import labels_journal
j, i = labels_journal(sys.argv[1]), 0
while True:
    time.sleep(0.005)  # an analyst's pace, give or take: a tight loop would take a core from the run it shares with
    r = j.append({"type": "label", "target": "account", "target_id": "crash-test", "verdict": "needs-review",
                  "by": "crash-test", "n": i, "note": "x" * 2000})
    print(r["id"], flush=True)
    i += 1
"""


def start_labeller(store: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", LABELLER, str(store)], stdout=subprocess.PIPE, text=True,
                            env=cli_env(), cwd=ROOT, start_new_session=True)  # fmt: skip


def labels_problems(store: Path, acknowledged: list[str]) -> list[str]:
    """The labels journal after both the run and the labeller were killed: every acknowledged label is there, none
    twice, and the journal reads (a torn last line is allowed: it was never acknowledged)."""
    from engine.store.journal import labels_journal

    recs = labels_journal(store).read()
    ids = [r["id"] for r in recs]
    out = []
    missing = set(acknowledged) - set(ids)
    if missing:
        out.append(f"{len(missing)} acknowledged label(s) lost")
    if len(set(ids)) != len(ids) or len(recs) < len(acknowledged):
        out.append("labels journal holds a label twice or reads short")
    return out


class Launched:
    """A ``promptsim`` process in its own session, with its stdout lines time-stamped as they arrive.

    Its own session so that a kill can tell whether the process left children behind (they would share the lock's
    open file and keep it held after the parent died).
    """

    def __init__(self, args: Sequence[str], stderr_path: Path) -> None:
        self._stderr = open(stderr_path, "w")  # noqa: SIM115 - closed in wait()
        self.stderr_path = stderr_path
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [*promptsim(), *args],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=cli_env(),
            cwd=ROOT,
            start_new_session=True,
        )
        self.lines: list[tuple[float, str]] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append((time.monotonic() - self.t0, line.rstrip("\n")))
                self._cond.notify_all()
        with self._cond:
            self.lines.append((time.monotonic() - self.t0, "\x00EOF"))
            self._cond.notify_all()

    def wait_marker(self, stage: str, timeout: float) -> bool:
        """Block until ``[stage]`` is printed (True) or the process ends or ``timeout`` passes (False)."""
        deadline = time.monotonic() + timeout

        def seen() -> bool | None:
            for _, line in self.lines:
                m = MARKER.match(line)
                if m and m.group(1) == stage:
                    return True
                if line == "\x00EOF":
                    return False
            return None

        with self._cond:
            while (r := seen()) is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return r

    def kill(self) -> bool:
        """SIGKILL the process (not its group: a real kill -9 of the run); False if it had already ended."""
        if self.proc.poll() is not None:
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGKILL)
            return True
        return False

    def wait(self) -> tuple[int, list[tuple[float, str]], str]:
        """Exit status, stdout lines with arrival times, stderr. Everything flushed before death is in the pipe."""
        rc = self.proc.wait()
        self._reader.join(30)
        self._stderr.close()
        return rc, [x for x in self.lines if x[1] != "\x00EOF"], self.stderr_path.read_text(errors="replace")

    def orphans(self) -> bool:
        """Whether processes of the run's session outlived it; they are killed (we started them)."""
        try:
            os.killpg(self.proc.pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        return True


def markers(lines: Sequence[tuple[float, str]]) -> list[tuple[str, float]]:
    """The stage markers of a run's stdout, in order, with the second each appeared."""
    return [(m.group(1), t) for t, line in lines if (m := MARKER.match(line))]


# -- reading results ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdicts:
    """What a night decided, as exported: per account (score, flagged), and which accounts share a campaign."""

    accounts: dict[str, tuple[str, str]]
    partition: frozenset[frozenset[str]]

    def differences(self, other: Verdicts) -> list[str]:
        """Human-readable differences from ``other`` (empty when the verdicts are equal)."""
        out = []
        if self.accounts.keys() != other.accounts.keys():
            out.append(f"accounts differ: {len(self.accounts.keys() ^ other.accounts.keys())} not in both")
        changed = [a for a in self.accounts.keys() & other.accounts.keys() if self.accounts[a] != other.accounts[a]]
        if changed:
            a = sorted(changed)[0]
            out.append(
                f"{len(changed)} accounts changed score/flag (e.g. {a}: {other.accounts[a]} -> {self.accounts[a]})"
            )
        if self.partition != other.partition:
            out.append(
                f"campaign grouping differs ({len(self.partition)} groups vs {len(other.partition)} in the reference)"
            )
        return out


class Export:
    """``promptsim export --format csv`` of a store's live snapshot, started in the background."""

    def __init__(self, store: Path, out: Path) -> None:
        shutil.rmtree(out, ignore_errors=True)
        self.out = out
        self.args = ["export", "--store", str(store), "--out", str(out), "--format", "csv"]
        self.proc = start_cli(self.args)

    def files(self) -> dict[str, bytes]:
        """Wait for it: file name -> bytes (raises if the export failed)."""
        finish_cli(self.proc, self.args)
        return {p.name: p.read_bytes() for p in sorted(self.out.iterdir()) if p.is_file()}


def export(store: Path, out: Path) -> dict[str, bytes]:
    return Export(store, out).files()


def verdicts(files: dict[str, bytes]) -> Verdicts:
    """Account verdicts from an export's accounts.csv (scores compared as exported text: value-identical)."""
    rows = list(csv.DictReader(files["accounts.csv"].decode("utf-8").splitlines()))
    groups: dict[str, set[str]] = {}
    for r in rows:
        if r["campaign_id"]:
            groups.setdefault(r["campaign_id"], set()).add(r["account_id"])
    return Verdicts(
        {r["account_id"]: (r["score"], r["flagged"]) for r in rows},
        frozenset(frozenset(g) for g in groups.values()),
    )


def export_differences(before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    """Exports that are not byte-identical; CSVs that differ only in row order count as value-identical."""
    out = []
    for name in COMPARED_EXPORTS:
        a, b = before.get(name), after.get(name)
        if a == b:
            continue
        if (
            a is not None
            and b is not None
            and name.endswith(".csv")
            and sorted(a.splitlines()) == sorted(b.splitlines())
        ):
            continue
        out.append(f"{name} changed")
    return out


def tree_digest(path: Path) -> dict[str, str]:
    """sha256 of every file under ``path`` (a snapshot is immutable: any change is a bug)."""
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


def current_name(store: Path) -> str | None:
    pointer = store / "CURRENT"
    return pointer.read_text().strip() if pointer.exists() else None


def lock_free(store: Path) -> bool:
    """Whether the store's write lock can be taken now (what the next ``promptsim run`` does first)."""
    path = store / "lock"
    if not path.exists():
        return True
    with open(path) as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(fh, fcntl.LOCK_UN)
    return True


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def cache_problems(store: Path) -> list[str]:
    """Shards the embedding cache skips when opened, and stray files (temp files, keyless vectors) it leaves."""
    out: list[str] = []
    root = store / "cache"
    if not root.exists():
        return out
    handler = _Warnings()
    log = logging.getLogger("engine.embed.cache")
    log.addHandler(handler)
    try:
        for ns in sorted(p for p in root.iterdir() if p.is_dir()):
            EmbeddingCache(root, ns.name)
            names = {p.name for p in ns.iterdir()}
            stray = [
                n
                for n in names
                if not (n.endswith(".keys.npy") or n.endswith(".vecs.npy"))
                or (n.endswith(".vecs.npy") and n.replace(".vecs.npy", ".keys.npy") not in names)
            ]
            if stray:
                out.append(f"cache {ns.name}: {len(stray)} stray file(s), e.g. {sorted(stray)[0]}")
    finally:
        log.removeHandler(handler)
    out.extend(f"cache: {m}" for m in handler.messages)
    return out


# -- set-up ------------------------------------------------------------------------------------------------------


@dataclass
class Case:
    """One starting state: where trials copy it from, what they run, and what an uninterrupted run gives."""

    name: str
    base: Path | None  # store copied before each trial; None: the store does not exist yet
    inputs: list[Path]
    duration: float  # seconds, start to exit, of the uninterrupted (non-quiet) run
    stages: list[tuple[str, float]]  # stage markers of that run, in order, with the second each appeared
    reference: Verdicts
    before: dict[str, bytes] = field(default_factory=dict)  # export of the base store
    base_current: str | None = None
    base_digest: dict[str, str] = field(default_factory=dict)


@dataclass
class Fixture:
    work: Path
    accounts: Path
    cases: dict[str, Case]


def split_nights(prompts: Path, out: Path) -> tuple[Path, Path]:
    """Night 1: every prompt before the last calendar day (UTC) of the log; night 2: that last day. Rows are flat
    (an ISO ``timestamp``) or the demo's chat requests (``created``, epoch seconds)."""
    rows = [line for line in prompts.read_text(encoding="utf-8").splitlines() if line.strip()]

    def day(line: str) -> str:
        row = json.loads(line)
        if "created" in row:
            return datetime.fromtimestamp(row["created"], timezone.utc).date().isoformat()
        return datetime.fromisoformat(row["timestamp"].replace("Z", "+00:00")).date().isoformat()

    last = max(day(line) for line in rows)
    n1, n2 = out / "night1.jsonl", out / "night2.jsonl"
    n1.write_text("".join(line + "\n" for line in rows if day(line) < last), encoding="utf-8")
    n2.write_text("".join(line + "\n" for line in rows if day(line) == last), encoding="utf-8")
    return n1, n2


def timed_run(
    store: Path, inputs: Sequence[Path], accounts: Path, stderr: Path
) -> tuple[float, list[tuple[str, float]]]:
    """An uninterrupted non-quiet run: its wall time and stage markers."""
    p = Launched(run_args(store, inputs, accounts, quiet=False), stderr)
    rc, lines, err = p.wait()
    duration = time.monotonic() - p.t0
    if rc != 0:
        raise RuntimeError(f"uninterrupted run failed ({rc}): {err.strip()[-2000:]}")
    return duration, markers(lines)


def prepare(work: Path, *, scale: float = 0.3, log_seed: int = 0, say: Callable[[str], None] = print) -> Fixture:
    """Demo log split in two nights, and each case's reference: one timed, uninterrupted run, exported."""
    log = work / "log"
    log.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_demo_log.py"), "--out", str(log), "--scale", str(scale)]
        + ["--seed", str(log_seed)],
        check=True,
        capture_output=True,
    )
    accounts = log / "demo-accounts.jsonl"
    night1, night2 = split_nights(log / "demo-requests.jsonl", log)
    base = work / "ref-night1"
    shutil.rmtree(base, ignore_errors=True)
    d1, s1 = timed_run(base, [night1], accounts, work / "ref-night1.err")
    exp1 = export(base, work / "ref-night1-export")
    fresh = Case("fresh", None, [night1], d1, s1, verdicts(exp1))
    say(f"reference fresh: night 1 ({_count(night1):,} prompts) in {d1:.1f}s; stages {_fmt_stages(s1)}")
    ref2 = work / "ref-night2"
    shutil.rmtree(ref2, ignore_errors=True)
    shutil.copytree(base, ref2)
    d2, s2 = timed_run(ref2, [night2], accounts, work / "ref-night2.err")
    prev = Case(
        "previous",
        base,
        [night2],
        d2,
        s2,
        verdicts(export(ref2, work / "ref-night2-export")),
        before=exp1,
        base_current=current_name(base),
    )
    prev.base_digest = tree_digest(base / "snapshots" / str(prev.base_current))
    say(f"reference previous: night 2 ({_count(night2):,} prompts) in {d2:.1f}s; stages {_fmt_stages(s2)}")
    return Fixture(work, accounts, {"fresh": fresh, "previous": prev})


def _count(path: Path) -> int:
    with path.open(encoding="utf-8") as f:
        return sum(1 for line in f if line.strip())


def _fmt_stages(stages: Sequence[tuple[str, float]]) -> str:
    return " ".join(f"{s}@{t:.1f}" for s, t in stages)


# -- one trial ---------------------------------------------------------------------------------------------------


@dataclass
class Trial:
    case: str
    index: int
    mode: str  # "uniform" or "aimed:<stage>"

    @property
    def target(self) -> str | None:
        """The stage an aimed kill was meant for (None for a uniform one)."""
        return self.mode.split(":", 1)[1] if self.mode.startswith("aimed:") else None

    delay: float = 0.0  # seconds from start to the kill
    killed: bool = False  # False: the run had ended before the kill was due
    stage: str = "?"  # stage in progress at the kill, from the markers printed before it
    state: str = "?"  # "unchanged", "committed", or what is wrong
    lock_ok: bool = False
    labels: int = 0  # labels acknowledged by the analyst labelling during the run
    rerun_equal: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.lock_ok and self.rerun_equal and self.state in ("unchanged", "committed")

    def line(self) -> str:
        return (
            f"{'ok  ' if self.ok else 'FAIL'} {self.case:<8} #{self.index:<2} {self.mode:<16} kill at {self.delay:5.2f}s"
            f"{'' if self.killed else ' (already ended)'}  stage {self.stage:<14} previous state {self.state:<9} "
            f"lock {'free' if self.lock_ok else 'STUCK'}  labels {self.labels:>3} kept  "
            f"rerun verdicts {'equal' if self.rerun_equal else 'DIFFER'}"
            + (f"  -- {'; '.join(self.problems)}" if self.problems else "")
        )


def stage_at_kill(stages: Sequence[str], printed: Sequence[tuple[str, float]], lines: Sequence[str]) -> str:
    """The stage in progress when the run died: the one after the last marker it printed."""
    if any(line.startswith("run ") and ": accepted" in line for line in lines):
        return "after-commit"  # the summary is printed once the run has committed and released the lock
    if not printed:
        return f"startup/{stages[0]}" if stages else "startup"
    last = printed[-1][0]
    if last in stages and stages.index(last) + 1 < len(stages):
        return stages[stages.index(last) + 1]
    return "after-commit" if last == stages[-1] else f"after-{last}"


def run_trial(fx: Fixture, case: Case, index: int, mode: str, rng: random.Random, *, keep: bool = False) -> Trial:
    """Start a night on a copy of the case's starting state, SIGKILL it, check the state, rerun, compare."""
    t = Trial(case.name, index, mode)
    store = fx.work / "trials" / f"{case.name}-{index:02d}"
    shutil.rmtree(store, ignore_errors=True)
    store.parent.mkdir(parents=True, exist_ok=True)
    if case.base is not None:
        shutil.copytree(case.base, store)
    names = [s for s, _ in case.stages]
    labeller = start_labeller(store)
    p = Launched(run_args(store, case.inputs, fx.accounts, quiet=False), store.parent / f"{store.name}.err")
    if mode == "uniform":
        # anywhere in the run up to the end of its commit (in the first AIM_SHARE of it, for a trial that runs
        # faster than the reference): a kill after the run has ended would test nothing
        end = case.stages[-1][1] if case.stages else case.duration
        due = p.t0 + rng.uniform(0.0, AIM_SHARE * end)
    else:
        target = mode.split(":", 1)[1]
        i = names.index(target)
        start = case.stages[i - 1][1] if i else 0.0
        extra = rng.uniform(0.0, AIM_SHARE * (case.stages[i][1] - start))
        if i:
            p.wait_marker(names[i - 1], timeout=max(60.0, 5 * case.duration))
            due = time.monotonic() + extra
        else:
            due = p.t0 + extra
    time.sleep(max(0.0, due - time.monotonic()))
    t.delay = time.monotonic() - p.t0
    t.killed = p.kill()
    os.killpg(labeller.pid, signal.SIGKILL)  # the analyst's labelling command dies at the same moment
    acknowledged = [line.strip() for line in labeller.communicate()[0].splitlines() if line.strip()]
    t.labels = len(acknowledged)
    t.problems.extend(labels_problems(store, acknowledged))
    rc, lines, err = p.wait()
    if p.orphans():
        t.problems.append("child processes outlived the killed run")
    if not t.killed and rc != 0:
        t.problems.append(f"run ended by itself with status {rc} before the kill: {err.strip()[-300:]}")
    t.stage = stage_at_kill(names, markers(lines), [line for _, line in lines]) if t.killed else "finished"
    t.lock_ok = lock_free(store)

    # -- the state left behind ---------------------------------------------------------------------------------
    now = current_name(store)
    after_kill: Export | None = None
    try:
        if now == case.base_current:
            t.state = "unchanged"
            if case.base is None:
                # what `promptsim campaigns` does first: a store that never committed says so, in one line
                try:
                    Store(store).require()
                    t.state = "not empty"
                except StoreError as e:
                    if "no store here yet" not in str(e):
                        t.state = "damaged"
                        t.problems.append(str(e)[:200])
            else:
                if tree_digest(store / "snapshots" / str(now)) != case.base_digest:
                    t.state = "files changed"
                # exported from an exact copy of the killed store while the rerun runs on the store itself
                copy = store.parent / f"{store.name}-after-kill"
                shutil.rmtree(copy, ignore_errors=True)
                shutil.copytree(store, copy)
                after_kill = Export(copy, store.parent / f"{store.name}-after-kill-export")
        else:
            snap = Store(store).require()  # the pointer moved: the run must have committed a complete snapshot
            t.state = "committed" if (snap.path / "snapshot.json").exists() else "half-committed"
    except Exception as e:  # noqa: BLE001 - any failure to read the state is the finding
        t.state = "unreadable"
        t.problems.append(f"{type(e).__name__}: {str(e)[:200]}")

    # -- rerun the same night --------------------------------------------------------------------------------
    rerun = cli(run_args(store, case.inputs, fx.accounts, quiet=True), check=False)
    if after_kill is not None:
        try:
            diffs = export_differences(case.before, after_kill.files())
        except Exception as e:  # noqa: BLE001
            t.state = "unreadable"
            t.problems.append(f"export after the kill: {str(e)[:200]}")
        else:
            if diffs:
                t.state = "changed"
                t.problems.extend(diffs)
    if rerun.returncode != 0:
        t.problems.append(f"rerun failed ({rerun.returncode}): {rerun.stderr.strip()[-300:]}")
    else:
        got = verdicts(export(store, store.parent / f"{store.name}-rerun"))
        diffs = got.differences(case.reference)
        t.rerun_equal = not diffs
        t.problems.extend(diffs)
        if case.base_current and t.state == "unchanged" and not (store / "snapshots" / case.base_current).exists():
            t.problems.append("the snapshot live before the kill was collected by the rerun (KEEP_SNAPSHOTS)")
    t.problems.extend(cache_problems(store))
    if not keep:  # a trial's directories: the store, the copy taken after the kill, two exports
        for suffix in ("", "-after-kill", "-after-kill-export", "-rerun"):
            shutil.rmtree(store.parent / f"{store.name}{suffix}", ignore_errors=True)
    return t


def plan(trials: int, seed: int, fx: Fixture) -> list[tuple[Case, int, str]]:
    """Which case and kill mode each trial uses: cases alternate; within a case, uniform and aimed alternate,
    and the aimed stages cycle through one seeded permutation of all stages, so every stage is hit."""
    rng = random.Random(seed)
    stages = [s for s, _ in fx.cases["fresh"].stages]
    order = rng.sample(stages, len(stages))
    out, per_case, aimed = [], Counter[str](), 0
    for i in range(trials):
        case = fx.cases[CASES[i % 2]]
        k = per_case[case.name]
        per_case[case.name] += 1
        if k % 2 == 0:
            mode = "uniform"
        else:
            mode = f"aimed:{order[aimed % len(order)]}"
            aimed += 1
        out.append((case, k, mode))
    return out


def run_suite(
    fx: Fixture, trials: int, seed: int, *, keep: bool = False, say: Callable[[str], None] = print
) -> list[Trial]:
    rng = random.Random(seed + 1)
    results = []
    for case, k, mode in plan(trials, seed, fx):
        t = run_trial(fx, case, k, mode, rng, keep=keep)
        say(t.line())
        results.append(t)
    return results


def summary(results: Sequence[Trial], seed: int, seconds: float) -> str:
    n = len(results)
    by_case = Counter(t.case for t in results)
    stages = Counter(t.stage for t in results)
    failed = [t for t in results if not t.ok]
    states = Counter(t.state for t in results)
    return (
        f"bench_crash: {n} trials ({', '.join(f'{by_case[c]} {c}' for c in CASES)}), seed {seed}: "
        f"{n - len(failed)} ok, {len(failed)} failed; {sum(t.killed for t in results)} killed "
        f"({n - sum(t.killed for t in results)} ended before the kill was due), stage at the kill: "
        + ", ".join(f"{s} {c}" for s, c in sorted(stages.items()))
        + f"; previous state intact {states['unchanged'] + states['committed']}/{n}"
        f" ({states['committed']} had committed), lock free {sum(t.lock_ok for t in results)}/{n}, "
        f"rerun verdicts equal {sum(t.rerun_equal for t in results)}/{n} (score, flagged, campaign grouping; "
        f"campaign ids not compared); {seconds:.0f}s"
    )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=24, help="trials, alternating fresh / previous (default 24)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the kill delays and aimed stages")
    ap.add_argument("--scale", type=float, default=0.3, help="demo log scale (default 0.3: ~2,600 requests)")
    ap.add_argument("--work", type=Path, help="working directory (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the working directory")
    a = ap.parse_args(argv)
    t0 = time.monotonic()
    work = a.work or Path(tempfile.mkdtemp(prefix="bench-crash-"))
    try:
        fx = prepare(work, scale=a.scale)
        results = run_suite(fx, a.trials, a.seed, keep=a.keep)
        print(summary(results, a.seed, time.monotonic() - t0))
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")
    return 0 if all(t.ok for t in results) else 1


if __name__ == "__main__":
    sys.exit(main())
