"""Every number detection writes is checked where it is made: finite, or the night stops and says which.

A statistic that is undefined on a small or odd log (a spread of identical values, a median of nothing, a share of
an empty block) has a defined meaning in the code that makes it -- no evidence -- and says so in the reasons. If one
still comes out NaN or infinite, it must not turn into a score (NaN compares false with every threshold, so a
campaign would silently drop out) or into a crash somewhere downstream that names nothing. So detection checks
its figures before it writes them and stops with one line naming the statistic and the cohort; the store keeps
its last good state, because a night commits nothing until its last step.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import numpy as np


class NonFiniteError(ValueError):
    """A detection figure came out NaN or infinite: which statistic, of which cohort (or account), and its value."""


def check(value: float | np.ndarray, statistic: str, where: str) -> None:
    """Raise NonFiniteError unless every element of ``value`` is finite. ``where``: the cohort or account it is of,
    and ``statistic``: what it measures, as an analyst would find them (the campaign's id, the evidence key)."""
    a = np.asarray(value, dtype=np.float64)
    bad = ~np.isfinite(a)
    if bad.any():
        first = a.ravel()[int(np.flatnonzero(bad.ravel())[0])]
        many = f" ({int(bad.sum())} of {a.size} values)" if a.size > 1 else ""
        raise NonFiniteError(f"detection: {statistic} of {where} is {first}{many}; nothing was written")


def check_columns(matrix: np.ndarray, columns: list[str], statistic: str, where: str) -> None:
    """``check`` per column of ``matrix``, naming the first column that is not finite."""
    if matrix.size and not np.isfinite(matrix).all():
        j = int(np.flatnonzero(~np.isfinite(matrix).all(axis=0))[0])
        check(matrix[:, j], f"{statistic} column {columns[j]!r}", where)


def _numbers(x: object, path: str) -> Iterator[tuple[str, float]]:
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return
    if isinstance(x, int | float | np.floating | np.integer):
        yield path, float(x)
    elif isinstance(x, dict):
        for k, v in x.items():
            yield from _numbers(v, f"{path}.{k}" if path else str(k))
    elif isinstance(x, list | tuple | np.ndarray):
        for i, v in enumerate(x):
            yield from _numbers(v, f"{path}[{i}]")


def check_evidence(evidence: str | dict, where: str) -> None:
    """Every number in a cohort's evidence record (nested, as stored) is finite; the failing one is named by its
    path (``against_random.probe.z``)."""
    data = json.loads(evidence) if isinstance(evidence, str) else evidence
    for path, v in _numbers(data, ""):
        if not math.isfinite(v):
            raise NonFiniteError(f"detection: evidence {path} of {where} is {v}; nothing was written")
