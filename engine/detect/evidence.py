"""Evidence that a cohort is an extraction campaign, one family at a time, each measured against the log's bulk.

* **provenance**: accounts created in a burst (binomial tail of the densest window against the sign-up rate of all
  accounts), payment cards shared across accounts, few network ASNs for many accounts;
* **content**: how probe-like its payloads are (content model) and how many areas they cover, and requests for
  reasoning, grading or refusal explanations, each above the log's median account -- scaled by the *sweep*: a
  campaign splits its questions between accounts, a course or a viral prompt has them all ask the same few;
* **behaviour**: round-the-clock or lockstep clocks, volume per account above the median, a model mix unlike the
  median account's.

``cohort_score`` weighs the three families (``content_weight`` ...) so that none reaches the flag score alone.

Legitimate look-alikes are discounted for reasons an analyst recognises: one org of old accounts (a customer's
eval harness or classroom), one text copied by many (a viral prompt), few accounts. Each function returns a small
record of numbers that both the score and the reasons (``engine.detect.explain``) read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.stats import binom

from engine.detect.settings import DetectSettings
from engine.detect.signals import AREAS, AccountSignals, Context, TextSignals, value_codes
from engine.ingest.records import epoch_seconds


@dataclass
class Population:
    """The log's bulk, measured once: the baselines every cohort is compared with, and per-prompt lookups."""

    med_per_day: float
    cap_base: float  # median account's share of capability probes
    mk_base: float  # ... of reasoning / grading / refusal requests
    probe_base: float  # ... mean probe probability (content model)
    has_accounts: bool  # an account table gave sign-up dates or cards
    model_mix: np.ndarray  # per account: share of requests to each model (columns: the log's models)
    bulk_mix: np.ndarray  # the median account's model mix
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

    @classmethod
    def measure(cls, ctx: Context, ts: TextSignals, acc: AccountSignals, s: DetectSettings) -> Population:
        n_acc = len(acc.n_prompts)
        # the median account: campaigns are a minority of accounts even where they are most of the prompts, so
        # content evidence is "more than usual here", not a fixed cut-off
        regular = acc.n_prompts >= s.baseline_min_prompts
        _, asn_counts = np.unique(acc.asn.astype(str), return_counts=True)
        rows = ctx.text_row
        marked = np.zeros(len(rows), dtype=bool)
        for m in ts.markers.values():
            marked |= m[rows]
        order = np.argsort(ctx.account_codes, kind="stable")
        codes = ctx.account_codes
        probe = ts.probe[rows].astype(np.float64)
        acc_probe = np.bincount(codes, probe, minlength=n_acc) / np.maximum(acc.n_prompts, 1)
        model, _ = value_codes(ctx.window["model"])
        mix = np.zeros((n_acc, int(model.max(initial=0)) + 1))
        np.add.at(mix, (codes, model), 1.0)
        mix /= np.maximum(acc.n_prompts, 1)[:, None]
        bulk = np.median(mix[regular], axis=0) if regular.any() else mix.mean(axis=0)
        return cls(
            med_per_day=float(np.median(acc.per_day)) if n_acc else 1.0,
            cap_base=float(np.median(acc.capability_share[regular])) if regular.any() else 0.0,
            mk_base=float(np.median(acc.marker_share[regular])) if regular.any() else 0.0,
            probe_base=float(np.median(acc_probe[regular])) if regular.any() else 0.0,
            has_accounts=bool(np.isfinite(acc.created).any() or (acc.payment.astype(str) != "").any()),
            model_mix=mix,
            bulk_mix=bulk / max(float(bulk.sum()), 1e-12),
            probe=probe,
            group=ctx.payload_group[rows],
            codes=codes,
            senders=np.bincount(np.unique(np.stack([ctx.payload_group[rows], codes], axis=1), axis=0)[:, 0]),
            asn_shares=asn_counts / max(asn_counts.sum(), 1),
            area=ts.area[rows],
            foreign=ts.foreign[rows],
            marked=marked,
            markers={k: v[rows] for k, v in ts.markers.items()},
            ts=epoch_seconds(ctx.window["timestamp"]),
            prompts_by_acc=order,
            acc_bounds=np.searchsorted(ctx.account_codes[order], np.arange(n_acc + 1)),
        )

    def prompts_of(self, members: np.ndarray) -> np.ndarray:
        """Window prompt indices of the given accounts."""
        return np.concatenate([self.prompts_by_acc[self.acc_bounds[a] : self.acc_bounds[a + 1]] for a in members])


# -- provenance ------------------------------------------------------------------------------------------------


@dataclass
class Burst:
    evidence: float
    accounts: int  # in the densest window
    start: float  # epoch seconds
    days: float
    p_value: float


def sign_up_burst(created: np.ndarray, all_created: np.ndarray, s: DetectSettings) -> Burst:
    """Evidence that a cohort's accounts were created in a burst.

    At each of burst_scales the densest window of the cohort's sign-ups is compared with the share of all other
    accounts created in that same window (a binomial tail), so 250 accounts made in three days stand out, and so
    do 70 made over six weeks, while ordinary users who happened to sign up the same month do not. The evidence is
    scaled by the share of the cohort inside the window (a window holding 6% of a cohort says little about it),
    and the strongest scale wins.
    """
    c = np.sort(created[~np.isnan(created)])
    pop = np.sort(all_created[~np.isnan(all_created)])
    best = Burst(0.0, len(c), float("nan"), 0.0, 1.0)
    if len(c) < 2 or len(pop) <= len(c):
        return best
    for days in s.burst_scales:
        w = days * 86400
        counts = np.searchsorted(c, c + w, side="right") - np.arange(len(c))
        i = int(np.argmax(counts))
        m, start = int(counts[i]), float(c[i])
        in_window = np.searchsorted(pop, start + w, side="right") - np.searchsorted(pop, start)
        p_null = min(1.0, max(in_window - m, 1) / (len(pop) - len(c)))
        p = float(binom.sf(m - 1, len(c), p_null))
        ev = min(1.0, -math.log10(max(p, 1e-300)) / s.burst_full_log10) * min(1.0, 2 * m / len(c))
        if ev > best.evidence:
            best = Burst(ev, m, start, days, p)
    return best


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
    evidence: float


def provenance(members: np.ndarray, acc: AccountSignals, pop: Population, s: DetectSettings) -> Provenance:
    n = len(members)
    burst = sign_up_burst(acc.created[members], acc.created, s)
    pay = acc.payment[members].astype(str)
    cards, uses = np.unique(pay[pay != ""], return_counts=True)
    shared = cards[uses > 1]
    shared_pay = float(np.isin(pay, shared).mean()) if len(cards) else 0.0
    n_asn = len(set(acc.asn[members].astype(str)) - {""})
    exp_asn = float(np.sum(1.0 - (1.0 - pop.asn_shares) ** n))
    e_asn = float(np.clip(1 - n_asn / max(exp_asn, 1), 0, 1)) if n >= s.min_accounts_for_asn else 0.0
    infra = max(shared_pay, e_asn)
    ages = acc.age_days[members]
    young = float(np.nanmean(ages < s.young_days)) if np.isfinite(ages).any() else 0.0
    evidence = 1 - (1 - burst.evidence) * (1 - s.infra_weight * infra)
    return Provenance(burst, shared_pay, shared, len(cards), n_asn, exp_asn, infra, young, evidence)


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
    shared_pool: float  # sweep: average share of the cohort's other accounts that send the same question
    breadth: float  # sweep multiplier: 1 = non-repeating, 0 = one shared pool
    outside_overlap: float  # share of its prompts whose question accounts outside the cohort also send
    evidence: float


def content(pidx: np.ndarray, n_accounts: int, pop: Population, s: DetectSettings) -> Content:
    """What the cohort asks: probes above the log's median, over several areas, with reasoning / grading / refusal
    requests, *as a sweep*: a campaign splits its questions between accounts, a course or a viral prompt has every
    account ask the same few, so content evidence is scaled by how little the cohort's accounts share questions."""
    area = pop.area[pidx]
    cap = area >= 0
    s_cap = float(cap.mean())
    hist = np.r_[np.bincount(area[cap], minlength=len(AREAS)).astype(float), pop.foreign[pidx].sum()]
    covered = int((hist >= s.area_min_share * max(cap.sum(), 1)).sum()) if cap.any() else 0
    coverage = 0.5 + 0.5 * min(1.0, max(covered - 1, 0) / max(s.full_coverage_areas - 1, 1))
    h = hist[: len(AREAS)][hist[: len(AREAS)] > 0] / max(hist[: len(AREAS)].sum(), 1)
    entropy = float(-(h * np.log(h)).sum() / np.log(len(AREAS))) if len(h) > 1 else 0.0
    mk = float(pop.marked[pidx].mean())
    probe = float(pop.probe[pidx].mean())
    p_rel = max(0.0, (probe - pop.probe_base) / max(1 - pop.probe_base, 1e-9))
    mk_rel = max(0.0, (mk - pop.mk_base) / max(1 - pop.mk_base, 1e-9))
    # sweep: for each prompt, how many *other* accounts of the cohort send the same question
    g = pop.group[pidx]
    pairs = np.unique(np.stack([g, pop.codes[pidx]], axis=1), axis=0)
    uq, senders = np.unique(pairs[:, 0], return_counts=True)
    inside = senders[np.searchsorted(uq, g)]
    shared_pool = float((inside - 1).mean() / max(n_accounts - 1, 1))
    breadth = float(np.clip(1 - shared_pool / s.shared_pool_full, 0, 1))
    outside = pop.senders[g] > inside
    return Content(
        capability_share=s_cap,
        probe=probe,
        areas=hist,
        covered=covered,
        area_entropy=entropy,
        marker_share=mk,
        marker_shares={k: float(v[pidx].mean()) for k, v in pop.markers.items()},
        shared_pool=shared_pool,
        breadth=breadth,
        outside_overlap=float(outside.mean()),
        evidence=min(1.0, p_rel * coverage + s.marker_weight * mk_rel) * breadth,
    )


# -- behaviour -------------------------------------------------------------------------------------------------


@dataclass
class Behaviour:
    eligible: int  # accounts with enough prompts to judge a clock
    flat: float  # share of those sending round the clock
    lockstep: float  # share of those firing at one minute of the hour
    machine: float
    volume_ratio: float  # median requests per account per day / the log's median
    per_day: float
    volume: float
    mix_distance: float  # total variation between the cohort's model mix and the median account's
    mix: float
    evidence: float


def behaviour(members: np.ndarray, acc: AccountSignals, pop: Population, s: DetectSettings) -> Behaviour:
    """How the cohort asks: machine clocks, heavy use, a model mix unlike the log's, combined as independent
    evidence (noisy-or); heavy use counts only volume_weight, since power users and teams are heavy too."""
    eligible = members[acc.n_prompts[members] >= s.min_prompts_for_clock]
    flat = float((acc.max_hour_gap[eligible] < s.quiet_hours).mean()) if len(eligible) else 0.0
    lock = float((acc.minute_r[eligible] > s.lockstep_r).mean()) if len(eligible) else 0.0
    machine = max(flat, lock) * len(eligible) / len(members)
    per_day = float(np.median(acc.per_day[members]))
    ratio = per_day / max(pop.med_per_day, 1e-9)
    volume = float(np.clip(math.log10(max(ratio, 1e-9)), 0, 1))  # 10x the median is full evidence
    w = acc.n_prompts[members]
    mix = (pop.model_mix[members] * w[:, None]).sum(axis=0) / max(float(w.sum()), 1e-12)
    tv = 0.5 * float(np.abs(mix - pop.bulk_mix).sum())
    e_mix = float(np.clip(tv / s.mix_full_distance, 0, 1))
    ev = 1 - (1 - machine) * (1 - s.volume_weight * volume) * (1 - e_mix)
    return Behaviour(len(eligible), flat, lock, machine, ratio, per_day, volume, tv, e_mix, ev)


# -- look-alike discounts --------------------------------------------------------------------------------------


@dataclass
class Discounts:
    top_share: float  # share of prompts in the cohort's commonest slot contents
    distinct: float  # multiplier: one prompt copied by many
    top_org_share: float
    median_age: float
    one_old_org: bool
    org: float  # multiplier: one customer's own traffic
    size: float  # multiplier: few accounts

    @property
    def factor(self) -> float:
        return self.size * self.distinct * self.org


def discounts(members: np.ndarray, pidx: np.ndarray, ctx: Context, acc: AccountSignals, s: DetectSettings) -> Discounts:
    n = len(members)
    # one prompt copied by many (viral, homework): a handful of slot contents make most of the traffic. Measured as
    # the share of the commonest few, not as distinct/total, which a big campaign drawing from a finite question
    # pool would also lower
    _, group_sizes = np.unique(ctx.payload_group[ctx.text_row[pidx]], return_counts=True)
    top = float(np.sort(group_sizes)[-s.copy_top_texts :].sum() / len(pidx))
    distinct = float(np.clip((1.0 - top) / s.copy_full_share, 0.0, 1.0))
    orgs = acc.org[members].astype(str)
    _, per_org = np.unique(orgs[orgs != ""], return_counts=True)
    top_org = float(per_org.max() / n) if len(per_org) else 0.0
    ages = acc.age_days[members]
    median_age = float(np.nanmedian(ages)) if np.isfinite(ages).any() else float("nan")
    one_old_org = top_org >= s.one_org_share and (not math.isfinite(median_age) or median_age > s.old_org_days)
    size = min(1.0, math.log(n) / math.log(s.full_size))
    return Discounts(top, distinct, top_org, median_age, one_old_org, s.one_org_factor if one_old_org else 1.0, size)


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

    Where the cohort has core wrapper segments: the share of the account's prompts carrying them, relative to the
    cohort's median member (a campaign with cover traffic has a lower median), so an account that drifted in
    through one shared sentence ranks below the operation's own accounts and is not flagged with them; an account
    sending no shared wrapper text at all (bare questions) may instead be typical by its profile (``typical``,
    ``engine.detect.profiles.typicality``: NaN where unknown), and one whose profile is far from the cohort's is
    not made typical by shared text alone. Where no wrapper is core (a cohort joined by
    profile, or by cards), the profile says it alone, and an account too quiet to profile counts as typical. A
    card shared with the cohort's typical members ties an account to the operation whatever it sends.
    """
    n = len(members)
    core = np.asarray((w[members] > 0).sum(axis=0)).ravel() >= max(2, s.core_segment_share * n)
    if core.any():
        has_core = np.asarray(t[:, np.flatnonzero(core)].sum(axis=1)).ravel() > 0
        strength = np.array(
            [
                has_core[ctx.text_row[pop.prompts_by_acc[pop.acc_bounds[a] : pop.acc_bounds[a + 1]]]].mean()
                if pop.acc_bounds[a + 1] > pop.acc_bounds[a]
                else 0.0
                for a in members
            ]
        )
        strength = np.clip(strength / max(float(np.median(strength)), 1e-9), 0.0, 1.0)
        bare = np.diff(w.indptr)[members] == 0
        strength = np.where(bare, np.maximum(strength, np.nan_to_num(typical, nan=0.0)), strength)
        # shared wrapper text does not make a member of an account whose profile is far from the cohort's
        # (typicality under 1/2: beyond 2x the median member's distance), where the cohort is large enough for a
        # median to mean something: at 1M prompts an eval harness whose benchmark template shared sentences with a
        # campaign's wrappers sat in its cohort and was flagged with it
        profiled = int(np.isfinite(typical).sum())
        far = (np.nan_to_num(typical, nan=1.0) < 0.5) & (profiled >= s.far_member_min_profiled)
        strength = np.where(far, np.minimum(strength, typical), strength)
    else:
        strength = np.where(np.isnan(typical), 1.0, typical)
    pay = acc.payment[members].astype(str)
    strong_cards = set(pay[(strength >= s.min_member_strength) & (pay != "")])
    shares_card = np.isin(pay, list(prov.shared_cards)) & np.isin(pay, list(strong_cards))
    return np.where(shares_card, 1.0, strength)


def solo_evidence(acc: AccountSignals, pop: Population, s: DetectSettings) -> np.ndarray:
    """An account's own suspicion in [0, 1]: young, capability-heavy, marker-heavy, machine clock, high volume."""
    young = np.where(np.isfinite(acc.age_days), np.clip(1 - acc.age_days / s.solo_young_days, 0, 1), 0)
    eligible = acc.n_prompts >= s.min_prompts_for_clock
    machine = np.where(eligible, np.maximum(acc.max_hour_gap < s.quiet_hours, acc.minute_r > s.lockstep_r), 0)
    vol = np.clip(np.log10(np.maximum(acc.per_day, 1e-9) / max(pop.med_per_day, 1e-9)), 0, 1)
    return (young + acc.capability_share + acc.marker_share + machine.astype(float) + vol) / 5
