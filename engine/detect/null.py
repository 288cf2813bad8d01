"""What a random crowd of accounts looks like: the null model every cohort statistic is measured against.

Breadth of areas, "no question repeated", a probe-heavy mix: a random set of ordinary accounts of the same size
shows some of each, and a crowd that shares one coincidence (a sign-up day, a stock system prompt, one card, a new
model) *is* such a random set in everything else. So a cohort's statistic is evidence only by how far it lies from
what random sets of its size would show, drawn from this log. For the statistics scored here that is computed in
closed form, not by drawing sets, so it costs O(accounts) once and O(members) per cohort:

Each statistic is a per-prompt value x (a probe probability, a marker, a request to the new model; or one value per
account: a clock, a volume). An account a has n_a values with mean m_a. Accounts differ (the true account means
spread with variance ``tau2`` around ``mu``) and an account's mean over few prompts is noisy (within-account
variance ``sw2``), so Var(m_a) = tau2 + sw2 / n_a: a quiet account's mean says little, a busy one's much (this is
the random-effects / beta-binomial model, fitted by the method of moments). A cohort's statistic is the
precision-weighted mean of its members' means, T = sum(w_a m_a) / sum(w_a) with w_a = 1 / (tau2 + sw2 / n_a); for
random members its expectation is ``mu`` and its variance 1 / sum(w_a). Two numbers come out:

* the **surprise** z = (T - mu) * sqrt(sum w_a): how unlike a random set of these members' sizes the cohort is.
  Hundreds of accounts each too quiet to judge give a large z together when they lean the same way;
* the **effect** d = (T - mu) / sqrt(tau2): how far, in units of how much ordinary accounts differ from each other.
  A very large cohort can be surprising about a tiny difference (a team asking a few more coding questions than the
  log's average); the effect says whether the difference is worth anything.

``Surprise.evidence`` turns both into [0, 1]: the effect ramped between ``d_lo`` and ``d_hi``, times the surprise
ramped between ``z_lo`` and ``z_hi`` (thresholds in ``DetectSettings``).

The fit is over every account of the log, campaigns included: that is what "a random set of this log's accounts"
is, and it is conservative (campaign accounts pull ``mu`` toward themselves and widen ``tau2``, so they are found
by a smaller margin than against the ordinary accounts alone). Trimming the far-out accounts was tried and dropped:
ordinary sub-populations are far out too (the log's Chinese-speaking users for the non-English share), and
trimming them made every random crowd look unusual.

Once campaigns are found, though, the log's accounts are not all candidates for "a random crowd" any more: a log
where a third of the accounts are an operation's (a benchmark's; a real log's share is far smaller) has a null
that is the operations' as much as its users'. So after a first pass the detection steps refit each null on the
accounts outside the flagged campaigns (``RateNull.refit``, ``campaigns.refit_null``) and score again: a campaign
then stands out against the crowd it hides in, and the evidence no longer depends on how many other campaigns share
its log. That is not trimming: only accounts whose campaign the other evidence already established leave the null.
A crowd must still stand above the whole log's mean as well (``RateNull.floor``): the refit changes whom it is
compared with, not what it did.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

#: floor of the between-account variance: a statistic nearly every account shares (no marker anywhere) would
#: otherwise make any difference infinitely many spreads
MIN_TAU2 = 1e-4


@dataclass(frozen=True)
class Surprise:
    """A cohort's statistic against random sets of accounts: observed T, expected mu, effect d, surprise z."""

    observed: float
    expected: float
    d: float
    z: float

    def evidence(self, d_lo: float, d_hi: float, z_lo: float, z_hi: float) -> float:
        """[0, 1]: the effect ramped d_lo..d_hi times the surprise ramped z_lo..z_hi (only excess counts)."""
        return _ramp(self.d, d_lo, d_hi) * _ramp(self.z, z_lo, z_hi)

    @staticmethod
    def none() -> Surprise:
        return Surprise(float("nan"), float("nan"), 0.0, 0.0)


def _ramp(x: float, lo: float, hi: float) -> float:
    if not math.isfinite(x):
        return 0.0
    return float(np.clip((x - lo) / max(hi - lo, 1e-12), 0.0, 1.0))


@dataclass
class RateNull:
    """One statistic's random-effects null, fitted on the log's accounts (see module doc)."""

    name: str
    mean: np.ndarray  # per account: mean of its values (NaN where it has none)
    n: np.ndarray  # per account: how many values
    mu: float
    tau2: float
    sw2: float
    #: a yes/no per account (a machine clock): its spread is the Bernoulli one, so (T - mu) / tau cannot exceed
    #: sqrt((1 - mu) / mu), which is small when the log's busy accounts are often yes; the effect is then the excess
    #: share (T - mu) / (1 - mu) -- how far from the log's share toward every member -- scaled by ``full_d``
    binary: bool = False
    #: the effect of an all-yes cohort on a yes/no statistic: the top of the effect ramp
    #: (``DetectSettings.effect_hi``, which the caller passes), so its foot is a third of the way to all-yes
    full_d: float = 1.5
    #: after a refit (``refit``): the mean of the whole log's accounts, which a cohort must exceed for any evidence
    floor: float | None = None

    @classmethod
    def fit(cls, name: str, total: np.ndarray, total_sq: np.ndarray, n: np.ndarray) -> RateNull:
        """From per-account sums of the values, of their squares, and their counts."""
        n = np.asarray(n, dtype=np.float64)
        has = n > 0
        mean = np.full(len(n), np.nan)
        mean[has] = total[has] / n[has]
        mu, tau2, sw2 = _moments(mean, total_sq, n, has)
        return cls(name, mean, n, mu, tau2, sw2)

    @classmethod
    def per_account(
        cls,
        name: str,
        values: np.ndarray,
        valid: np.ndarray | None = None,
        binary: bool = False,
        full_d: float = 1.5,
    ) -> RateNull:
        """A statistic with one value per account (a clock, a volume); ``valid`` False where it is unknown;
        ``binary``: a yes/no, whose all-yes cohort has effect ``full_d``."""
        v = np.asarray(values, dtype=np.float64)
        ok = np.isfinite(v) if valid is None else (np.asarray(valid, dtype=bool) & np.isfinite(v))
        v0 = np.where(ok, v, 0.0)
        null = cls.fit(name, v0, v0**2, ok.astype(np.float64))
        null.binary, null.full_d = binary, full_d
        return null

    def refit(self, keep: np.ndarray) -> RateNull:
        """This statistic's null fitted again on the ``keep`` accounts only (``mu`` and ``tau2``; the within-account
        noise ``sw2`` is a property of the statistic and stays). Every account keeps its own mean and count, so a
        cohort of any accounts is still measured; unchanged where no kept account has a value.

        The whole log's mean stays as a floor (``floor``; the first fit's, whatever refits follow): a cohort at or
        below it has no evidence on this statistic. Refitting changes whom a crowd is compared with, not the crowd,
        so a crowd that asked no more than the whole log did is no more suspect because operations left the
        comparison: on public.json an agent framework's 60 users (probe 0.20; ordinary accounts 0.13, the whole log
        0.22) went from 0.32 to 0.48 with the flag at 0.5, and stay at 0.32 with the floor. The quiet crowds the
        refit is for stand above both (public4.json's drip swarm: 0.6 against 0.23 and 0.36): no verdict of
        public3 or public4 (three draws) moved."""
        has = (self.n > 0) & keep
        if not has.any():
            return self
        m, n = self.mean[has], self.n[has]
        tau2 = float(m.var() - np.mean(self.sw2 / n)) if len(m) > 1 else 0.0
        floor = self.mu if self.floor is None else self.floor
        return replace(self, mu=float(m.mean()), tau2=max(tau2, MIN_TAU2), floor=floor)

    def weights(self, members: np.ndarray) -> np.ndarray:
        n = self.n[members]
        return np.where(n > 0, 1.0 / (self.tau2 + self.sw2 / np.maximum(n, 1)), 0.0)

    def test(self, members: np.ndarray, means: np.ndarray | None = None) -> Surprise:
        """The cohort's precision-weighted mean against random sets of accounts of the same sizes.

        ``means`` (per member) replaces the members' own means where the cohort reads a value only it can tell (an
        affix its members do not share): random sets are still those of the fitted statistic."""
        w = self.weights(members)
        total = float(w.sum())
        if total <= 0:
            return Surprise.none()
        t = float(np.nansum(w * (self.mean[members] if means is None else means)) / total)
        diff = t - self.mu
        d = diff / max(1.0 - self.mu, 1e-9) * self.full_d if self.binary and diff > 0 else diff / math.sqrt(self.tau2)
        if self.floor is not None and t <= self.floor:
            return Surprise(t, self.mu, min(d, 0.0), min(diff * math.sqrt(total), 0.0))
        return Surprise(t, self.mu, d, diff * math.sqrt(total))

    def shrunk(self) -> np.ndarray:
        """Per account: its mean shrunk toward mu by its uncertainty (empirical Bayes); mu where it has none.
        What a quiet account's profile holds: 3 probes out of 4 prompts is not the same as 75 out of 100."""
        n = np.maximum(self.n, 0)
        k = self.tau2 / (self.tau2 + self.sw2 / np.maximum(n, 1))
        return np.where(n > 0, self.mu + k * (np.nan_to_num(self.mean, nan=self.mu) - self.mu), self.mu)


def _moments(mean: np.ndarray, total_sq: np.ndarray, n: np.ndarray, keep: np.ndarray) -> tuple[float, float, float]:
    """mu, tau2 (between accounts) and sw2 (within an account) by the method of moments over ``keep`` accounts."""
    if not keep.any():
        return 0.0, MIN_TAU2, 0.0
    m, nk = mean[keep], n[keep]
    # within: pooled variance of an account's values around its own mean (accounts with at least two values)
    two = nk >= 2
    within = total_sq[keep][two] - nk[two] * m[two] ** 2
    sw2 = float(max(within.sum(), 0.0) / max((nk[two] - 1).sum(), 1.0)) if two.any() else 0.0
    mu = float(m.mean())
    # between: the spread of account means, less what their own noise explains
    tau2 = float(m.var() - np.mean(sw2 / nk)) if len(m) > 1 else 0.0
    return mu, max(tau2, MIN_TAU2), sw2
