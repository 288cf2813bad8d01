"""Evidence that a cohort is an extraction campaign, one family at a time, each measured against random crowds.

A cohort's every statistic is compared with what random sets of the log's accounts of the same sizes would show
(``engine.detect.null``): a crowd that shares one coincidence -- a sign-up day, a stock system prompt, one card, a
new model -- is a random sample of the log in everything else, so it scores near zero on everything else. Each
statistic gives an effect (how far, in spreads of ordinary accounts) and a surprise (how unlike a random crowd, z);
a family's evidence needs both.

* **content** (what it asks): probe-like payloads (content model), requests for reasoning, grading or refusal
  explanations, non-English payloads, each against random crowds -- scaled by the *sweep*: a campaign asks many
  different questions, a course, a classroom or a viral prompt a small pool again and again;
* **behaviour** (how): machine clocks (round the clock, or the same minute every hour), volume per account, a model
  choice unlike random crowds', and how fast the cohort moved to a model released during the window compared with
  the log's ordinary adoption (``NewModel``);
* **provenance** (where from): accounts created in a burst (binomial tail of the densest window against the sign-up
  rate of all accounts), payment cards shared across accounts, few network ASNs for many accounts.

``cohort_score`` weighs the three families (``content_weight`` ...) so that none reaches the flag score alone.

Legitimate look-alikes are discounted for reasons an analyst recognises: one organisation's own ordinary traffic
(a team, a course, a customer's harness on one org or card), one text copied by many (a viral prompt), few
accounts. Each function returns a small record of numbers that both the score and the reasons
(``engine.detect.explain``) read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp
from scipy.stats import binom

from engine.detect.null import RateNull, Surprise
from engine.detect.settings import DetectSettings
from engine.detect.signals import AREAS, AccountSignals, Context, TextSignals, value_codes
from engine.ingest.network import is_prefix
from engine.ingest.records import epoch_seconds

#: the per-prompt content statistics every cohort is tested on (markers are named as in the taxonomy)
CONTENT_STATS = ("probe", "reasoning", "grading", "refusal", "foreign")
MARKER_STATS = ("reasoning", "grading", "refusal")
HOUR = 3600.0


@dataclass
class NewModel:
    """A model released during the window: its name, when its use jumped, and each account's use of it after."""

    name: str
    release: float  # epoch seconds: the change point of its share of requests
    share_before: float  # its share of all requests before the release (stray or early requests)
    share_after: float  # ... after


def find_new_model(model: np.ndarray, names: list[str], t: np.ndarray, s: DetectSettings) -> NewModel | None:
    """The model whose share of requests grew most during the window, if it grew enough to be a release.

    Shares are counted per hour; a model is new when its share over the last quarter of the window is at least
    ``new_model_min_share`` and at least ``new_model_growth`` times its share over the first quarter. Its release
    is the change point of its hourly share (the step that best explains the counts, binomial likelihood), so it
    does not depend on a stray early request to it.
    """
    if len(t) == 0 or len(names) < 2:
        return None
    t0, t1 = float(t.min()), float(t.max())
    if t1 - t0 < 4 * HOUR:
        return None
    hour = ((t - t0) // HOUR).astype(np.int64)
    n_hours = int(hour.max()) + 1
    per_hour = np.bincount(hour, minlength=n_hours).astype(np.float64)
    q = max(1, n_hours // 4)
    best, best_growth = None, 0.0
    for j, name in enumerate(names):
        c = np.bincount(hour[model == j], minlength=n_hours).astype(np.float64)
        first = c[:q].sum() / max(per_hour[:q].sum(), 1.0)
        last = c[-q:].sum() / max(per_hour[-q:].sum(), 1.0)
        growth = last / max(first, 1e-6)
        if last >= s.new_model_min_share and growth >= s.new_model_growth and growth > best_growth:
            best, best_growth = (j, name, c), growth
    if best is None:
        return None
    j, name, c = best
    # change point: the split of the hours maximising the two-rate binomial log-likelihood
    cc, nn = np.cumsum(c), np.cumsum(per_hour)
    k_tot, n_tot = cc[-1], nn[-1]

    def loglik(k: np.ndarray, n: np.ndarray) -> np.ndarray:
        p = np.clip(k / np.maximum(n, 1e-12), 1e-9, 1 - 1e-9)
        return k * np.log(p) + (n - k) * np.log(1 - p)

    split = np.arange(1, n_hours)
    ll = loglik(cc[:-1], nn[:-1]) + loglik(k_tot - cc[:-1], n_tot - nn[:-1])
    h = int(split[int(np.argmax(ll))]) if len(split) else 0
    before = cc[h - 1] / max(nn[h - 1], 1.0) if h else 0.0
    after = (k_tot - (cc[h - 1] if h else 0.0)) / max(n_tot - (nn[h - 1] if h else 0.0), 1.0)
    return NewModel(str(name), t0 + h * HOUR, float(before), float(after))


@dataclass
class Population:
    """The log's accounts as the null for every cohort: each statistic's random-crowd model, and per-prompt lookups."""

    rates: dict[str, RateNull]  # per-prompt statistics (content, model choice, new model), by name
    volume: RateNull  # per account: log10 requests an active day
    burner: RateNull  # per account whose lifecycle the window shows: 1 = made just before use, gone soon after
    sleeper: RateNull  # per account whose past the store shows: 1 = woke tonight after a long silence
    machine: RateNull  # per account with enough requests for a clock: 1 = round the clock or lockstep
    new_model: NewModel | None
    has_accounts: bool  # an account table gave sign-up dates or cards
    model_names: list[str]
    probe: np.ndarray  # per window prompt: probe probability
    group: np.ndarray  # per window prompt: payload group (near-duplicate questions share one)
    codes: np.ndarray  # per window prompt: account code
    senders: np.ndarray  # per payload group: how many accounts send it
    asn_shares: np.ndarray  # share of accounts on each ASN
    area: np.ndarray  # per window prompt: capability area (-1 none)
    foreign: np.ndarray  # per window prompt: non-English payload
    marked: np.ndarray  # per window prompt: any marker
    markers: dict[str, np.ndarray]  # per window prompt, per marker
    ts: np.ndarray  # per window prompt: epoch seconds
    prompts_by_acc: np.ndarray
    acc_bounds: np.ndarray
    solo: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per account: its own evidence (solo_evidence)
    #: per window prompt: something its account asked, not an agent's tool result (None: every prompt)
    asked: np.ndarray | None = None
    #: per window prompt, per affix (``TextSignals.affixes``): the affix's key where it is one its account holds
    #: constant (``constant_affixes``), else 0; None where the text signals read no affixes
    affix_const: np.ndarray | None = None
    #: per account that asked ``affix_min_prompts`` distinct texts: 1 = it holds a constant affix (a wrapper of its
    #: own or a product's); None where the text signals read no affixes
    wrapped: RateNull | None = None
    #: per distinct text, its affix keys (``TextSignals.affixes``), and per window prompt its text row: which
    #: affixes a prompt carries whether or not its account holds them constant (``own_wrappers``)
    affixes: np.ndarray | None = None
    text_row: np.ndarray | None = None

    @classmethod
    def measure(cls, ctx: Context, ts: TextSignals, acc: AccountSignals, s: DetectSettings) -> Population:
        n_acc = len(acc.n_prompts)
        rows = ctx.text_row
        codes = ctx.account_codes
        _, asn_counts = np.unique(acc.asn.astype(str), return_counts=True)
        marked = np.zeros(len(rows), dtype=bool)
        for m in ts.markers.values():
            marked |= m[rows]
        order = np.argsort(codes, kind="stable")
        t = epoch_seconds(ctx.window["timestamp"]).astype(np.float64)
        probe = ts.probe[rows].astype(np.float64)
        model, model_names = value_codes(ctx.window["model"])

        def rate(name: str, x: np.ndarray, where: np.ndarray | None = None) -> RateNull:
            x = x.astype(np.float64)
            c = codes if where is None else codes[where]
            x = x if where is None else x[where]
            return RateNull.fit(
                name, np.bincount(c, x, n_acc), np.bincount(c, x * x, n_acc), np.bincount(c, minlength=n_acc)
            )

        # how probe-like an account's questions are: what it asked, not what an agent's tools returned to it
        asked = ~ctx.tool_result[rows]
        rates = {"probe": rate("probe", probe, asked), "foreign": rate("foreign", ts.foreign[rows])}
        affix_const, wrapped = None, None
        if ts.affixes is not None and ts.affixes.shape[1]:
            # over what the accounts asked: an agent's tool results are what its tools returned, however alike
            affix_const = np.zeros((len(rows), ts.affixes.shape[1]), np.int64)
            on = np.flatnonzero(asked)
            affix_const[on], distinct = constant_affixes(ts.affixes[rows[on]], codes[on], n_acc, s, rows[on])
            wraps = (affix_const != 0).any(axis=1)
            # a probe inside one of its account's constant affixes; the log's own rate, whoever holds the affix
            rates["own_wrapper"] = rate("own_wrapper", probe * wraps, asked)
            # ... and per account, whether it holds one at all: a trait (``campaigns.keep_traits``), known where
            # the account asked enough distinct texts for a constant to show
            held = np.bincount(codes[wraps], minlength=n_acc) > 0
            wrapped = RateNull.per_account(
                "wrapped", held.astype(np.float64), distinct >= s.affix_min_prompts, binary=True, full_d=s.effect_hi
            )
        for m in ("reasoning", "grading", "refusal"):
            if m in ts.markers:
                rates[m] = rate(m, ts.markers[m][rows])
                pm = ts.payload_markers.get(m) if ts.payload_markers else None
                rates[f"payload:{m}"] = rate(f"payload:{m}", (pm if pm is not None else ts.markers[m])[rows])
        for j, name in enumerate(model_names):
            rates[f"model:{name}"] = rate(f"model:{name}", model == j)
        new = find_new_model(model, model_names, t, s)
        if new is not None:
            # the share of each account's requests to the new model within adoption_hours of its release
            soon = (t >= new.release) & (t < new.release + s.adoption_hours * HOUR)
            rates["adoption"] = rate("adoption", model == model_names.index(new.name), soon)
            # ... and whether it used it at all then (of the accounts active then): how uniformly a cohort moved
            used = rates["adoption"]
            moved = np.nan_to_num(used.mean) >= s.adopted_min_share
            rates["adopted"] = RateNull.per_account("adopted", moved, used.n > 0)
        eligible = acc.n_prompts >= s.min_prompts_for_clock
        machine = (acc.max_hour_gap < s.quiet_hours) | (acc.minute_r > s.lockstep_r)
        pop = cls(
            rates=rates,
            volume=RateNull.per_account("volume", np.log10(np.maximum(acc.per_day, 1e-3))),
            burner=burners(acc, float(t.max()) if len(t) else 0.0, s),
            sleeper=sleepers(acc, ctx.earlier, ctx.history_start, s),
            machine=RateNull.per_account(
                "machine", machine.astype(np.float64), eligible, binary=True, full_d=s.effect_hi
            ),
            new_model=new,
            has_accounts=bool(np.isfinite(acc.created).any() or (acc.payment.astype(str) != "").any()),
            model_names=[str(m) for m in model_names],
            probe=probe,
            group=ctx.payload_group[rows],
            codes=codes,
            senders=np.bincount(np.unique(np.stack([ctx.payload_group[rows], codes], axis=1), axis=0)[:, 0]),
            asn_shares=asn_counts / max(asn_counts.sum(), 1),
            area=ts.area[rows],
            foreign=ts.foreign[rows],
            marked=marked,
            markers={k: v[rows] for k, v in ts.markers.items()},
            ts=t,
            prompts_by_acc=order,
            acc_bounds=np.searchsorted(codes[order], np.arange(n_acc + 1)),
            asked=asked,
            affix_const=affix_const,
            wrapped=wrapped,
            affixes=ts.affixes if affix_const is not None else None,
            text_row=rows,
        )
        pop.solo = solo_evidence(pop, s)
        return pop

    def without(self, out: np.ndarray, s: DetectSettings) -> Population:
        """The same log with every statistic's null refitted on the accounts not in ``out`` (per account; the
        first pass's flagged campaigns, ``campaigns.refit_null``): random crowds are then drawn from the crowd a
        campaign hides in, not from the other campaigns beside it. Per-prompt lookups are shared, not copied."""
        keep = ~np.asarray(out, dtype=bool)
        pop = replace(
            self,
            rates={k: v.refit(keep) for k, v in self.rates.items()},
            volume=self.volume.refit(keep),
            burner=self.burner.refit(keep),
            sleeper=self.sleeper.refit(keep),
            machine=self.machine.refit(keep),
            wrapped=None if self.wrapped is None else self.wrapped.refit(keep),
        )
        pop.solo = solo_evidence(pop, s)
        return pop

    def prompts_of(self, members: np.ndarray) -> np.ndarray:
        """Window prompt indices of the given accounts."""
        return np.concatenate([self.prompts_by_acc[self.acc_bounds[a] : self.acc_bounds[a + 1]] for a in members])

    def asked_of(self, pidx: np.ndarray) -> np.ndarray:
        """Those of window prompts ``pidx`` that their account asked, leaving out an agent's tool results; all of
        ``pidx`` when that leaves none (a cohort is never measured on nothing)."""
        if self.asked is None:
            return pidx
        q = pidx[self.asked[pidx]]
        return q if len(q) else pidx


def constant_affixes(
    keys: np.ndarray, codes: np.ndarray, n_acc: int, s: DetectSettings, texts: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per prompt and affix column: the key where the prompt's account carries it on at least ``affix_min_share``
    of its distinct texts (and has ``affix_min_prompts`` of them), else 0; and per account, its distinct texts.

    That is a wrapper by its structure, not its words: the same opening or closing around texts that differ. So the
    texts are counted once each (``texts``: per prompt, its text row; None: every prompt its own): one question sent
    again and again (a retry, a viral prompt) has the same first words every time and is no wrapper."""
    texts = np.arange(len(codes)) if texts is None else texts
    _, first = np.unique(codes.astype(np.int64) * (int(texts.max(initial=0)) + 1) + texts, return_index=True)
    n = np.bincount(codes[first], minlength=n_acc)  # distinct texts per account
    out = np.zeros_like(keys)
    for j in range(keys.shape[1]):
        # one int64 per (account, affix): the affix key is a hash already, so mixing the account in keeps it one
        # (a 1-d unique is ~10x faster than a row-wise one at 1M prompts)
        pair = keys[:, j] * np.int64(1_000_003) + codes
        once = first[keys[first, j] != 0]
        held, at, count = np.unique(pair[once], return_index=True, return_counts=True)
        acct = codes[once][at]
        constant = held[(count >= s.affix_min_share * n[acct]) & (n[acct] >= s.affix_min_prompts)]
        on = (keys[:, j] != 0) & np.isin(pair, constant)
        out[on, j] = keys[on, j]
    return out, n


def own_wrappers(members: np.ndarray, pop: Population, s: DetectSettings) -> Surprise:
    """Probe-like questions inside a constant wrapper of each account's own, against random crowds.

    An operation that gives every account its own short wrapper shares no wrapper text between them, yet each of its
    accounts wraps its questions the same way, every time. A wrapper counts as an account's own when at most
    ``own_affix_share`` of the cohort's members hold it: one the whole cohort holds is a product's or a course's,
    which the linker reads; and when at least ``own_affix_holder_share`` of the cohort's texts that carry it come
    from its holders: a course's phrase is on its other members' texts as well. The null counts every constant
    affix, which is what a random crowd shows: its members seldom hold the same one."""
    null = pop.rates.get("own_wrapper")
    if null is None or pop.affix_const is None or not len(members):
        return Surprise.none()
    pidx = pop.prompts_of(members)
    keys, who = pop.affix_const[pidx], pop.codes[pidx]
    on = keys != 0
    pairs = np.unique(np.stack([keys[on], np.broadcast_to(who[:, None], keys.shape)[on]], axis=1), axis=0)
    held_by, holders = np.unique(pairs[:, 0], return_counts=True)
    mine = held_by[holders <= max(1.0, s.own_affix_share * len(members))]
    asked = pop.asked[pidx] if pop.asked is not None else np.ones(len(pidx), bool)  # not an agent's tool results
    if pop.affixes is not None and pop.text_row is not None and len(mine):
        # ... and only its holders use it: a course's or a product's phrase that a few members happen to put on most
        # of their few texts is on the other members' texts too, where an operation's per-account wrapper is not
        raw = pop.affixes[pop.text_row[pidx[asked]]]
        carried = np.isin(raw, mine)
        used, uses = np.unique(raw[carried], return_counts=True)
        held, holder_uses = np.unique(raw[carried & (keys[asked] == raw)], return_counts=True)
        by_holders = np.zeros(len(used))
        by_holders[np.searchsorted(used, held)] = holder_uses
        mine = used[by_holders >= s.own_affix_holder_share * uses]
    x = pop.probe[pidx] * (on & np.isin(keys, mine)).any(axis=1)
    x, who = x[asked], who[asked]
    order = np.argsort(members)
    at = order[np.searchsorted(members, who, sorter=order)]  # each prompt's member position
    total = np.bincount(at, weights=x, minlength=len(members))
    count = np.bincount(at, minlength=len(members))
    return null.test(members, np.where(count > 0, total / np.maximum(count, 1), np.nan))


def burners(acc: AccountSignals, end: float, s: DetectSettings) -> RateNull:
    """Per account: made at most ``burner_fresh_days`` before its first request and gone within ``burner_life_days``
    of it, against random crowds (a yes/no). Judged where the account table gives a creation date and the log runs
    on at least ``2 x burner_life_days`` after the first request (so "gone" is seen, not the log's end); elsewhere
    unknown. A rotation -- a fresh batch of accounts each day, each used for a day -- is no burst against the log's
    sign-ups, yet every member shares this lifecycle, which ordinary sign-ups (who come back) mostly do not."""
    life = s.burner_life_days * 86400.0
    known = np.isfinite(acc.age_days) & (acc.n_prompts > 0) & (acc.first_seen <= end - 2 * life)
    burner = (acc.age_days <= s.burner_fresh_days) & (acc.last_seen - acc.first_seen < life)
    return RateNull.per_account("burner", burner.astype(np.float64), known, binary=True, full_d=s.effect_hi)


def sleepers(
    acc: AccountSignals, earlier: np.ndarray | None, history_start: float | None, s: DetectSettings
) -> RateNull:
    """Per account: active in the window after at least ``sleeper_days`` with no request, against random crowds (a
    yes/no). An account with an earlier stored request woke when the gap to its first request here is that long;
    one with none (the account table must give its creation date) when it was made that long before its first
    request. Judged only where the stored history reaches ``sleeper_days`` before the account's first request here,
    so on a first night, or a store younger than that, nobody is. Aged accounts bought or kept idle for an
    operation wake together; ordinary users who come back after a break do so at their own times, and a crowd of
    them that shares only that (a release day) is a random sample of the log in everything else."""
    n = len(acc.n_prompts)
    if earlier is None or history_start is None:
        return RateNull.per_account("sleeper", np.zeros(n), np.zeros(n, bool), binary=True, full_d=s.effect_hi)
    quiet = s.sleeper_days * 86400.0
    seen = np.isfinite(earlier)
    covered = (acc.n_prompts > 0) & (acc.first_seen - history_start >= quiet)
    known = covered & (seen | np.isfinite(acc.age_days))
    with np.errstate(invalid="ignore"):
        woke = np.where(seen, acc.first_seen - earlier >= quiet, acc.age_days >= s.sleeper_days)
    return RateNull.per_account("sleeper", woke.astype(np.float64), known, binary=True, full_d=s.effect_hi)


def evidence_of(x: Surprise, s: DetectSettings) -> float:
    """A statistic's evidence under the settings' effect and surprise ramps (``Surprise.evidence``)."""
    return x.evidence(s.effect_lo, s.effect_hi, s.surprise_lo, s.surprise_hi)


def shared_trait(x: Surprise, s: DetectSettings) -> bool:
    """Whether nearly every member of a cohort (``trait_share``) has a yes/no trait (a lifecycle: burner,
    sleeper; a constant wrapper), and that is evidence for the cohort: a trace of one operator."""
    return x.observed >= s.trait_share and evidence_of(x, s) > 0


# -- provenance ------------------------------------------------------------------------------------------------


@dataclass
class Burst:
    evidence: float
    accounts: int  # in the densest window
    start: float  # epoch seconds
    days: float
    p_value: float
    #: (start, end) epoch seconds of the widest window in which the cohort's sign-ups still make a burst strong
    #: enough to tie it (evidence >= burst_veto; NaN when none does): the accounts the burst ties
    ties: tuple[float, float] = (float("nan"), float("nan"))


def sign_up_burst(created: np.ndarray, all_created: np.ndarray, s: DetectSettings) -> Burst:
    """Evidence that a cohort's accounts were created in a burst.

    At each of burst_scales the densest window of the cohort's sign-ups is compared with the share of all other
    accounts created in that same window (a binomial tail), so 250 accounts made in three days stand out, and so
    do 70 made over six weeks, while ordinary users who happened to sign up the same month do not. The evidence is
    scaled by the share of the cohort inside the window (a window holding 6% of a cohort says little about it),
    and the strongest scale wins. The widest window that still ties the cohort (``Burst.ties``) says which of its
    accounts were made in the burst: a rotation's fresh batches made over a week are one burst at seven days.
    """
    c = np.sort(created[~np.isnan(created)])
    pop = np.sort(all_created[~np.isnan(all_created)])
    best = Burst(0.0, len(c), float("nan"), 0.0, 1.0)
    if len(c) < 2 or len(pop) <= len(c):
        return best
    ties = (float("nan"), float("nan"))
    for days in sorted(s.burst_scales):
        w = days * 86400
        counts = np.searchsorted(c, c + w, side="right") - np.arange(len(c))
        i = int(np.argmax(counts))
        m, start = int(counts[i]), float(c[i])
        in_window = np.searchsorted(pop, start + w, side="right") - np.searchsorted(pop, start)
        p_null = min(1.0, max(in_window - m, 1) / (len(pop) - len(c)))
        p = float(binom.sf(m - 1, len(c), p_null))
        ev = min(1.0, -math.log10(max(p, 1e-300)) / s.burst_full_log10) * min(1.0, 2 * m / len(c))
        if ev >= s.burst_veto:
            ties = (start, start + w)
        if ev > best.evidence:
            best = Burst(ev, m, start, days, p)
    return replace(best, ties=ties)


@dataclass
class Provenance:
    burst: Burst
    shared_pay: float  # share of accounts whose card another account of the cohort uses
    shared_cards: np.ndarray  # those cards
    n_cards: int
    n_asn: int
    expected_asn: float  # distinct ASNs expected for this many accounts drawn from the log
    infra: float
    young: float  # share of accounts under young_days
    burner: Surprise  # share made just before use and gone soon after, against random crowds (``burners``)
    sleeper: Surprise  # share that woke after a long silence, against random crowds (``sleepers``)
    evidence: float
    by_prefix: bool = False  # the networks are address prefixes, not ASNs (no --asn-db: engine.ingest.network)


def provenance(members: np.ndarray, acc: AccountSignals, pop: Population, s: DetectSettings) -> Provenance:
    n = len(members)
    burst = sign_up_burst(acc.created[members], acc.created, s)
    pay = acc.payment[members].astype(str)
    cards, uses = np.unique(pay[pay != ""], return_counts=True)
    shared = cards[uses > 1]
    shared_pay = float(np.isin(pay, shared).mean()) if len(cards) else 0.0
    networks = set(acc.asn[members].astype(str)) - {""}
    n_asn = len(networks)
    by_prefix = sum(map(is_prefix, networks)) * 2 > n_asn
    exp_asn = float(np.sum(1.0 - (1.0 - pop.asn_shares) ** n))
    e_asn = float(np.clip(1 - n_asn / max(exp_asn, 1), 0, 1)) if n >= s.min_accounts_for_asn else 0.0
    infra = max(shared_pay, e_asn)
    ages = acc.age_days[members]
    young = float(np.nanmean(ages < s.young_days)) if np.isfinite(ages).any() else 0.0
    burner, sleeper = pop.burner.test(members), pop.sleeper.test(members)
    lifecycle = 1 - (1 - evidence_of(burner, s)) * (1 - evidence_of(sleeper, s))
    evidence = 1 - (1 - burst.evidence) * (1 - s.infra_weight * infra) * (1 - lifecycle)
    return Provenance(
        burst, shared_pay, shared, len(cards), n_asn, exp_asn, infra, young, burner, sleeper, evidence, by_prefix
    )


# -- content ---------------------------------------------------------------------------------------------------


@dataclass
class Content:
    capability_share: float  # share of prompts the area exemplars place in a capability area
    probe: float  # mean probe probability of its prompts (content model)
    areas: np.ndarray  # prompts per capability area, then non-English payloads
    covered: int  # areas holding at least area_min_share of the probes
    area_entropy: float  # spread of its probes over the areas, 0 (one area) .. 1 (even over all)
    marker_share: float
    marker_shares: dict[str, float]
    surprise: dict[str, Surprise]  # each content statistic against random crowds of the same sizes
    parts: dict[str, float]  # each statistic's evidence (effect and surprise ramped)
    distinct: float  # distinct questions (payload groups) / prompts
    shared_pool: float  # average share of the cohort's other accounts that send the same question
    breadth: float  # sweep multiplier: 1 = many different questions, 0 = one small pool asked again and again
    evidence: float


def content(pidx: np.ndarray, members: np.ndarray, pop: Population, s: DetectSettings) -> Content:
    """What the cohort asks against random crowds: probe-like payloads, reasoning / grading / refusal requests and
    non-English payloads, each as effect x surprise (``engine.detect.null``); probes and markers combine as
    independent evidence (noisy-or, markers and languages counting ``marker_weight`` / ``language_weight``), scaled
    by the sweep: few questions shared between its accounts (``shared_pool``: in a course of 80 asking 60 problems
    the average problem is sent by a third of the class; a campaign drawing a benchmark with repeats spreads them
    over a handful of its hundreds of accounts), and only as much as the cohort repeats itself (``distinct``:
    distinct questions / prompts, at most ``sweep_distinct`` for one small pool): a small operation sampling a
    benchmark with replacement shares questions between its few accounts, yet most of its prompts are new."""
    area = pop.area[pidx]
    cap = area >= 0
    hist = np.r_[np.bincount(area[cap], minlength=len(AREAS)).astype(float), pop.foreign[pidx].sum()]
    covered = int((hist >= s.area_min_share * max(cap.sum(), 1)).sum()) if cap.any() else 0
    h = hist[: len(AREAS)][hist[: len(AREAS)] > 0] / max(hist[: len(AREAS)].sum(), 1)
    entropy = float(-(h * np.log(h)).sum() / np.log(len(AREAS))) if len(h) > 1 else 0.0
    surprise = {k: pop.rates[k].test(members) for k in CONTENT_STATS if k in pop.rates}
    surprise.update(
        {f"payload:{k}": pop.rates[f"payload:{k}"].test(members) for k in MARKER_STATS if f"payload:{k}" in pop.rates}
    )
    parts = {k: evidence_of(v, s) for k, v in surprise.items()}
    # a marker in the slot (the question itself asks for reasoning) counts as it is; one in the wrapper around it
    # counts as much as the questions are probe-like: a stock system prompt that says "think step by step" is the
    # coincidence its unrelated users share, and their questions are the log's ordinary ones
    in_payload = max((parts.get(f"payload:{k}", 0.0) for k in MARKER_STATS), default=0.0)
    in_text = max((parts.get(k, 0.0) for k in MARKER_STATS), default=0.0)
    marker = max(in_payload, in_text * parts.get("probe", 0.0))
    # the sweep measures count what the accounts asked: an agent's tool results (the same test run, the same file
    # listing, in every session) are what its tools returned, not a question shared between its accounts
    q = pop.asked_of(pidx)
    g, who = pop.group[q], pop.codes[q]
    pairs = np.unique(np.stack([g, who], axis=1), axis=0)
    uq, senders = np.unique(pairs[:, 0], return_counts=True)
    inside = senders[np.searchsorted(uq, g)]
    # both sweep measures weigh every account alike, so that one heavy member (a customer's harness on the course's
    # card) does not stand for the cohort: the pool is averaged per account, and distinct questions are counted
    # over each account's first m prompts (m: the median member's count)
    o = np.argsort(who, kind="stable")
    _, first, per = np.unique(who[o], return_index=True, return_counts=True)
    share = np.add.reduceat((inside[o] - 1) / max(len(members) - 1, 1), first) / per if len(q) else np.zeros(0)
    shared_pool = float(share.mean()) if len(share) else 0.0
    m = max(int(np.median(per)), 1) if len(per) else 1
    kept = g[o][np.arange(len(o)) - np.repeat(first, per) < m]
    distinct = len(np.unique(kept)) / max(len(kept), 1)
    pooled = float(np.clip(shared_pool / s.shared_pool_full, 0, 1))
    repeats = float(np.clip((1 - distinct) / (1 - s.sweep_distinct), 0, 1))
    breadth = 1 - pooled * repeats
    combined = 1 - (1 - parts.get("probe", 0.0)) * (1 - s.marker_weight * marker) * (
        1 - s.language_weight * parts.get("foreign", 0.0)
    )
    return Content(
        capability_share=float(cap.mean()) if len(cap) else 0.0,
        probe=float(pop.probe[pidx].mean()) if len(pidx) else 0.0,
        areas=hist,
        covered=covered,
        area_entropy=entropy,
        marker_share=float(pop.marked[pidx].mean()) if len(pidx) else 0.0,
        marker_shares={k: float(v[pidx].mean()) for k, v in pop.markers.items()},
        surprise=surprise,
        parts=parts,
        distinct=distinct,
        shared_pool=shared_pool,
        breadth=breadth,
        evidence=float(combined * breadth),
    )


# -- behaviour -------------------------------------------------------------------------------------------------


@dataclass
class Behaviour:
    eligible: int  # accounts with enough prompts to judge a clock
    flat: float  # share of those sending round the clock
    lockstep: float  # share of those firing at one minute of the hour
    clock: Surprise  # machine clocks (either kind) against random crowds
    volume: Surprise  # log requests an active day against random crowds
    per_day: float  # median requests per account per active day
    choice: Surprise  # the model the cohort favours most against random crowds
    choice_model: str
    adoption: Surprise  # share of requests to a model released in the window, soon after its release
    uniform: Surprise  # share of members active soon after the release that used the new model then
    adopted: float  # ... that share
    parts: dict[str, float]
    evidence: float
    own: Surprise = field(default_factory=Surprise.none)  # probes inside wrappers of each account's own (own_wrappers)


def behaviour(members: np.ndarray, acc: AccountSignals, pop: Population, s: DetectSettings) -> Behaviour:
    """How the cohort asks, against random crowds: machine clocks, volume, model choice, how fast it moved to a
    newly released model, and capability questions wrapped the same way every time by each account in a wrapper of
    its own (``own_wrappers``), combined as independent evidence (noisy-or). Volume and model choice count only
    ``volume_weight`` / ``model_choice_weight``: power users, teams and companies pinning a model are common; a
    fast, uniform move to a new model counts fully (``adoption``), since ordinary accounts adopt gradually."""
    eligible = members[acc.n_prompts[members] >= s.min_prompts_for_clock]
    flat = float((acc.max_hour_gap[eligible] < s.quiet_hours).mean()) if len(eligible) else 0.0
    lock = float((acc.minute_r[eligible] > s.lockstep_r).mean()) if len(eligible) else 0.0
    clock = pop.machine.test(members)
    volume = pop.volume.test(members)
    choices = {k[6:]: pop.rates[k].test(members) for k in pop.rates if k.startswith("model:")}
    choice_model, choice = max(choices.items(), key=lambda kv: evidence_of(kv[1], s), default=("", Surprise.none()))
    adoption = pop.rates["adoption"].test(members) if "adoption" in pop.rates else Surprise.none()
    uniform = pop.rates["adopted"].test(members) if "adopted" in pop.rates else Surprise.none()
    adopted = uniform.observed if np.isfinite(uniform.observed) else 0.0
    own = own_wrappers(members, pop, s)
    parts = {
        "clock": evidence_of(clock, s),
        "own_wrappers": evidence_of(own, s),
        "volume": evidence_of(volume, s),
        "model_choice": evidence_of(choice, s),
        # fast (its share of requests) or uniform (its share of accounts): either way unlike gradual adoption
        "adoption": max(evidence_of(adoption, s), evidence_of(uniform, s)),
    }
    ev = 1 - (
        (1 - parts["clock"])
        * (1 - s.volume_weight * parts["volume"])
        * (1 - s.model_choice_weight * parts["model_choice"])
        * (1 - parts["adoption"])
        * (1 - parts["own_wrappers"])
    )
    per_day = float(np.median(acc.per_day[members])) if len(members) else 0.0
    return Behaviour(len(eligible), flat, lock, clock, volume, per_day, choice, choice_model, adoption, uniform, adopted,
                     parts, float(ev), own)  # fmt: skip


# -- look-alike discounts --------------------------------------------------------------------------------------


@dataclass
class Discounts:
    top_share: float  # share of prompts in the cohort's commonest slot contents
    distinct: float  # multiplier: one prompt copied by many
    top_org_share: float  # share of accounts, or of prompts, in the cohort's commonest org or on its commonest card
    median_age: float  # of that org's (card's) accounts
    transparent: str  # why it looks like one organisation's own traffic ("" when it does not)
    org: float  # multiplier: one organisation's own ordinary traffic
    size: float  # multiplier: few accounts

    @property
    def factor(self) -> float:
        return self.size * self.distinct * self.org


def discounts(
    members: np.ndarray, pidx: np.ndarray, ctx: Context, acc: AccountSignals, cont: Content, s: DetectSettings,
    asked: np.ndarray | None = None,
) -> Discounts:  # fmt: skip
    """Look-alikes an analyst recognises. A *transparent organisation* -- most accounts, or most prompts, in one
    org or on one card that one org holds, whatever their age -- is one team's, course's or customer's own traffic
    when its content is ordinary for this log (content evidence below ``org_content_max``); an operation that
    shares one card gets no discount when what it asks is a sweep. A long-standing customer (its accounts' median age above
    ``old_org_days``) on one org is discounted whatever it asks (its own evaluation harness), as before.
    ``asked``: those of ``pidx`` the accounts asked (``Population.asked_of``; None: all of them)."""
    n = len(members)
    # one prompt copied by many (viral, homework): a handful of slot contents make most of the traffic. Measured as
    # the share of the commonest few, not as distinct/total, which a big campaign drawing from a finite question
    # pool would also lower. Only what its accounts asked counts: an agent's tool results are what its tools returned
    # (the same test run, the same file), repeated by every session without anyone copying a prompt
    asked = pidx if asked is None else asked
    _, group_sizes = np.unique(ctx.payload_group[ctx.text_row[asked]], return_counts=True)
    top = float(np.sort(group_sizes)[-s.copy_top_texts :].sum() / len(asked))
    distinct = float(np.clip((1.0 - top) / s.copy_full_share, 0.0, 1.0))

    def top_share(values: np.ndarray, weight: np.ndarray) -> tuple[float, np.ndarray]:
        """The largest share of ``weight`` in one known value, and which members hold that value."""
        v = values.astype(str)
        known = v != ""
        if not known.any():
            return 0.0, np.zeros(n, bool)
        names, inv = np.unique(v[known], return_inverse=True)
        per = np.bincount(inv, weights=weight[known], minlength=len(names))
        top = np.zeros(n, bool)
        top[np.flatnonzero(known)[inv == int(np.argmax(per))]] = True
        return float(per.max() / max(weight.sum(), 1e-12)), top

    # one org (or card) holding most of the cohort's accounts, or most of its prompts: a customer's harness of two
    # busy accounts that shared wrapper text tied to a dozen others sends nearly all of that cohort's traffic
    prompts = acc.n_prompts[members].astype(np.float64)
    top_org, holders = 0.0, np.ones(n, bool)
    orgs = acc.org[members].astype(str)
    for col in (orgs, acc.payment[members]):
        for weight in (np.ones(n), prompts):
            share, who = top_share(col, weight)
            # a card is one organisation's only when one organisation holds it: one card paying for the accounts
            # of many organisations is one payer behind many customers, the trace of an operator, not a team.
            # public4.json's paraphrase-sweep at --scale 0.3 with 25 accounts a card (seed 41): its 36 aged
            # accounts of 36 orgs on one card were discounted as a long-standing customer's evaluation harness
            if len(np.unique(orgs[who & (orgs != "")])) > 1:
                continue
            if share > top_org:
                top_org, holders = share, who
    ages = acc.age_days[members][holders]  # the organisation's own accounts: its age is theirs
    median_age = float(np.nanmedian(ages)) if np.isfinite(ages).any() else float("nan")
    transparent = ""
    if top_org >= s.one_org_share and n >= 2:
        if cont.evidence < s.org_content_max:
            transparent = "ordinary"
        elif math.isfinite(median_age) and median_age > s.old_org_days:
            transparent = "old"
    size = min(1.0, math.log(n) / math.log(s.full_size))
    org = s.one_org_factor if transparent else 1.0
    return Discounts(top, distinct, top_org, median_age, transparent, org, size)


def weights(pop: Population, s: DetectSettings) -> dict[str, float]:
    """Family weights as set (they sum to one by default). Without an account table provenance is only the ASN
    mix: its weight shrinks by asn_only_share and content and behaviour share what it lost, in proportion."""
    w = {"content": s.content_weight, "behaviour": s.behaviour_weight, "provenance": s.provenance_weight}
    if not pop.has_accounts:
        lost = w["provenance"] * (1 - s.asn_only_share)
        w["provenance"] -= lost
        rest = w["content"] + w["behaviour"]
        if rest > 0:
            w["content"] += lost * w["content"] / rest
            w["behaviour"] += lost * w["behaviour"] / rest
    return w


def cohort_score(
    prov: Provenance, cont: Content, beh: Behaviour, disc: Discounts, pop: Population, s: DetectSettings
) -> tuple[float, dict[str, float]]:
    """Weighted sum of the families' evidence, times the look-alike discounts; and each family's share of it.

    Every weight is below flag_score, so no family decides alone: a campaign is flagged by at least two.
    """
    w = weights(pop, s)
    parts = {"content": cont.evidence, "behaviour": beh.evidence, "provenance": prov.evidence}
    carried = {k: w[k] * v for k, v in parts.items()}
    return float(np.clip(sum(carried.values()), 0, 1) * disc.factor), carried


# -- members ---------------------------------------------------------------------------------------------------


def member_strength(
    members: np.ndarray, w: sp.csr_matrix, t: sp.csr_matrix, ctx: Context, pop: Population, prov: Provenance,
    acc: AccountSignals, s: DetectSettings, typical: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """How typical of its cohort each member is, in [0, 1].

    A profiled member's strength is its typicality (``engine.detect.profiles.typicality``: the posterior that its
    profile is one of the cohort's rather than one of the log's), so an account that drifted in through one shared
    sentence, or an eval harness placed in a campaign's cohort by shared wrapper text, ranks below the operation's
    own accounts and is not flagged with them. Where the profile says nothing (too quiet to profile, or too few
    profiled members), the cohort's core wrapper segments do: the share of the account's prompts carrying them,
    relative to the cohort's median member (a campaign with cover traffic has a lower median), shrunk by the
    account's few prompts (n / (n + profile_pseudo)); with no core wrapper either, by its prompts alone. A card
    shared with the cohort's typical members ties an account to the operation whatever it sends, as strongly as its
    most typical holder.
    """
    n = len(members)
    core = np.asarray((w[members] > 0).sum(axis=0)).ravel() >= max(2, s.core_segment_share * n)
    if core.any():
        has_core = np.asarray(t[:, np.flatnonzero(core)].sum(axis=1)).ravel() > 0
        by_text = np.array(
            [
                has_core[ctx.text_row[pop.prompts_by_acc[pop.acc_bounds[a] : pop.acc_bounds[a + 1]]]].mean()
                if pop.acc_bounds[a + 1] > pop.acc_bounds[a]
                else 0.0
                for a in members
            ]
        )
        by_text = np.clip(by_text / max(float(np.median(by_text)), 1e-9), 0.0, 1.0)
    else:
        by_text = np.ones(n)
    # an account too quiet to profile says little by its few prompts: 1 prompt carrying the wrapper is not a member
    # the way 40 are; shrunk by profile_pseudo prompts' worth (below profile_min_prompts it stays under the flag)
    quiet = acc.n_prompts[members]
    by_text = by_text * quiet / (quiet + s.profile_pseudo)
    strength = np.where(np.isnan(typical), by_text, typical)
    # a card ties its holder to the operation as surely as the card's most typical holder is one of it, no more: a
    # family's two accounts that drifted into a burner crowd, one of them 59% typical of it, were lifted to 1.0
    # and ranked above all of the crowd's own (0.997), so recall at 0.1% FPR fell to 0 (the evasion map,
    # burner-daily on a human clock, seed 41)
    pay = acc.payment[members].astype(str)
    strong = (strength >= s.min_member_strength) & (pay != "") & np.isin(pay, list(prov.shared_cards))
    if not strong.any():
        return strength
    cards, at = np.unique(pay[strong], return_inverse=True)
    best = np.zeros(len(cards))
    np.maximum.at(best, at, strength[strong])
    pos = np.clip(np.searchsorted(cards, pay), 0, len(cards) - 1)
    tied = cards[pos] == pay
    return np.where(tied, np.maximum(strength, best[pos]), strength)


def solo_evidence(pop: Population, s: DetectSettings) -> np.ndarray:
    """An account's own evidence in [0, 1], for ranking accounts outside any cohort (never enough to flag one): the
    content and behaviour statistics of the account alone against random single accounts (effect only: one account
    is never a surprise), averaged. Its probes, markers and languages; its clock, volume and move to a new model."""
    n_acc = len(pop.volume.n)
    parts = []
    for r in [*(pop.rates[k] for k in CONTENT_STATS if k in pop.rates), pop.machine, pop.volume]:
        d = (r.shrunk() - r.mu) / math.sqrt(r.tau2)
        parts.append(np.clip((d - s.effect_lo) / (s.effect_hi - s.effect_lo), 0, 1))
    return np.mean(parts, axis=0) if parts else np.zeros(n_acc)
