"""How steps run: the in-process executor, with per-step wall time, peak memory and a progress line.

The steps (``engine.pipeline.steps``) are plain functions; an executor decides where they run and records what
each cost. ``LocalExecutor`` runs them here, one after the other; another executor only has to keep the ``step``
contract (a name, a function, its inputs; the function's result back).
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class InjectedFailure(RuntimeError):
    """Raised after the step named by ``RunConfig.fail_after``: lets tests kill a run at a chosen point."""


class LocalExecutor:
    """Runs each step in this process; records its seconds and the peak RSS so far, prints a line unless quiet."""

    def __init__(self, *, quiet: bool = False, fail_after: str | None = None) -> None:
        self.quiet, self.fail_after = quiet, fail_after
        self.timings: dict[str, float] = {}
        self.peak_rss_mb: dict[str, float] = {}

    def step(self, name: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        self.timings[name] = round(time.perf_counter() - t0, 3)
        self.peak_rss_mb[name] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        self.say(f"[{name}] {self.timings[name]:.1f}s, peak RSS {self.peak_rss_mb[name]:,.0f} MB")
        describe = getattr(out, "describe", None)
        if callable(describe):
            self.say(describe())
        self.check(name)
        return out

    def check(self, point: str) -> None:
        """Raise InjectedFailure at ``point`` when the run was told to fail there (tests)."""
        if self.fail_after == point:
            raise InjectedFailure(f"injected failure after {point}")

    def say(self, msg: str) -> None:
        if not self.quiet:
            print(msg, flush=True)
