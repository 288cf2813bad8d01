"""Campaign detection: signals → cohorts → evidence → verdicts, as a short list of named steps.

No single account of a distillation campaign looks abusive; the campaign does. So the unit scored is a *cohort* of
accounts linked by what one operator leaves behind (``engine.detect.cohorts``), scored from independent families
of evidence measured against the log's own bulk (``engine.detect.evidence``), explained in words
(``engine.detect.explain``). Every threshold is a field of ``DetectSettings`` (``engine.detect.settings``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from engine.detect import cohorts, evidence, explain, finite, profiles
from engine.detect.null import Surprise
from engine.detect.settings import DEFAULTS, DetectSettings
from engine.detect.signals import AREAS, AccountSignals, Context, TextSignals, account_signals, text_signals
from engine.ingest.records import TIMESTAMP_TYPE
from engine.store.tables import CAMPAIGNS
from engine.text.normalize import hash64


@dataclass
class Verdicts:
    accounts: pa.Table
    campaigns: pa.Table
    #: tonight's account profiles, for what reads the verdicts with the log at hand (the casework watch); not stored
    profiles: profiles.Profiles | None = None

    def with_ids(self, stable: dict[str, str], continued: set[str], min_strength: float) -> Verdicts:
        """Tonight's cohort ids replaced by the campaigns' stable ids (engine.detect.history).

        ``continued`` are cohorts below the flag score that continue a campaign already known: a campaign keeps
        its flag while its evidence stays above continue_score, so it does not flicker on and off night to night.
        """
        camps = self.campaigns
        if continued:
            on = np.isin(np.array(camps["campaign_id"].to_pylist(), dtype=object), list(continued))
            camps = camps.set_column(
                camps.schema.get_field_index("flagged"),
                "flagged",
                pa.array(np.array(camps["flagged"].to_pylist(), dtype=bool) | on),
            )
        acc = self.accounts
        cohort = np.array(acc["cohort_id"].to_pylist(), dtype=object)
        join = np.isin(cohort, list(continued)) & (acc["member_strength"].to_numpy() >= min_strength)
        flagged = np.array(acc["flagged"].to_pylist(), dtype=bool) | join
        camp = np.where(join, cohort, np.array(acc["campaign_id"].to_pylist(), dtype=object))
        acc = acc.set_column(acc.schema.get_field_index("flagged"), "flagged", pa.array(flagged))
        acc = acc.set_column(
            acc.schema.get_field_index("campaign_id"), "campaign_id", pa.array(camp.tolist(), pa.string())
        )

        def remap(tbl: pa.Table, col: str) -> pa.Table:
            ids = [stable.get(c, c) for c in tbl[col].to_pylist()]
            return tbl.set_column(tbl.schema.get_field_index(col), col, pa.array(ids, pa.string()))

        return Verdicts(remap(remap(acc, "campaign_id"), "cohort_id"), remap(camps, "campaign_id"), self.profiles)


#: claims undone one at a time (the busiest first) when they cost a campaign its flag, before the rest into it are
#: undone at once (``attach``): a cap on rescoring the night, not a threshold
UNDO_TRIES = 3
#: evidence families ``detect(without=...)`` can leave out, for the ablation table
#: (``scripts/bench_detection.py --ablate``): three that score a cohort, three that link accounts into cohorts,
#: where accounts ask in prompt space (regions: evidence of attachment), and the extraction markers (phrase
#: patterns, ``engine.detect.taxonomy``) wherever they are read: markers may explain a campaign, and this row
#: measures how much they decide
FAMILIES = ("content", "behaviour", "provenance", "wrappers", "cards", "profiles", "regions", "markers")


@dataclass(frozen=True)
class DetectRun:
    """What the detection steps hand each other: the night's measurements, then its cohorts as each step leaves them.

    A newcomer runs the steps one at a time and looks between them::

        run = measure(ctx, DEFAULTS)     # signals, the random-crowd null, segment matrix
        run = link(run)                  # cohorts of shared wrappers and cards: run.cohort_sizes()
        run = profile(run)               # ... joined with the profile clusters
        run = score(run)                 # every cohort's row: run.scored.rows
        ...                              # (STEPS lists them all, in order)
        verdicts = run.verdicts()

    Each step returns a new run (the one it was given is unchanged) and reads its thresholds from ``run.s``.
    """

    ctx: Context
    s: DetectSettings
    without: frozenset[str]
    ts: TextSignals
    acc: AccountSignals
    pop: evidence.Population
    t: sp.csr_matrix  # texts x wrapper segments (engine.detect.cohorts.segment_matrix)
    w: sp.csr_matrix | None = None  # accounts x wrapper segments, once linked
    linked: np.ndarray | None = None  # cohort per account (-1: none) from wrappers and cards alone
    regions: np.ndarray | None = None  # region cluster per account (-1: none): where in prompt space it asks
    prof: profiles.Profiles | None = None
    labels: np.ndarray | None = None  # cohort per account as the steps so far leave it
    scored: Scored | None = None  # the rows of ``labels`` as they stand
    # per account: the posterior with which a campaign's fingerprint alone claimed it (``attach``; NaN: it joined
    # its cohort otherwise, or none)
    claimed: np.ndarray | None = None

    def uses(self, family: str) -> bool:
        return family not in self.without

    def cohort_sizes(self) -> dict[int, int]:
        """Accounts per cohort label as the steps so far leave them (largest first; -1 = in no cohort)."""
        if self.labels is None:
            return {}
        lab, n = np.unique(self.labels, return_counts=True)
        return {int(a): int(b) for a, b in sorted(zip(lab, n, strict=True), key=lambda x: -x[1])}

    def rescored(self, labels: np.ndarray | None) -> DetectRun:
        """This run with new labels, rescored; unchanged when a step changed nothing (None)."""
        if labels is None:
            return self
        assert self.w is not None and self.prof is not None
        return replace(
            self,
            labels=labels,
            scored=score_cohorts(
                labels,
                self.ctx,
                self.acc,
                self.pop,
                self.t,
                self.w,
                self.prof,
                self.s,
                claimed=self.claimed,
                linked=self.linked,
                regions=self.regions,
            ),
        )

    def verdicts(self) -> Verdicts:
        if self.scored is None:
            raise ValueError("no cohort has been scored yet: run the steps through score() first")
        return replace(self.scored.verdicts(self.ctx, self.acc, self.s), profiles=self.prof)


def measure(
    ctx: Context, s: DetectSettings = DEFAULTS, *, without: Collection[str] = (), ts: TextSignals | None = None
) -> DetectRun:
    """Step 1: per-text and per-account signals, the log's accounts as the random-crowd null, the wrapper segments.

    ``without`` leaves evidence families out (see FAMILIES): a scoring family by a zero weight, the markers by
    a text signal where no text carries any (every statistic built on them sees none); ``ts`` reuses text signals
    already computed for this context (they do not depend on the families)."""
    unknown = set(without) - set(FAMILIES)
    if unknown:
        raise ValueError(f"unknown evidence families {sorted(unknown)}; known: {', '.join(FAMILIES)}")
    s = replace(s, **{f"{f}_weight": 0.0 for f in ("content", "behaviour", "provenance") if f in without})
    ts = ts if ts is not None else text_signals(ctx, s)
    if "markers" in without:
        ts = replace(
            ts,
            markers={m: np.zeros_like(v) for m, v in ts.markers.items()},
            payload_markers=None
            if ts.payload_markers is None
            else {m: np.zeros_like(v) for m, v in ts.payload_markers.items()},
        )
    acc = account_signals(ctx, ts)
    pop = evidence.Population.measure(ctx, ts, acc, s)
    return DetectRun(ctx, s, frozenset(without), ts, acc, pop, cohorts.segment_matrix(ctx.template))


def link(run: DetectRun) -> DetectRun:
    """Step 2: accounts linked by the traces one operator leaves (shared wrapper sentences, shared cards) into
    cohorts (``engine.detect.cohorts.link_accounts``). Settings: link_cosine, account_knn, payment_distance,
    min_account_cluster, cohort_epsilon, min_cohort."""
    linked, w = cohorts.link_accounts(
        run.ctx, run.acc, run.t, run.s, wrappers=run.uses("wrappers"), cards=run.uses("cards")
    )
    return replace(run, linked=linked, w=w, labels=linked)


def profile(run: DetectRun) -> DetectRun:
    """Step 3: accounts that behave alike and unlike the log (``engine.detect.profiles``) clustered, and those
    clusters folded into the linked cohorts; accounts that ask in the same regions of prompt space clustered too
    (``region_cohorts``), which ties a cohort for scoring. Without the profiles family no account is profiled.
    Settings: the ``profile_*`` fields (who is profiled, shrinkage, the clustering, which clusters are absorbed),
    region_dims."""
    assert run.linked is not None, "link() first"
    if not run.uses("profiles"):
        empty = profiles.Profiles(np.zeros((0, 0), np.float32), np.zeros(0, np.int64), [])
        return replace(run, prof=empty)
    prof = profiles.account_profiles(run.ctx, run.ts, run.acc, run.s, run.pop, regions=run.uses("regions"))
    n_acc = len(run.acc.n_prompts)
    labels = profiles.join(run.linked, profiles.profile_cohorts(prof, n_acc, run.s), run.s)
    if run.uses("provenance"):
        labels = profiles.split_lifecycles(labels, run.linked, [run.pop.burner.mean, run.pop.sleeper.mean], run.s)
    # where accounts ask (a split benchmark's crowd shares its clusters): a tie for scoring, not a cohort of its own
    return replace(run, prof=prof, labels=labels, regions=profiles.region_cohorts(prof, n_acc, run.s))


def score(run: DetectRun) -> DetectRun:
    """Step 4: every cohort scored from its evidence families, with reasons (``score_cohorts``). Settings: the
    family weights and their statistics' fields, effect_lo/hi and surprise_lo/hi (against random crowds), the
    look-alike discounts, flag_score, min_member_strength, the ``say_*`` thresholds of the reasons."""
    assert run.labels is not None and run.prof is not None, "link() and profile() first"
    return run.rescored(run.labels)


def merge_bursts(run: DetectRun) -> DetectRun:
    """Step 5: flagged cohorts that are one operation's sign-up burst split by card or wrapper joined, rescored.
    Settings: the ``merge_burst_*`` fields, merge_area_cosine, merge_template_overlap."""
    assert run.scored is not None and run.labels is not None, "score() first"
    return run.rescored(cohorts.merge_bursts(run.labels, [c for c in run.scored.rows if c["flagged"]], run.s))


def merge_alike(run: DetectRun) -> DetectRun:
    """Step 6: unflagged cohorts whose mean profile lies close to a flagged one's (fragments of one operation)
    joined to it, rescored. Settings: profile_merge_distance, variant_distance, fragment_score, burst_veto."""
    assert run.scored is not None and run.labels is not None and run.prof is not None, "score() first"
    if not run.uses("profiles"):
        return run
    labels = profiles.merge_alike(run.labels, run.scored.rows, run.prof, run.s)
    return run.rescored(None if labels is None else keep_traits(run.labels, labels, run))


def attach(run: DetectRun, *, wrapped: bool = False) -> DetectRun:
    """Step 7: accounts no wrapper or card linked whose profile a flagged campaign's fingerprint claims attached
    to it, rescored; never a customer's own account (``customer_accounts``). Settings: attach_odds,
    attach_max_share, the ``fingerprint_*`` fields."""
    assert run.scored is not None and run.labels is not None and run.prof is not None, "score() first"
    if not run.uses("profiles"):
        return run
    free = (run.linked < 0) & ~customer_accounts(run.acc.org, run.scored.rows)
    got = profiles.attach(run.labels, run.scored.rows, run.prof, run.s, free=free, claimed=run.claimed)
    labels = None if got is None else keep_traits(run.labels, got[0], run, wrapped=wrapped)
    if labels is None:
        return run
    joined = (labels != run.labels) & np.isfinite(got[1])
    claimed = np.full(len(labels), np.nan) if run.claimed is None else run.claimed.copy()
    claimed[joined] = got[1][joined]
    out = replace(run, claimed=claimed).rescored(labels)
    # a campaign's quiet accounts do not change what it is: a claim that costs a campaign its flag is undone,
    # the busiest first, until it has the flag back. An evaluation harness asks where a sweep asks; with its
    # org-mate already in the cohort, its thousands of requests made the campaign one organisation's traffic
    # (drip-swarm of public4.json at scale 0.3 without cover traffic, seed 41: flagged before the attach, not after)
    lost = flagged_labels(run) - flagged_labels(out)
    for attempt in range(UNDO_TRIES + 1):
        into = np.flatnonzero(joined & np.isin(labels, list(lost)))
        if not lost or not len(into):
            break
        undo = into if attempt == UNDO_TRIES else into[[np.argmax(run.acc.n_prompts[into])]]
        labels[undo], claimed[undo], joined[undo] = run.labels[undo], np.nan, False
        out = replace(run, claimed=claimed).rescored(labels)
        lost = flagged_labels(run) - flagged_labels(out)
    return out


def flagged_labels(run: DetectRun) -> set[int]:
    """The labels of the run's flagged cohorts."""
    assert run.scored is not None and run.labels is not None
    return {int(run.labels[r["members"][0]]) for r in run.scored.rows if r["flagged"] and len(r["members"])}


def keep_traits(before: np.ndarray, after: np.ndarray, run: DetectRun, *, wrapped: bool = False) -> np.ndarray | None:
    """``after`` (a step's new labels) with each account that joined a flagged campaign put back where it was when
    it is known to lack a trait that nearly every member shares and that is evidence for the campaign.

    A fingerprint or a mean profile reads what accounts ask and how, not their history. When nearly all of a flagged
    campaign's members (``trait_share``) share a lifecycle that is evidence for it (made just before use and gone,
    ``burners``; woke after a long silence, ``sleepers``), an account known not to share it is no member, however
    alike it asks: ordinary accounts asking what a dormant crowd asks would otherwise join it by fingerprint
    (``attach``) or as a look-alike cohort (``merge_alike``) when it woke. ``wrapped`` adds holding a constant
    wrapper (``Population.wrapped``), for the fingerprints of campaigns that stand out only against the ordinary
    accounts (``refit_null``). Unknown stays, and so does everything without the family whose statistic it is
    (provenance: lifecycles; behaviour: wrappers). Returns None when nothing is left changed."""
    traits = [(run.pop.burner, "provenance"), (run.pop.sleeper, "provenance")]
    traits += [(run.pop.wrapped, "behaviour")] if wrapped else []
    traits = [(stat, family) for stat, family in traits if stat is not None and run.uses(family)]
    if not traits:
        return after if (after != before).any() else None
    s, out = run.s, after.copy()
    fresh = int(max(before.max(initial=-1), after.max(initial=-1))) + 1
    for row in run.scored.rows if run.scored is not None else []:
        if not row["flagged"]:
            continue
        members, now = row["members"], after[row["members"][0]]
        joined = np.flatnonzero((after == now) & (before != before[members[0]]))
        for stat, _ in traits:
            x = stat.test(members)
            if not len(joined) or not evidence.shared_trait(x, s):
                continue
            contrary = joined[stat.mean[joined] == 0]
            for label in np.unique(before[contrary]):
                back = contrary[before[contrary] == label]
                # back where it was: no cohort, or its own cohort (a new label if the campaign took that one's)
                out[back] = label if label < 0 or label != now else fresh
                fresh += label == now
            joined = joined[out[joined] == now]
    return out if (out != before).any() else None


def flagged_accounts(rows: list[dict], n_acc: int) -> np.ndarray:
    """Per account: a member of a flagged cohort of ``rows``."""
    out = np.zeros(n_acc, dtype=bool)
    for row in rows:
        if row["flagged"]:
            out[row["members"]] = True
    return out


def customer_accounts(org: np.ndarray, rows: list[dict]) -> np.ndarray:
    """Per account: one of several accounts of one organisation none of whose accounts is in a flagged cohort.

    That is a customer's own traffic (its evaluation harness, its team), which may ask what a campaign asks and
    behave as it does; a fingerprint alone does not make it the campaign's. An operation's accounts that share an
    org are claimed through the org-mates already in its cohort, so they stay candidates."""
    org = org.astype(str)
    names, inv = np.unique(org, return_inverse=True)
    in_flagged = flagged_accounts(rows, len(org)).astype(np.float64)
    shared = (org != "") & (np.bincount(inv, minlength=len(names))[inv] >= 2)
    return shared & (np.bincount(inv, weights=in_flagged, minlength=len(names))[inv] == 0)


def refit_null(run: DetectRun) -> DetectRun:
    """Step 8: the random-crowd null refitted without the campaigns flagged so far, every cohort scored again on it,
    bursts and look-alike fragments merged again (``null_refits`` times; ``engine.detect.null``), and fingerprints
    fitted once more (``attach``), checked against the members' wrappers.

    Against the whole log a campaign is measured against the other campaigns too: in public4.json, where every third
    account is an operation's, the log's probe share is 0.36 where its ordinary accounts' is 0.23, and a quiet
    crowd asking 0.6 in wrappers of each account's own was not found. A campaign that stands out only against the
    ordinary accounts is the one most like them, so its fingerprint claims ordinary accounts with its own: here an
    account known not to hold a constant wrapper joins no campaign nearly all of whose members hold one
    (``keep_traits``). Measured on public4.json: without the second attach the drip swarm's best match held 0.73 of
    it; attached unchecked, 0.96, and 5 more ordinary accounts were flagged; checked, 0.92 and 3 more, which rank by
    the posterior that claimed them (0.50-0.57; ``score_cohorts``), below the campaigns' own accounts. In the first
    pass the check is not made: campaigns found against the whole log have fingerprints that tell their members from
    the log's, and the members that send bare questions (public3's swarm: 36 of 400) would be lost. Without the
    account table as with it: with the whole log's floor (``RateNull.floor``) no product's users were flagged
    (public.json's agent framework had been), and public2.json found 6 of 7 campaigns, not 5. Settings:
    null_refits, trait_share."""
    assert run.scored is not None and run.labels is not None, "score() first"
    refitted = False
    for _ in range(run.s.null_refits):
        out = flagged_accounts(run.scored.rows, len(run.acc.n_prompts))
        if not out.any():
            break
        run = merge_alike(merge_bursts(replace(run, pop=run.pop.without(out, run.s)).rescored(run.labels)))
        refitted = True
    return attach(run, wrapped=True) if refitted else run


def rank_rest(run: DetectRun) -> DetectRun:
    """Step 9: accounts outside any cohort, and weak members, ranked (never flagged) by their own evidence or by how
    nearly a flagged campaign's fingerprint claimed them, whichever is more, capped below any flag. Settings:
    solo_cap."""
    assert run.scored is not None and run.prof is not None, "score() first"
    s, scored = run.s, run.scored
    near = (
        profiles.resemblance(scored.rows, run.prof, s, len(run.acc.n_prompts), run.claimed)
        if run.uses("profiles")
        else 0.0
    )
    ranked = np.maximum(scored.account_score, np.minimum(s.solo_cap, np.maximum(s.solo_cap * run.pop.solo, near)))
    bad = np.flatnonzero(~np.isfinite(ranked))
    if len(bad):
        finite.check(ranked[bad[0]], "account score", f"account {run.ctx.account_names[bad[0]]}")
    return replace(run, scored=replace(scored, account_score=ranked))


#: the detection steps after ``measure``, in order: each takes a DetectRun and returns the next
STEPS: tuple[Callable[[DetectRun], DetectRun], ...] = (
    link, profile, score, merge_bursts, merge_alike, attach, refit_null, rank_rest
)  # fmt: skip


def detect(
    ctx: Context, s: DetectSettings = DEFAULTS, *, without: Collection[str] = (), ts: TextSignals | None = None
) -> Verdicts:
    """Signals → cohorts → scores and reasons → account and campaign tables: ``measure``, then each of STEPS.

    ``without`` leaves evidence families out (see FAMILIES) to measure what each contributes; ``ts`` reuses text
    signals already computed for this context (they do not depend on which families are used).
    """
    run = measure(ctx, s, without=without, ts=ts)
    for step in STEPS:
        run = step(run)
    return run.verdicts()


@dataclass
class Scored:
    """Every cohort's row, and per account (by code): score, strength in its cohort, reasons."""

    rows: list[dict]
    account_score: np.ndarray
    account_strength: np.ndarray
    account_reasons: list[list[str]]

    def verdicts(self, ctx: Context, acc: AccountSignals, s: DetectSettings) -> Verdicts:
        n_acc = len(acc.n_prompts)
        flagged = np.zeros(n_acc, dtype=bool)
        campaign_of = np.full(n_acc, "", dtype=object)
        cohort_of = np.full(n_acc, "", dtype=object)
        for row in self.rows:
            members = row["members"]
            cohort_of[members] = row["campaign_id"]
            if row["flagged"]:
                ok = members[(self.account_strength[members] >= s.min_member_strength) & row["bound"]]
                flagged[ok] = True
                campaign_of[ok] = row["campaign_id"]
        table = _accounts_table(
            ctx, acc, self.account_score, flagged, campaign_of, cohort_of, self.account_strength, self.account_reasons
        )
        return Verdicts(table, _campaigns_table(self.rows))


#: threads scoring cohorts at once. A cohort's scoring reads shared arrays only and is mostly numpy sorts and scipy
#: sparse products, which release the GIL: at 1M prompts (public3 --scale 7, 780 cohorts scored over the night's
#: passes) the score step's driver spent ~21 s here on one core while the other idled. The rows come back in cohort
#: order, so the result does not depend on the thread count
SCORE_THREADS = min(4, os.cpu_count() or 1)


def _tied(
    members: np.ndarray, linked: np.ndarray, regions: np.ndarray | None, claimed: np.ndarray | None,
    org: np.ndarray | None = None,
) -> bool:  # fmt: skip
    """Whether a trace one operator leaves ties most of the cohort's own customers to one another: most of them
    share a wrapper or a card with another of its customers (each in a linked cohort that holds another of them),
    or most of them ask in one region of prompt space (``profiles.region_cohorts``: a split benchmark's crowd) of
    whose accounts they are most.

    The cohort's own members are those a fingerprint did not claim (``claimed`` NaN): a claim joins an account to
    a campaign already tied, and says nothing about the tie. Most, not some: two ordinary accounts of one family
    card in a profile cluster of fourteen scripted users do not make the fourteen one operation. Counted in
    customers (``org``: the accounts of one organisation are one; an account without one is its own), not
    accounts: a team's card or its own system prompt ties the team's accounts to one another, which is what a
    team is, not one operator behind several customers. public4.json's paraphrase-sweep at --scale 0.3, seed 41,
    lockstep clock: ten scripted users, four of them one organisation on its card and two more sharing wrapper
    text with them, were a false campaign tied by six of ten accounts; they are three of seven customers."""
    if claimed is not None:
        own = members[np.isnan(claimed[members])]
        members = own if len(own) else members
    if org is None:
        unit = np.arange(len(members))
    else:
        names = org[members].astype(str)
        known = names != ""
        unit = np.empty(len(members), np.int64)
        unit[known] = np.unique(names[known], return_inverse=True)[1]
        # an account without an organisation is a customer of its own
        unit[~known] = unit[known].max(initial=-1) + 1 + np.arange(int((~known).sum()))
    n_units = int(unit.max()) + 1
    need = n_units // 2 + 1
    lab = linked[members]
    has = lab >= 0
    if has.any():
        # a linked cohort ties the customers it holds when it holds two or more of them
        pairs = np.unique(np.stack([lab[has], unit[has]], 1), axis=0)
        spread = np.bincount(pairs[:, 0])
        if len(np.unique(pairs[spread[pairs[:, 0]] >= 2, 1])) >= need:
            return True
    if regions is None:
        return False
    r = regions[members]
    top_of = r[r >= 0]
    if not len(top_of):
        return False
    top = int(np.bincount(top_of).argmax())
    inside = r == top
    # and most of that region's accounts are the cohort's: a crowd that owns its region, not a few of the many
    # ordinary accounts asking benchmark questions where others ask them too
    return len(np.unique(unit[inside])) >= need and 2 * int(inside.sum()) > int((regions == top).sum())


def score_cohorts(
    labels: np.ndarray, ctx: Context, acc: AccountSignals, pop: evidence.Population, t: sp.csr_matrix,
    w: sp.csr_matrix, prof: profiles.Profiles, s: DetectSettings, claimed: np.ndarray | None = None,
    linked: np.ndarray | None = None, regions: np.ndarray | None = None,
) -> Scored:  # fmt: skip
    """Score every cohort of ``labels`` (cohorts of one account are skipped: that is ``solo_evidence``).

    ``linked``: the cohort per account that wrappers and cards alone made (``link``; None: every cohort counts as
    tied); ``regions``: the region cluster per account (``profiles.region_cohorts``; None: none). A cohort is
    flagged only when a trace of one operator ties it: most of its own members share a wrapper or a card with one
    another, or ask in one region of prompt space (``_tied``), or it was made together (a sign-up burst, or a
    lifecycle nearly every member shares: ``_score_cohort``). A cohort tied by none of these is one only because its
    members behave alike: its profile cluster picked them for being alike and unlike the log, in the very columns
    its evidence reads, so its surprise against random crowds is largely the clustering's own doing, at any size.
    Its members rank below any flag (``solo_cap``), with that reason; a campaign's quiet accounts still join a
    flagged cohort by fingerprint (``attach``). Measured on public4.json's campaigns alone at --scale 0.3 (the
    evasion maps): seven ordinary scripted accounts asking homework questions round the clock (burner-daily, seed
    42), and eight asking benchmark questions from scripts (paraphrase-sweep, seed 41, outranking the campaign
    itself), were false campaigns of nothing but this.

    A member that a fingerprint alone claimed (``claimed``, the posterior of ``attach``, prior included) is no more
    surely one of the cohort's than that posterior says, however typical its profile: its typicality is measured at
    even odds, as for a member that a wrapper, a card or a profile cluster already tied to the cohort. So an account
    just claimed ranks as one just missed (``profiles.resemblance``), a little above it; on public4.json the
    ordinary accounts a fingerprint claimed (at posteriors 0.50-0.57) had ranked with the drip swarm's own."""
    n_acc = len(acc.n_prompts)
    out = Scored([], np.zeros(n_acc), np.zeros(n_acc), [[] for _ in range(n_acc)])
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.r_[True, labels[order][1:] != labels[order][:-1], True])
    cohorts = [order[b0:b1] for b0, b1 in zip(bounds[:-1], bounds[1:], strict=True)]
    cohorts = [m for m in cohorts if len(m) >= 2 and labels[m[0]] >= 0]
    # the context's lazy parts are built once here, not raced for by the threads below
    ctx.warm()
    with ThreadPoolExecutor(SCORE_THREADS) as pool:
        tied = [True if linked is None else _tied(m, linked, regions, claimed, acc.org) for m in cohorts]
        scored = list(pool.map(lambda m, k: _score_cohort(m, ctx, acc, pop, t, w, prof, s, k), cohorts, tied))
    for members, (row, score, strength) in zip(cohorts, scored, strict=True):
        out.rows.append(row)
        claim = np.full(len(members), np.nan) if claimed is None else claimed[members]
        strength = np.where(np.isnan(claim), strength, np.fmin(strength, claim))
        out.account_strength[members] = strength
        member_score = score * (s.member_score_floor + (1 - s.member_score_floor) * strength)
        # a member too atypical to be flagged with its cohort ranks below any flag, like an account alone; so does
        # every member of a cohort nothing ties (never flagged, whatever its score)
        out.account_score[members] = np.where(
            (strength >= s.min_member_strength) & row["tied"] & row["bound"],
            member_score,
            np.minimum(member_score, s.solo_cap),
        )
        said = json.loads(row["reasons"])[:3] if row["flagged"] else json.loads(row["mitigations"])[:2]
        for a, c in zip(members, claim, strict=True):
            out.account_reasons[a] = said if np.isnan(c) else [_claimed_reason(c, row["flagged"]), *said[:2]]
    return out


def _claimed_reason(posterior: float, flagged: bool) -> str:
    what = "campaign" if flagged else "cohort"
    return (
        f"no wrapper or card ties it to this {what}: its profile fits the {what}'s fingerprint, "
        f"{posterior:.0%} likely one of its accounts"
    )


def _score_cohort(
    members: np.ndarray, ctx: Context, acc: AccountSignals, pop: evidence.Population, t: sp.csr_matrix,
    w: sp.csr_matrix, prof: profiles.Profiles, s: DetectSettings, tied: bool = True,
) -> tuple[dict, float, np.ndarray]:  # fmt: skip
    """One cohort's campaign row (score, evidence, reasons, templates, samples), its unrounded score and its
    members' strength. ``tied``: a wrapper, a card or a region ties its members (``score_cohorts``); made together
    ties it as well, which is read here from its provenance."""
    n = len(members)
    pidx = pop.prompts_of(members)
    prov = evidence.provenance(members, acc, pop, s)
    cont = evidence.content(pidx, members, pop, s)
    beh = evidence.behaviour(members, acc, pop, s)
    disc = evidence.discounts(members, pidx, ctx, acc, cont, s, pop.asked_of(pidx))
    score, carried = evidence.cohort_score(prov, cont, beh, disc, pop, s)
    strength = evidence.member_strength(members, w, t, ctx, pop, prov, acc, s, profiles.typicality(members, prof))
    rows = ctx.text_row[pidx]
    top_template = float(np.asarray(t[rows].sum(axis=0)).max() / len(pidx)) if t.nnz else 0.0
    wrapped = float((ctx.template_id[rows] != 0).mean())
    names = sorted(ctx.account_names[a] for a in members)
    tools = _tool_sets(ctx, pidx)
    # made together is a trace of one operator as much as a shared wrapper: a sign-up burst (the strength at which
    # merge_bursts takes one for real), or a lifecycle nearly every member shares (made just before use and gone,
    # woke after a long silence)
    lifecycle = any(evidence.shared_trait(x, s) for x in (prov.burner, prov.sleeper))
    burst = prov.burst.evidence >= s.burst_veto
    bound = np.ones(n, bool)
    if not (tied or lifecycle) and burst:
        # a burst ties the accounts made in it, not the cohort's others: accounts made years before it that a
        # profile cluster put with seven burners and a new ordinary account (public4.json's burner-daily alone at
        # --scale 0.3, 10 requests a day, seed 41) ranked with the burners, above all but one of them
        made = acc.created[members]
        start, end = prov.burst.ties
        bound = np.isnan(made) | ((made >= start) & (made <= end))
    tied = tied or lifecycle or burst
    # typical enough of the cohort, and tied to it, to be flagged with it
    strong = (strength >= s.min_member_strength) & bound
    typical = int(strong.sum())
    profiled = (int((prof.rows_of(members) >= 0).sum()), len(prof.accounts))
    row = {
        "members": members,
        "burst": (prov.burst.start, prov.burst.days, prov.burst.accounts / n, prov.burst.evidence),
        "hist": cont.areas,
        "campaign_id": "c" + format(int(hash64([",".join(names)])[0]) & 0xFFFFFFFF, "08x"),
        "score": round(score, 4),
        # a campaign is its operation's own accounts: a cohort whose members are all too atypical of it to be
        # flagged with it (a 500-prompt log, where no profile says much) is not one, whatever its score
        "flagged": bool(score >= s.flag_score and typical >= s.min_cohort and tied),
        "tied": tied,
        "bound": bound,  # per member: tied by the cohort's trace (all but those made outside a burst that alone ties it)
        # the score without the small-cohort discount: what a fragment of an operation says on its own
        "unsized": score / max(disc.size, 1e-9),
        "accounts": n,
        "prompts": len(pidx),
        "first_seen": int(pop.ts[pidx].min()),
        "last_seen": int(pop.ts[pidx].max()),
        "evidence": json.dumps(
            {
                "burst": prov.burst.evidence,
                "infra": prov.infra,
                "provenance": prov.evidence,
                "content": cont.evidence,
                "probe": cont.probe,
                # each statistic against random crowds of the same sizes: observed, expected, effect d, surprise z
                "against_random": {
                    k: _surprise(v)
                    for k, v in {
                        **cont.surprise,
                        "burner": prov.burner,
                        "sleeper": prov.sleeper,
                        "machine_clock": beh.clock,
                        "own_wrappers": beh.own,
                        "volume": beh.volume,
                        f"model:{beh.choice_model}": beh.choice,
                        "adoption": beh.adoption,
                        "adopted": beh.uniform,
                    }.items()
                    if np.isfinite(v.observed)
                },
                "content_parts": cont.parts,
                "behaviour_parts": beh.parts,
                "distinct": cont.distinct,
                "shared_pool": cont.shared_pool,
                "breadth": cont.breadth,
                "area_entropy": cont.area_entropy,
                "behaviour": beh.evidence,
                "carried": carried,
                "size": disc.size,
                "copied": disc.distinct,
                "transparent_org": disc.transparent,
                "tool_sets": tools,
            }
        ),
        "reasons": json.dumps(
            explain.reasons(n, len(pidx), wrapped, top_template, prov, cont, beh, carried, pop, s, tools)
        ),
        "mitigations": json.dumps(
            explain.mitigations(n, prov, cont, beh, disc, profiled, s, typical, score >= s.flag_score, tied)
        ),
        "areas": json.dumps({a: int(c) for a, c in zip([*AREAS, "languages"], cont.areas, strict=True) if c}),
        # the operation's own accounts: members at least min_member_strength typical of the cohort
        "member_ids": [ctx.account_names[a] for a in members[strong]],
        "templates": _top_templates(ctx, pidx),
        "clusters": _top_clusters(ctx, pidx),
        "samples": [ctx.norm[ctx.text_row[i]][:400] for i in pidx[:: max(1, len(pidx) // 5)][:5]],
    }
    where = f"cohort {row['campaign_id']} ({n} accounts)"
    finite.check(score, "score", where)
    finite.check(strength, "member strength", where)
    finite.check_evidence(row["evidence"], where)
    return row, score, strength


def _surprise(x: Surprise) -> dict[str, float]:
    return {"observed": round(x.observed, 4), "expected": round(x.expected, 4), "d": round(x.d, 2), "z": round(x.z, 1)}


def _tool_sets(ctx: Context, pidx: np.ndarray, top: int = 3) -> list[dict]:
    """The tool-schema sets the cohort's accounts send, commonest first: how many of its accounts send each, how
    many of the log's, and the tools' names (a chat log's agent requests; empty for a log without tools)."""
    sets, accounts = ctx.tool_set_reach(pidx)
    out = []
    for i in np.lexsort((sets, -accounts))[:top]:
        digest, names = ctx.tool_set_named(int(sets[i]))
        out.append(
            {
                "tools_hash": digest,
                "tools": names,
                "accounts": int(accounts[i]),
                "log_accounts": int(ctx.tool_set_accounts[sets[i]]),
            }
        )
    return out


def _top_templates(ctx: Context, pidx: np.ndarray, top: int = 3) -> list[str]:
    tids = ctx.template_id[ctx.text_row[pidx]]
    has = tids != 0
    if not has.any():
        return []
    vals, counts = np.unique(tids[has], return_counts=True)
    out = []
    for v in vals[np.argsort(-counts)[:top]]:
        row = ctx.text_row[pidx[np.flatnonzero(tids == v)[0]]]
        out.append(ctx.template[row])
    return out


def _top_clusters(ctx: Context, pidx: np.ndarray, top: int = 5) -> list[int]:
    cl = ctx.text_cluster[ctx.text_row[pidx]]
    cl = cl[cl >= 0]
    if not len(cl):
        return []
    vals, counts = np.unique(cl, return_counts=True)
    return [int(v) for v in vals[np.argsort(-counts)[:top]]]


def _accounts_table(
    ctx: Context,
    acc: AccountSignals,
    score: np.ndarray,
    flagged: np.ndarray,
    campaign: np.ndarray,
    cohort: np.ndarray,
    strength: np.ndarray,
    reasons: list[list[str]],
) -> pa.Table:
    """Verdict per account, joined back onto the account table's attributes (accounts with no prompts: score 0)."""
    base = ctx.accounts
    where = {a: i for i, a in enumerate(ctx.account_names)}
    idx = np.array([where.get(a, -1) for a in base["account_id"].to_pylist()], dtype=np.int64)
    ok = idx >= 0
    j = np.maximum(idx, 0)

    def take(x: np.ndarray, fill: object) -> list:
        return np.where(ok, x[j], fill).tolist()

    return (
        base.append_column("score", pa.array(np.where(ok, score[j], 0.0).round(4)))
        .append_column("campaign_id", pa.array(take(campaign, ""), pa.string()))
        .append_column("flagged", pa.array(np.where(ok, flagged[j], False)))
        .append_column("cohort_id", pa.array(take(cohort, ""), pa.string()))
        .append_column("member_strength", pa.array(np.where(ok, strength[j], 0.0).round(3)))
        .append_column("prompts", pa.array(np.where(ok, acc.n_prompts[j], 0).astype(np.int64)))
        .append_column("per_day", pa.array(np.where(ok, acc.per_day[j], 0.0).round(2)))
        .append_column("first_seen", _seen(acc.first_seen, j, ok))
        .append_column("last_seen", _seen(acc.last_seen, j, ok))
        .append_column("active_days", pa.array(np.where(ok, acc.active_days[j], 0).astype(np.int64)))
        .append_column("capability_share", pa.array(np.where(ok, acc.capability_share[j], 0.0).round(3)))
        .append_column("marker_share", pa.array(np.where(ok, acc.marker_share[j], 0.0).round(3)))
        .append_column("reasons", pa.array([json.dumps(reasons[i]) if i >= 0 else "[]" for i in idx], pa.string()))
    )


def _seen(epoch: np.ndarray, j: np.ndarray, ok: np.ndarray) -> pa.Array:
    """First / last request per row of the account table (null for an account with no prompt in the window)."""
    return pa.array(np.where(ok, epoch[j], 0), pa.int64(), mask=~ok).cast(TIMESTAMP_TYPE)


def _campaigns_table(rows: list[dict]) -> pa.Table:
    rows = sorted(rows, key=lambda r: (-r["score"], -r["accounts"]))
    return pa.Table.from_pylist(rows, schema=CAMPAIGNS)
