"""Every detection threshold in one place: what it means, and why it has its value.

A run takes a :class:`DetectSettings`; the defaults below are the engine's. An analyst overrides any of them from
the command line (``promptsim run --set link_cosine=0.45``) or a JSON file (``--settings FILE``), and the values a
run used are stored with its snapshot, so ``prune`` and later nights reuse them.

None of these was fitted by an optimiser to labels. Most are scale choices ("how much is a lot"): evidence is
always measured against the log's own bulk (median account, the log's sign-up rate, the ASN mix) and these only say
when a difference is full evidence. About a dozen were chosen by looking at a benchmark's result (``link_cosine``,
``cohort_epsilon``, ``profile_merge_distance``, ``variant_share``, ``sweep_distinct``, ``continue_score`` among
them): each one's note says which benchmark and what it showed, so a reader knows which values a new kind of log
may need to move. Settings read by nothing are removed, not kept: a stored run that names one still loads.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any


def _s(default: float | int | tuple, why: str) -> Any:
    return field(default=default, metadata={"why": why})


@dataclass(frozen=True)
class DetectSettings:
    """Thresholds of signals, cohort linking, scoring and campaign tracking (see each field's ``why``)."""

    # -- per-prompt signals --------------------------------------------------------------------------------------
    min_area_sim: float = _s(
        0.2, "below this cosine to every exemplar class a payload is 'other': too short or odd to place"
    )
    min_prompts_for_clock: int = _s(
        15, "an account's 24-hour shape and minute-of-hour regularity mean nothing on fewer prompts than this"
    )
    quiet_hours: float = _s(6.0, "a human account has a quiet stretch of at least this many hours a day (sleep)")
    lockstep_r: float = _s(
        0.8, "minute-of-hour concentration (mean resultant length, 0..1) above which a clock is scheduled"
    )
    # -- linking accounts into cohorts ---------------------------------------------------------------------------
    link_cosine: float = _s(
        0.4,
        "accounts whose wrapper-sentence profiles are at least this similar are linked. Set by looking at the "
        "holdout-a benchmark: 0.4 rather than 0.5 keeps accounts of a campaign with 50% cover traffic linked to it "
        "(stealth 42 -> 54 of 70 flagged)",
    )
    account_knn: int = _s(30, "nearest accounts kept per account in the account graph (bounds its size)")
    min_account_cluster: int = _s(5, "HDBSCAN min_cluster_size over accounts: fewer accounts are not a campaign")
    payment_distance: float = _s(0.2, "graph distance between two accounts paying with one card (strong link)")
    cohort_epsilon: float = _s(
        0.2,
        "HDBSCAN keeps account groups closer than this (cosine distance) whole. Set by looking at the holdout-b "
        "benchmark: 0.5 fused slow-drip campaigns with ordinary users through chains of weak links (0/6 found); "
        "0.2 keeps them apart (3/6 partly found) while no public or holdout-a campaign is split",
    )
    min_cohort: int = _s(3, "a cohort needs at least this many accounts to be flagged as a campaign")
    # -- account profiles (engine.detect.profiles) ---------------------------------------------------------------
    profile_min_spread: float = _s(
        0.05,
        "a profile column's spread among accounts is floored here (5 points of a share): no huge z from a "
        "column nearly every account shares",
    )
    profile_min_prompts: int = _s(
        5,
        "accounts with at least this many requests are profiled (rates shrunk by their uncertainty, so a quiet "
        "account counts for what it shows): below it an account's profile is the log's prior and says nothing",
    )
    profile_pseudo: float = _s(
        5.0, "shares of areas, models and clients are shrunk toward the log's by this many requests' worth"
    )
    profile_knn: int = _s(15, "nearest profiles kept per account in the profile graph")
    profile_scale: float = _s(
        4.0, "profile distances (robust-z units) are divided by this to sit in the account graph's 0..2 range"
    )
    profile_min_cluster: int = _s(8, "HDBSCAN min_cluster_size over profiles: a coordinated group is at least this big")
    profile_min_samples: int = _s(4, "HDBSCAN min_samples over profiles: how dense a profile's neighbourhood must be")
    region_dims: int = _s(
        256,
        "dimensions of the random projection of the accounts x prompt-clusters view (region_cohorts): a numerical "
        "budget, not a threshold; cosines come through within about 1/sqrt(256) = 0.06",
    )
    profile_merge_distance: float = _s(
        1.5,
        "cohorts whose members' mean profiles are closer than this (robust-z units, every profile block weighing "
        "the same) to a flagged cohort are that operation's fragments and are joined. Set by looking at "
        "public2.json and scripts/configs/holdout-c.json: fragments of one aged campaign lie 0.2-1.15 apart "
        "(public2; 1.47-1.75 in holdout-c, partly left apart), two different campaigns at least 1.8, a flagged "
        "campaign and an ordinary cohort at least 2.3",
    )
    variant_share: float = _s(
        0.5,
        "two flagged cohorts whose mean profiles are closer than this share of profile_merge_distance but for the "
        "marker columns (what their wrappers ask for) are one operation's wrapper variants and are joined "
        "(``variant_distance``). Set by looking at public3.json at --scale 7: a swarm's variant asking for reasoning "
        "in words the markers do not know lies 0.44 from the rest (1.80 with the markers); two different campaigns "
        "there lie at least 1.40 apart without them; half of 1.5 falls between",
    )
    fragment_share: float = _s(
        0.8,
        "an unflagged cohort of any size close in profile to a flagged one joins it when it scores at least this "
        "share of flag_score on its own (``fragment_score``): one operation split by its wrapper variants, each just "
        "short. Ordinary cohorts score far below it against random crowds",
    )
    attach_odds: float = _s(
        1.0,
        "an account outside every flagged cohort joins one when its profile is at least this many times more likely "
        "a member's than one of the log's accounts, the prior odds (the cohort's share of the log, estimated as a "
        "mixture weight) included: more likely a member than not",
    )
    burst_veto: float = _s(
        0.5, "cohorts with sign-up burst evidence at least this, and those without, are not joined by profile"
    )
    profile_absorb_size: int = _s(
        10,
        "linked cohorts smaller than this (one card's accounts, a wrapper variant) may be folded into the profile "
        "cluster holding them; larger ones keep their own identity",
    )
    profile_bulk_share: float = _s(
        0.5,
        "a profile cluster holding more than this share of the profiled accounts is the log's bulk, not a group: "
        "small linked cohorts in it keep their identity instead of dissolving into its loose accounts (a majority: "
        "whatever HDBSCAN selects, a group of most accounts is not 'unlike everyone else')",
    )
    profile_top_values: int = _s(
        8,
        "the log's commonest models and clients get a profile column each, rarer ones share an 'other' column: "
        "enough for the mixes seen in logs, few enough that one block's columns stay estimable",
    )
    profile_clip_z: float = _s(
        3.0,
        "a profile column counts at most this many spreads from the median: one wrapper's marker (an account always "
        "asking for reasoning) must not outweigh everything else the account does",
    )
    fingerprint_min_sd: float = _s(
        0.25,
        "a fingerprint column's kernel bandwidth is floored here (robust-z units): a campaign whose members all sit "
        "at one value of a column would otherwise make any other value infinitely unlikely",
    )
    fingerprint_bulk: int = _s(
        3000,
        "the log's side of a fingerprint is a kernel density of at most this many of its profiled accounts, evenly "
        "spaced: a density's shape is settled well before that, and a million-prompt night has tens of thousands",
    )
    fingerprint_clip: float = _s(
        6.0,
        "one fingerprint column's log-likelihood ratio is clipped to +- this many nats (~400x): no single column "
        "decides membership",
    )
    attach_max_share: float = _s(
        0.5,
        "the share of the profiled accounts a flagged campaign is estimated to hold (the EM mixture weight of "
        "attachment) is capped here: a campaign is never taken to be most of the log, whatever its fingerprint fits",
    )
    # -- provenance evidence -------------------------------------------------------------------------------------
    burst_scales: tuple[float, ...] = _s(
        (3.0, 7.0, 30.0, 60.0),
        "sign-up windows (days) in which a cohort's densest burst is compared with the log's other sign-ups. Set "
        "by looking at the holdout-a benchmark (a campaign created over six weeks needs the 30- and 60-day scales)",
    )
    burst_full_log10: float = _s(8.0, "a burst whose chance under the log's sign-up rate is 1e-8 is full evidence")
    infra_weight: float = _s(
        0.6, "shared cards / few ASNs count this much beside a burst: companies share cards too, so never alone"
    )
    min_accounts_for_asn: int = _s(5, "ASN concentration is judged only for cohorts of at least this many accounts")
    young_days: float = _s(30.0, "an account younger than this is 'young' in the reasons")
    burner_fresh_days: float = _s(
        1.0,
        "lifecycle: an account created at most this long before its first request was made to be used at once ...",
    )
    burner_life_days: float = _s(
        2.0,
        "... and is a burner when it is gone within this many days of that first request while the log went on at "
        "least as long after (judged only for accounts whose first request leaves the log that long to show it): a "
        "rotation of fresh accounts, a few a day, is no sign-up burst, but every member lives and dies this way",
    )
    sleeper_days: float = _s(
        30.0,
        "lifecycle: an account woke from dormancy when it is active in the window after at least this many days "
        "with no stored request (one never seen in the stored history: made at least this long before its first "
        "request); judged only where the store reaches this far back before the account's first request here. "
        "Aged accounts bought or kept idle for a campaign wake together, where ordinary users come and go at their "
        "own times. A month: longer than the gaps of anyone using the API weekly; not set from a benchmark",
    )
    trait_share: float = _s(
        0.9,
        "a flagged campaign at least this share of whose members share a yes/no trait with evidence for it "
        "(burners, sleepers; in the second pass a constant wrapper) attaches by fingerprint no account known not to "
        "have it (``campaigns.keep_traits``). Set by looking at public4.json: burner-daily's members are 75% "
        "burners by the statistic's own thresholds (some are made up to 30 hours before use), and a bar of one half "
        "cost it 8 of its accounts; the dormant drip of bench_evasion's history row is all sleepers, and the bar "
        "kept its 6 attached ordinary accounts out; public4's drip swarm is 93% wrapped (its flagged members more)",
    )
    # -- against random crowds (engine.detect.null) ------------------------------------------------------------
    effect_lo: float = _s(
        0.5,
        "a cohort statistic counts as evidence from this effect on (its distance from random crowds, in spreads of "
        "the log's accounts): half a spread is what a crowd drawn from a somewhat different corner of the log shows",
    )
    effect_hi: float = _s(1.5, "... and is full evidence at this effect (one and a half spreads)")
    surprise_lo: float = _s(
        2.0, "... and only when random crowds of the same sizes would show it less than ~2% of the time (z = 2)"
    )
    surprise_hi: float = _s(
        4.0,
        "... fully when z reaches 4 (p ~ 3e-5): a night scores hundreds of cohorts, so a surprise must survive that "
        "many tries",
    )
    null_refits: int = _s(
        1,
        "after a first pass, the null is refitted this many times on the accounts outside the campaigns flagged so "
        "far and the cohorts scored again (``campaigns.refit_null``): a campaign is measured against the ordinary "
        "accounts it hides among, not against the other campaigns of its log. 0: one pass, over every account. "
        "Set on public4.json: 1 found its drip swarm (0 -> 367 of 400); a second refit changed no verdict",
    )
    # -- content evidence ----------------------------------------------------------------------------------------
    baseline_min_prompts: int = _s(
        3, "accounts with at least this many prompts define the log's median capability and marker shares"
    )
    area_min_share: float = _s(0.05, "a capability area counts as covered when it holds this share of the probes")
    marker_weight: float = _s(
        0.6,
        "reasoning / grading / refusal requests unlike random crowds count this much beside probe-like payloads "
        "(noisy-or): products and courses ask for steps too",
    )
    language_weight: float = _s(
        0.3, "non-English payloads unlike random crowds count this much: a region's users are unlike the log as well"
    )
    shared_pool_full: float = _s(
        0.25,
        "sweep: when the average question of a cohort is also sent by this share of its other accounts, the cohort "
        "asks from one shared pool (a course, a classroom, a viral prompt) and its content is no evidence of a sweep "
        "(linear below). A campaign splitting its question set between accounts sits near 0",
    )
    sweep_distinct: float = _s(
        0.3,
        "... and only as much as it repeats itself: a cohort whose distinct questions are at most this share of its "
        "prompts asks from one small pool (public3's bootcamp 0.05, the demo's SaaS app 0.31); above it the pool "
        "discount fades linearly to none at 1 (a small operation sampling a benchmark with repeats shares questions "
        "between its few accounts, yet most of its prompts are new: the demo's grader sweep, 0.64). Set by looking "
        "at those cohorts",
    )
    # -- behaviour evidence --------------------------------------------------------------------------------------
    affix_words: int = _s(
        3,
        "own wrappers: an account's texts are read for their first and last 1..N words (``engine.text.affixes``); "
        "a greeting or a closing request is a word or three",
    )
    affix_min_share: float = _s(
        0.5,
        "... an affix is the account's own constant when at least this share of the distinct texts it asked carry it "
        "(a campaign's cover traffic goes unwrapped, so not all of them) ...",
    )
    affix_min_prompts: int = _s(
        4, "... and the account asked at least this many distinct texts: three alike may be chance"
    )
    own_affix_share: float = _s(
        1 / 3,
        "... and it is the account's *own* in a cohort when at most this share of the cohort's members hold it as "
        "theirs: one wrapper shared by the cohort (a product's system prompt, a course's instruction) is the linker's "
        "trace, not a wrapper per account. Set by looking at public4.json: its drip swarm draws each account's "
        "wrapper from eight openings and eight closings, so one opening is about 1/8 of a cohort",
    )
    own_affix_holder_share: float = _s(
        0.5,
        "... and at least this share of the cohort's prompts that carry it come from the members that hold it "
        "constant: an operation's per-account wrapper is on its holders' prompts only (public4.json's drip swarm: "
        "0.95 and above for the wrappers that carry its prompts), a course's phrase that a few students happen to "
        "put on most of their few texts on one day is on the other students' texts too (public3.json's bootcamp on "
        "its first day: 0.33). Set between the two by looking at them",
    )
    volume_weight: float = _s(
        0.5,
        "heavy use unlike random crowds counts this much as behaviour evidence: power users and teams are heavy too",
    )
    model_choice_weight: float = _s(
        0.3,
        "favouring one model unlike random crowds counts this much: a team or a product pins a model in its code",
    )
    adoption_hours: float = _s(
        48.0, "a cohort's move to a newly released model is measured over this many hours after the release"
    )
    adopted_min_share: float = _s(
        0.2,
        "an account moved to the new model when at least this share of its requests in those hours went to it (a "
        "busy account's stray requests to every model do not count)",
    )
    new_model_min_share: float = _s(
        0.02, "a model is a release of the window when it holds at least this share of the window's last quarter ..."
    )
    new_model_growth: float = _s(3.0, "... and at least this many times its share of the first quarter")
    # -- combining families --------------------------------------------------------------------------------------
    content_weight: float = _s(
        0.4,
        "weight of content (what is asked: probes, markers, a non-repeating sweep) in a cohort's score: the "
        "mission's own definition of a campaign, so the largest; below flag_score alone",
    )
    behaviour_weight: float = _s(
        0.3,
        "weight of behaviour (how: machine clocks, volume, a model mix unlike the log's); below flag_score alone: "
        "automation is common and legitimate",
    )
    provenance_weight: float = _s(
        0.3,
        "weight of provenance (sign-up burst, shared cards, few ASNs): supporting evidence, never enough alone "
        "(teams, courses and launch days sign up together)",
    )
    asn_only_share: float = _s(
        0.5,
        "without an account table provenance is only the ASN mix: its weight is scaled by this, the rest renormalised",
    )
    # -- look-alike discounts ------------------------------------------------------------------------------------
    copy_top_texts: int = _s(5, "a copied prompt shows as the share of a cohort's N commonest slot contents")
    copy_full_share: float = _s(
        0.5, "a cohort whose commonest slot contents are this share or more of its prompts is one copied prompt"
    )
    one_org_share: float = _s(
        0.8, "this share of a cohort in one org, or on one card, makes it look like one organisation's own traffic"
    )
    org_content_max: float = _s(
        0.3,
        "... which is discounted when its content evidence is below this (a team's or course's ordinary requests), "
        "whatever the accounts' age; a sweep on one card is not",
    )
    old_org_days: float = _s(
        90.0, "... or whatever it asks when its median account is older than this (a long-standing customer's harness)"
    )
    one_org_factor: float = _s(0.3, "score multiplier for one organisation's own traffic (team, course, eval harness)")
    full_size: int = _s(10, "cohorts of this many accounts or more get no small-size discount (log-scaled below)")
    # -- verdicts ------------------------------------------------------------------------------------------------
    flag_score: float = _s(
        0.5,
        "cohort score at and above which it is flagged: above any one family's weight, so at least two "
        "families must carry a campaign",
    )
    # -- casework (engine.detect.casework) -------------------------------------------------------------------
    label_growth_share: float = _s(
        0.25,
        "a campaign labelled benign is flagged again once its members beyond the labelled set reach this share of "
        "the labelled set: a team that hired a few people is what was labelled, a quarter more accounts is not",
    )
    label_volume_factor: float = _s(
        2.0, "... or once it sends this many times the prompts a day it sent when labelled (over its span)"
    )
    label_concentrated: float = _s(
        0.5,
        "a labelled campaign was concentrated on its cards (orgs) when it had at most this many per account: only "
        "then is a new card or org a change of who it is (one spread over a card each brings new ones with any "
        "new account)",
    )
    label_split_share: float = _s(
        0.5,
        "an unlabelled campaign split off a labelled one when at least this share of its members were in the "
        "label's baseline: most of it is what the analyst looked at",
    )
    watch_template_share: float = _s(
        0.5,
        "an account matches a confirmed campaign's template when at least this share of its prompts carry it: one "
        "copied prompt is not membership",
    )
    watch_profile_odds: float = _s(
        10.0,
        "... or when its profile is at least this many times likelier one of the confirmed campaign's accounts than "
        "one of the log's, the prior (the labelled accounts' share of the log) included: stricter than attach_odds, "
        "since a watch flags an account however few others are like it",
    )
    min_member_strength: float = _s(
        0.5, "an account is flagged with its cohort when at least this typical of it (share of core wrapper text)"
    )
    core_segment_share: float = _s(0.3, "a wrapper sentence is core to a cohort when this share of its accounts use it")
    member_score_floor: float = _s(0.6, "an atypical member's score is at least this share of its cohort's score")
    solo_cap: float = _s(0.35, "an account alone (no cohort) is ranked by its own evidence capped here: never flagged")
    # -- what the reasons say (engine.detect.explain): wording only, never a verdict -----------------------------
    say_burst_p: float = _s(1e-3, "a reason line names the sign-up burst when its chance is below this")
    say_wrapped: float = _s(0.3, "... names the shared wrapper text when at least this share of prompts carry it")
    say_few_asn: float = _s(
        0.5, "... says 'few networks' when the cohort's ASNs are below this share of what as many accounts would have"
    )
    say_capability: float = _s(0.3, "... states the capability-probe share when at least this")
    say_evidence: float = _s(
        0.2, "... names a statistic against random crowds when its evidence (effect x surprise) is at least this"
    )
    say_ordinary_provenance: float = _s(
        0.2, "a mitigation says 'ordinary content' when provenance evidence is below this ..."
    )
    say_ordinary_content: float = _s(0.4, "... and content evidence below this")
    say_few_accounts: int = _s(10, "a mitigation says 'only N accounts' below this many")
    # -- joining cohorts of one operation ------------------------------------------------------------------------
    merge_burst_days: float = _s(
        2.0,
        "flagged cohorts whose sign-up burst windows overlap, or lie at most this many days apart, may be one operation",
    )
    merge_burst_share: float = _s(0.8, "... when this share of each was created within merge_burst_window days")
    merge_burst_window: float = _s(7.0, "... (days)")
    merge_area_cosine: float = _s(0.9, "... and their capability-area profiles agree this closely")
    merge_template_overlap: float = _s(0.3, "... and their wrappers overlap at least this much (Jaccard)")
    # -- campaigns across nights ---------------------------------------------------------------------------------
    match_min: float = _s(0.3, "tonight's cohort continues a known campaign when they overlap at least this much")
    match_common_cohorts: int = _s(
        2,
        "a template among the top templates of more of tonight's cohorts than this is a common question format, "
        "not an operation's wrapper, and does not match a cohort to a known campaign. Set by looking at the "
        "casework scenario's night 2 (tests/test_casework.py): a multiple-choice skeleton was in 10 of its 25 "
        "cohorts and 'question: <SLOT>' in 3, and the two gave a swarm fragment the id of a bootcamp campaign it "
        "shares no account or card with; accounts and cards still match an operation split into more cohorts",
    )
    continue_score: float = _s(
        0.45,
        "a known campaign stays flagged while its cohort scores at least this: no flicker around flag_score. Set by "
        "looking at the nightly test log: at 0.4 a 4-account cohort of an eval harness and two ordinary users "
        "(0.43) kept a campaign's flag for a night",
    )
    partial_night_share: float = _s(
        0.25,
        "a newest night holding less than this share of a typical night's prompts is partial (a spill-over file): "
        "campaign status is judged against the last full night, so a partial night does not make every campaign quiet",
    )

    # -- overriding ----------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DetectSettings:
        """Settings from a mapping; unknown names are an error (a typo must not silently keep the default)."""
        return cls().with_values(values)

    def with_values(self, values: dict[str, Any]) -> DetectSettings:
        known = {f.name: f for f in fields(self)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown detection setting(s) {', '.join(unknown)}; `promptsim settings` lists them")
        out = {name: _coerce(name, value, getattr(self, name)) for name, value in values.items()}
        return replace(self, **out)

    def with_assignments(self, assignments: list[str]) -> DetectSettings:
        """Apply ``name=value`` strings (the CLI's ``--set``)."""
        values = {}
        for a in assignments:
            name, sep, value = a.partition("=")
            if not sep:
                raise ValueError(f"--set {a!r}: expected NAME=VALUE")
            values[name.strip()] = value.strip()
        return self.with_values(values)

    @classmethod
    def from_file(cls, path: str | Path) -> DetectSettings:
        try:
            values = json.loads(Path(path).read_text())
        except (OSError, ValueError) as e:
            raise ValueError(f"{path}: cannot read detection settings ({e})") from None
        if not isinstance(values, dict):
            raise ValueError(f"{path}: detection settings must be a JSON object of name: value")
        return cls.from_dict(values)

    @property
    def variant_distance(self) -> float:
        """Profile distance (marker columns left out) under which two flagged cohorts are wrapper variants."""
        return self.variant_share * self.profile_merge_distance

    @property
    def fragment_score(self) -> float:
        """Score at which an unflagged cohort close to a flagged one joins it: derived, so it follows flag_score."""
        return self.fragment_share * self.flag_score

    @classmethod
    def names(cls) -> set[str]:
        """Every setting's name: a stored run's settings are read through it, dropping names since removed."""
        return {f.name for f in fields(cls)}

    @classmethod
    def describe(cls) -> list[tuple[str, Any, str]]:
        """(name, default, why) of every setting, for ``promptsim settings`` and the docs."""
        d = cls()
        return [(f.name, getattr(d, f.name), f.metadata["why"]) for f in fields(cls)]


def _coerce(name: str, value: Any, default: Any) -> Any:
    """``value`` as the type of ``default``: a finite, non-negative number (an integer where the default is one),
    or a non-empty list of positive numbers. Anything else is an error, never a silently different threshold
    (``True`` as a score, ``3.7`` accounts, ``nan`` that makes every comparison false)."""

    def number(x: Any, kind: type) -> float | int:
        if isinstance(x, bool):
            raise ValueError
        f = float(x)
        if not math.isfinite(f) or f < 0 or (kind is int and f != int(f)):
            raise ValueError
        return kind(f)

    kind = tuple if isinstance(default, tuple) else type(default)
    try:
        if kind is tuple:
            items = value if isinstance(value, (list, tuple)) else str(value).split(",")
            out = tuple(number(x, float) for x in items)
            if not out or min(out) <= 0:
                raise ValueError
            return out
        return number(value, kind)
    except (TypeError, ValueError):
        want = {tuple: "non-empty list of positive numbers", int: "non-negative integer"}.get(
            kind, "non-negative number"
        )
        raise ValueError(f"detection setting {name}: {value!r} is not a {want}") from None


DEFAULTS = DetectSettings()
