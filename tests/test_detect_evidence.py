"""Detection pieces on small synthetic inputs: the random-crowd null, content, behaviour, a new model's release,
transparent organisations, account profiles and how fragments and quiet accounts join a campaign. Each test names
the one piece it checks, so a failing end-to-end figure points somewhere."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from engine.detect import evidence, profiles
from engine.detect.campaigns import FAMILIES, detect
from engine.detect.null import RateNull
from engine.detect.settings import DEFAULTS
from engine.detect.signals import AREAS, AccountSignals

HOUR = 3600.0


def _rate(name: str, x: np.ndarray, codes: np.ndarray, n_acc: int) -> RateNull:
    x = x.astype(np.float64)
    return RateNull.fit(name, np.bincount(codes, x, n_acc), np.bincount(codes, x * x, n_acc),
                        np.bincount(codes, minlength=n_acc))  # fmt: skip


def _population(codes: np.ndarray, probe: np.ndarray, group: np.ndarray | None = None, *, has_accounts: bool = True,
                **markers: np.ndarray) -> evidence.Population:  # fmt: skip
    """A Population for prompts sent by ``codes`` with probe probabilities ``probe`` (and per-prompt markers: a name
    for the whole text, ``payload_<name>`` for the payload alone), every other statistic flat."""
    n, n_acc = len(codes), int(codes.max()) + 1
    group = np.arange(n) if group is None else group
    zeros = np.zeros(n, dtype=bool)
    rates = {"probe": _rate("probe", probe, codes, n_acc), "foreign": _rate("foreign", zeros, codes, n_acc)}
    for m in evidence.MARKER_STATS:
        rates[m] = _rate(m, markers.get(m, zeros), codes, n_acc)
        rates[f"payload:{m}"] = _rate(m, markers.get(f"payload_{m}", zeros), codes, n_acc)
    order = np.argsort(codes, kind="stable")
    flat = RateNull.per_account("flat", np.zeros(n_acc))
    return evidence.Population(
        rates=rates, volume=flat, machine=flat, burner=flat, sleeper=flat, new_model=None, has_accounts=has_accounts, model_names=[],
        probe=probe.astype(np.float64), group=group, codes=codes,
        senders=np.bincount(np.unique(np.stack([group, codes], axis=1), axis=0)[:, 0]), asn_shares=np.array([1.0]),
        area=np.arange(n) % len(AREAS), foreign=zeros, marked=zeros, markers={}, ts=np.zeros(n),
        prompts_by_acc=order, acc_bounds=np.searchsorted(codes[order], np.arange(n_acc + 1)),
    )  # fmt: skip


def _log(n_ordinary: int = 400, per: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Prompt codes and probe probabilities of ordinary accounts, each with its own leaning (beta-distributed)."""
    rng = np.random.default_rng(seed)
    lean = rng.beta(2, 8, n_ordinary)
    codes = np.repeat(np.arange(n_ordinary), per)
    return codes, np.clip(rng.normal(lean[codes], 0.1), 0, 1)


# -- the random-crowd null -----------------------------------------------------------------------------------------


def test_a_random_crowd_of_the_log_is_no_surprise() -> None:
    rng = np.random.default_rng(1)
    codes, probe = _log(2000)
    null = _rate("probe", probe, codes, 2000)
    z = np.array([null.test(rng.choice(2000, 200, replace=False)).z for _ in range(200)])
    assert abs(z.mean()) < 0.3 and 0.7 < z.std() < 1.3  # a standard normal, as the null says
    ev = [null.test(rng.choice(2000, 200, replace=False)).evidence(0.5, 1.5, 2, 4) for _ in range(50)]
    assert max(ev) == 0.0


def test_many_quiet_accounts_leaning_one_way_are_a_surprise_together() -> None:
    codes, probe = _log(1000)
    rng = np.random.default_rng(2)
    quiet = np.repeat(np.arange(1000, 1300), 6)  # 300 accounts with 6 requests each, leaning to probes
    null = _rate("probe", np.r_[probe, np.clip(rng.normal(0.45, 0.15, len(quiet)), 0, 1)], np.r_[codes, quiet], 1300)
    alone = [null.test(np.array([a])) for a in range(1000, 1300)]
    assert np.median([x.z for x in alone]) < 2.0  # none is much on its own
    together = null.test(np.arange(1000, 1300))
    assert together.z > 10 and together.evidence(0.5, 1.5, 2, 4) > 0.8


def test_a_tiny_difference_in_a_huge_crowd_is_surprising_but_no_effect() -> None:
    codes, probe = _log(4000, per=30)
    probe = probe + np.where(codes < 2000, 0.02, 0.0)  # half the log asks 2 points more probe-like questions
    null = _rate("probe", probe, codes, 4000)
    x = null.test(np.arange(2000))
    assert x.z > 2 and x.d < DEFAULTS.effect_lo and x.evidence(DEFAULTS.effect_lo, 1.5, 2, 4) == 0.0


def _log_with_operations(crowd_mean: float, crowd_per: int, seed: int) -> tuple[RateNull, np.ndarray]:
    """The probe null of 1,200 ordinary accounts (``_log``), 600 loud operations' (accounts 1200-1799, probe 0.9) and
    a crowd of 100 (accounts 1800-1899) asking ``crowd_mean``; and the accounts a refit keeps (all but the loud)."""
    codes, probe = _log(1200)
    rng = np.random.default_rng(seed)
    loud = np.repeat(np.arange(1200, 1800), 10)
    crowd = np.repeat(np.arange(1800, 1900), crowd_per)
    x = np.r_[
        probe, np.clip(rng.normal(0.9, 0.05, len(loud)), 0, 1), np.clip(rng.normal(crowd_mean, 0.1, len(crowd)), 0, 1)
    ]
    keep = np.ones(1900, dtype=bool)
    keep[1200:1800] = False
    return _rate("probe", x, np.r_[codes, loud, crowd], 1900), keep


def test_a_crowd_among_many_campaigns_stands_out_once_the_null_is_refitted_without_them() -> None:
    """A log where a third of the accounts are loud operations (probe 0.9) and a quiet crowd asks 0.5: against
    the whole log the crowd is only a little above the mean; against the ordinary accounts, far above. Refitting
    moves mu and tau2 only, every account keeps its own mean and count, and nothing to keep changes nothing."""
    null, keep = _log_with_operations(crowd_mean=0.5, crowd_per=8, seed=4)
    crowd = np.arange(1800, 1900)
    clean = null.refit(keep)
    assert clean.mu < null.mu and clean.tau2 < null.tau2 and clean.sw2 == null.sw2
    assert np.array_equal(clean.mean, null.mean, equal_nan=True) and np.array_equal(clean.n, null.n)
    before, after = null.test(crowd), clean.test(crowd)
    assert before.evidence(0.5, 1.5, 2, 4) == 0.0 and after.evidence(0.5, 1.5, 2, 4) == 1.0
    assert after.observed == pytest.approx(before.observed)
    assert null.refit(np.zeros(1900, dtype=bool)) is null


def test_after_a_refit_a_crowd_must_still_exceed_the_whole_log() -> None:
    """A product's users (an agent framework: probe 0.33) ask more probes than the ordinary accounts (about 0.2) but
    fewer than the whole log with its operations in it: measured against the ordinary accounts alone they would
    stand out, yet nothing about them changed when the operations left the null. Evidence needs both: above the
    ordinary accounts, and above the log they were first measured against. A second refit keeps that first floor."""
    null, keep = _log_with_operations(crowd_mean=0.33, crowd_per=10, seed=5)
    clean = null.refit(keep)
    crowd = np.arange(1800, 1900)
    got = clean.test(crowd)
    assert clean.mu < got.observed < null.mu and clean.floor == pytest.approx(null.mu)
    assert got.d <= 0 and got.z <= 0 and got.evidence(0.5, 1.5, 2, 4) == 0.0
    unfloored = replace(clean, floor=None).test(crowd)
    assert unfloored.evidence(0.5, 1.5, 2, 4) > 0  # what the refit alone would have said
    assert clean.refit(keep).floor == clean.floor


def test_shrinkage_pulls_a_quiet_account_toward_the_log() -> None:
    codes = np.r_[np.repeat(np.arange(500), 20), [500] * 2]
    x = np.r_[np.random.default_rng(3).random(10000) < 0.1, [True, True]]
    null = _rate("probe", x, codes, 501)
    shrunk = null.shrunk()
    assert null.mean[500] == 1.0 and shrunk[500] < 0.5  # 2 of 2 is not a 100% account
    assert abs(shrunk[:500].mean() - 0.1) < 0.02


# -- content -------------------------------------------------------------------------------------------------------


def _with_cohort(probe_level: float, group: np.ndarray | None = None, n: int = 20, per: int = 10, **markers):
    """400 ordinary accounts, then a cohort of ``n`` accounts x ``per`` prompts at ``probe_level``."""
    codes, probe = _log(400)
    c_codes = np.repeat(np.arange(400, 400 + n), per)
    g = np.arange(len(codes) + len(c_codes)) if group is None else np.r_[np.arange(len(codes)), len(codes) + group]
    extra = {k: np.r_[np.zeros(len(codes), bool), v] for k, v in markers.items()}
    pop = _population(np.r_[codes, c_codes], np.r_[probe, np.full(len(c_codes), probe_level)], g, **extra)
    return pop, np.arange(400, 400 + n), np.arange(len(codes), len(codes) + len(c_codes))


def test_a_sweep_split_between_accounts_keeps_its_content_evidence() -> None:
    pop, members, pidx = _with_cohort(0.9)  # every prompt a different, probe-like question
    c = evidence.content(pidx, members, pop, DEFAULTS)
    assert c.shared_pool == 0.0 and c.breadth == 1.0
    assert c.surprise["probe"].z > 10 and c.evidence > 0.8


def test_a_course_asking_one_small_pool_is_no_sweep() -> None:
    # 20 students x 10 prompts drawn from the same 12 problems: each problem sent by most of the class
    pool = np.random.default_rng(0).integers(0, 12, 200)
    pop, members, pidx = _with_cohort(0.9, group=pool)
    c = evidence.content(pidx, members, pop, DEFAULTS)
    assert c.shared_pool > DEFAULTS.shared_pool_full
    assert c.breadth == 0.0 and c.evidence == 0.0


def test_an_agents_repeated_tool_results_are_not_a_shared_pool() -> None:
    # an agent sweep: every task a different question, and after each task the same few tool results (a test run,
    # a file listing) that every session gets back; counted as questions they would make it look like a course
    from dataclasses import replace

    rng = np.random.default_rng(0)
    group = np.where(np.arange(200) % 2 == 0, 10_000 + np.arange(200), rng.integers(0, 3, 200))
    pop, members, pidx = _with_cohort(0.9, group=group)
    counted = evidence.content(pidx, members, pop, DEFAULTS)
    asked = np.ones(len(pop.group), bool)
    asked[pidx[1::2]] = False  # the odd ones are tool results
    c = evidence.content(pidx, members, replace(pop, asked=asked), DEFAULTS)
    assert counted.breadth < 0.5 and c.breadth == 1.0 and c.shared_pool == 0.0


def test_users_of_a_stock_prompt_that_asks_for_reasoning_are_not_content() -> None:
    # a random fifth of the log uses an app whose system prompt says "think step by step": the marker is in every
    # text they send, not in what they ask, and what they ask is the log's ordinary mix
    codes, probe = _log(500)
    app = np.isin(codes, np.arange(0, 500, 5))
    pop = _population(codes, probe, reasoning=app)
    members = np.arange(0, 500, 5)
    c = evidence.content(pop.prompts_of(members), members, pop, DEFAULTS)
    assert c.surprise["reasoning"].z > 10  # the marker itself is very unlike random crowds ...
    assert c.evidence < 0.05  # ... but it is not what they ask, and their questions are ordinary


def test_a_reasoning_request_inside_probe_questions_adds_to_content() -> None:
    mark = np.ones(200, dtype=bool)
    plain, members, pidx = _with_cohort(0.25)  # questions about as probe-like as the log's
    asked, _, _ = _with_cohort(0.25, reasoning=mark, payload_reasoning=mark)
    c0, c1 = (evidence.content(pidx, members, p, DEFAULTS) for p in (plain, asked))
    assert c1.parts["payload:reasoning"] == 1.0 and c1.evidence > c0.evidence


def test_shared_pool_does_not_depend_on_cohort_size() -> None:
    # each question asked by two accounts, in a cohort of 10 and of 100: the share of *other* accounts shrinks
    small = _population(np.tile(np.arange(10), 10), np.full(100, 0.5), np.repeat(np.arange(50), 2))
    big = _population(np.tile(np.arange(100), 10), np.full(1000, 0.5), np.repeat(np.arange(500), 2))
    s_small = evidence.content(np.arange(100), np.arange(10), small, DEFAULTS).shared_pool
    s_big = evidence.content(np.arange(1000), np.arange(100), big, DEFAULTS).shared_pool
    assert s_small == pytest.approx(1 / 9) and s_big == pytest.approx(1 / 99)


def test_no_family_reaches_the_flag_score_alone() -> None:
    pop = _population(np.arange(4), np.full(4, 0.5))
    w = evidence.weights(pop, DEFAULTS)
    assert sum(w.values()) == pytest.approx(1.0)
    assert max(w.values()) < DEFAULTS.flag_score
    # without an account table provenance (ASN mix only) loses weight and content and behaviour carry it
    w_none = evidence.weights(_population(np.arange(4), np.full(4, 0.5), has_accounts=False), DEFAULTS)
    assert sum(w_none.values()) == pytest.approx(1.0)
    assert w_none["provenance"] == pytest.approx(DEFAULTS.provenance_weight * DEFAULTS.asn_only_share)
    assert w_none["content"] > w["content"] and max(w_none.values()) < DEFAULTS.flag_score


# -- behaviour and a new model ---------------------------------------------------------------------------------------


def _accounts(n: int, per_day: float = 1.0) -> AccountSignals:
    return AccountSignals(
        n_prompts=np.full(n, 10.0), per_day=np.full(n, per_day), capability_share=np.zeros(n),
        marker_share=np.zeros(n), max_hour_gap=np.full(n, 12.0), minute_r=np.zeros(n), created=np.full(n, np.nan),
        age_days=np.full(n, np.nan), org=np.full(n, "", object), payment=np.full(n, "", object),
        asn=np.full(n, "", object), first_seen=np.zeros(n, np.int64), last_seen=np.full(n, 86_400, np.int64),
        active_days=np.full(n, 2.0),
    )  # fmt: skip


def _model_population(codes: np.ndarray, model: np.ndarray, soon: np.ndarray) -> evidence.Population:
    n_acc = int(codes.max()) + 1
    pop = _population(codes, np.full(len(codes), 0.2))
    pop.rates["model:new"] = _rate("model:new", model == 1, codes, n_acc)
    pop.rates["model:old"] = _rate("model:old", model == 0, codes, n_acc)
    pop.rates["adoption"] = RateNull.fit("adoption", np.bincount(codes[soon], (model == 1)[soon], n_acc),
                                         np.bincount(codes[soon], (model == 1)[soon], n_acc),
                                         np.bincount(codes[soon], minlength=n_acc))  # fmt: skip
    used = pop.rates["adoption"]
    pop.rates["adopted"] = RateNull.per_account("adopted", np.nan_to_num(used.mean) >= DEFAULTS.adopted_min_share,
                                                used.n > 0)  # fmt: skip
    return pop


def test_a_crowd_pinned_to_one_model_is_weak_behaviour_evidence_alone() -> None:
    rng = np.random.default_rng(5)
    codes = np.repeat(np.arange(300), 10)
    primary = rng.random(300) < 0.7  # ordinary accounts keep a primary model
    model = np.where(rng.random(3000) < 0.9, primary[codes], ~primary[codes]).astype(np.int64)
    model[codes >= 270] = 0  # a team of 30 pins the old model
    pop = _model_population(codes, model, np.zeros(3000, dtype=bool))
    b = evidence.behaviour(np.arange(270, 300), _accounts(300), pop, DEFAULTS)
    assert b.evidence <= DEFAULTS.model_choice_weight + 1e-9


def test_a_cohort_that_moves_at_once_to_a_new_model_is_adoption_evidence() -> None:
    rng = np.random.default_rng(6)
    codes = np.repeat(np.arange(300), 10)
    soon = np.tile(np.arange(10) >= 5, 300)  # the last five requests of each account fall after the release
    model = (soon & (rng.random(3000) < 0.1)).astype(np.int64)  # ordinary accounts try it now and then
    model[(codes >= 260) & soon] = 1  # an operation of 40 moves all its traffic at once
    pop = _model_population(codes, model, soon)
    fast = evidence.behaviour(np.arange(260, 300), _accounts(300), pop, DEFAULTS)
    assert fast.parts["adoption"] == 1.0 and fast.adopted == 1.0
    early = rng.choice(260, 40, replace=False)  # a random 40 ordinary accounts, early adopters among them
    assert evidence.behaviour(early, _accounts(300), pop, DEFAULTS).parts["adoption"] == 0.0


def _affix_population(keys: np.ndarray, codes: np.ndarray, probe: np.ndarray) -> evidence.Population:
    """A Population whose prompts carry affix ``keys`` (one column), measured as Population.measure does."""
    n_acc = int(codes.max()) + 1
    pop = _population(codes, probe)
    pop.affix_const = evidence.constant_affixes(keys[:, None], codes, n_acc, DEFAULTS)[0]
    pop.affixes, pop.text_row = keys[:, None], np.arange(len(keys))  # every prompt its own text
    pop.rates["own_wrapper"] = _rate("own_wrapper", probe * (pop.affix_const != 0).any(axis=1), codes, n_acc)
    return pop


def test_an_affix_is_constant_only_on_most_of_a_busy_accounts_prompts() -> None:
    codes = np.repeat(np.arange(3), [10, 10, 3])
    keys = np.array([7] * 6 + [1, 2, 3, 4] + [7] * 4 + [1, 2, 3, 4, 5, 6] + [9] * 3)
    const = evidence.constant_affixes(keys[:, None], codes, 3, DEFAULTS)[0][:, 0]
    assert (const[:6] == 7).all() and (const[6:10] == 0).all()  # 6 of 10: the account's own constant
    assert (const[10:20] == 0).all()  # 4 of 10: not constant
    assert (const[20:] == 0).all()  # every prompt, but 3 prompts are too few to tell
    # one question sent six times among ten prompts: one text, not a wrapper around six
    texts = np.r_[np.zeros(6, np.int64), np.arange(1, 5), np.arange(5, 18)]
    const = evidence.constant_affixes(keys[:, None], codes, 3, DEFAULTS, texts)[0][:, 0]
    assert (const[:10] == 0).all()


def test_probes_in_a_wrapper_of_each_accounts_own_are_behaviour_evidence_and_a_shared_one_is_not() -> None:
    rng = np.random.default_rng(8)
    n, per = 400, 10
    codes = np.repeat(np.arange(n), per)
    probe = np.clip(rng.normal(0.2, 0.1, n * per), 0, 1)
    keys = rng.integers(1, 10**9, n * per)  # ordinary accounts open each request their own way
    habit = rng.random(n) < 0.3  # ... but some always open the same way
    keys[habit[codes]] = 10**9 + codes[habit[codes]]
    own, shared = np.arange(340, 370), np.arange(370, 400)
    probe[np.isin(codes, np.r_[own, shared])] = 0.9  # two crowds asking capability questions
    keys[np.isin(codes, own)] = 2 * 10**9 + codes[np.isin(codes, own)] % 8  # eight wrappers, one per account
    keys[np.isin(codes, shared)] = 3 * 10**9  # one wrapper, the same for all (a course's, a product's)
    pop = _affix_population(keys, codes, probe)
    assert evidence.behaviour(own, _accounts(n), pop, DEFAULTS).parts["own_wrappers"] == 1.0
    assert evidence.behaviour(shared, _accounts(n), pop, DEFAULTS).parts["own_wrappers"] == 0.0
    # ordinary accounts with a habit of their own, asking ordinary questions, are no evidence
    habitual = np.flatnonzero(habit[:340])[:30]
    assert evidence.behaviour(habitual, _accounts(n), pop, DEFAULTS).parts["own_wrappers"] == 0.0


def test_a_course_phrase_a_few_students_happen_to_hold_is_not_a_wrapper_of_their_own() -> None:
    """A course's first day: each student opens each question with one of four phrases the course hands out, a few
    questions each, so some students put one phrase on most of their texts by chance. The phrase is on the other
    students' texts too: it is the course's, not theirs (with the holders' share rule off, it reads as their own)."""
    rng = np.random.default_rng(9)
    n, course = 400, np.arange(340, 400)
    codes = np.repeat(np.arange(n), np.where(np.arange(n) >= 340, 5, 10))  # five questions each on the first day
    probe = np.clip(rng.normal(0.2, 0.1, len(codes)), 0, 1)
    keys = rng.integers(1, 10**9, len(codes))
    in_course = np.isin(codes, course)
    probe[in_course] = 0.9
    keys[in_course] = 3 * 10**9 + rng.integers(0, 4, int(in_course.sum()))
    pop = _affix_population(keys, codes, probe)
    held = np.unique(codes[(pop.affix_const != 0).any(axis=1) & in_course])
    assert 5 <= len(held) <= 40  # some students hold a phrase by chance, not the course
    assert evidence.behaviour(course, _accounts(n), pop, DEFAULTS).parts["own_wrappers"] == 0.0
    off = replace(DEFAULTS, own_affix_holder_share=0.0)
    assert evidence.behaviour(course, _accounts(n), pop, off).parts["own_wrappers"] > 0.0


def test_a_model_released_in_the_window_is_found_at_its_change_point() -> None:
    rng = np.random.default_rng(7)
    t = np.sort(rng.uniform(0, 96 * HOUR, 20000))
    model = np.where(t >= 40 * HOUR, rng.random(len(t)) < 0.3, rng.random(len(t)) < 0.002).astype(np.int64)
    new = evidence.find_new_model(model, ["old", "new"], t, DEFAULTS)
    assert new is not None and new.name == "new"
    assert abs(new.release - 40 * HOUR) <= 2 * HOUR and new.share_after > 0.25 and new.share_before < 0.01
    steady = (rng.random(len(t)) < 0.3).astype(np.int64)  # two models in a steady mix: no release
    assert evidence.find_new_model(steady, ["old", "new"], t, DEFAULTS) is None


# -- lifecycle -------------------------------------------------------------------------------------------------------


def test_a_rotation_of_one_day_accounts_is_burner_evidence_and_sign_ups_who_stay_are_not() -> None:
    """600 ordinary accounts (400 aged, 200 signed up during the log and kept using it) and 60 made a day at a time,
    each used within hours of its creation for one day and then dropped. Made on different days, they are no sign-up
    burst; their lifecycle is what they share. An account first seen in the log's last days is not judged."""
    n, day, end = 660, 86_400, 10 * 86_400
    acc = _accounts(n)
    rng = np.random.default_rng(8)
    acc.first_seen[:] = rng.integers(0, 3 * day, n)
    acc.last_seen[:] = end - rng.integers(0, day, n)
    acc.age_days[:400] = rng.uniform(30, 900, 400)
    acc.age_days[400:600] = rng.uniform(0.01, 0.5, 200)  # in-window sign-ups used at once, who stay
    rotation = np.arange(600, 660)
    acc.first_seen[rotation] = (rotation - 600) % 7 * day  # a fresh batch each day of the first week
    acc.last_seen[rotation] = acc.first_seen[rotation] + 5 * 3600
    acc.age_days[rotation] = 0.1
    pop = SimpleNamespace(
        burner=evidence.burners(acc, float(end), DEFAULTS),
        sleeper=evidence.sleepers(acc, None, None, DEFAULTS),
        asn_shares=np.array([1.0]),
    )

    def burner_evidence(members: np.ndarray) -> float:
        b = evidence.provenance(members, acc, pop, DEFAULTS).burner  # type: ignore[arg-type]
        return b.evidence(DEFAULTS.effect_lo, DEFAULTS.effect_hi, DEFAULTS.surprise_lo, DEFAULTS.surprise_hi)

    assert burner_evidence(rotation) == 1.0
    assert burner_evidence(np.arange(400, 460)) == 0.0  # signed up during the log, and stayed
    assert burner_evidence(rng.choice(600, 60, replace=False)) == 0.0
    acc.first_seen[rotation] = end - day  # first seen on the last day: "gone" cannot be seen yet
    assert np.isnan(evidence.burners(acc, float(end), DEFAULTS).mean[rotation]).all()


def test_accounts_that_wake_together_after_a_long_silence_are_sleeper_evidence() -> None:
    """600 ordinary accounts with stored requests through the weeks before the window (a few come back after a
    break, each at its own time) and 60 aged accounts that were silent for months, or never used, and wake in the
    window. Waking is what the 60 share; a random crowd, with its few returners, is no surprise. Where the store
    does not reach back sleeper_days before an account's first request here, nobody is judged."""
    n, day = 660, 86_400
    start = 100 * day  # the store's oldest prompt; the window opens 60 days later
    acc = _accounts(n)
    rng = np.random.default_rng(9)
    acc.first_seen[:] = start + 60 * day + rng.integers(0, 3 * day, n)
    earlier = acc.first_seen - rng.uniform(0.2, 6, n) * day  # used in the days before the window
    back = rng.choice(600, 30, replace=False)
    earlier[back] = acc.first_seen[back] - rng.uniform(31, 59, 30) * day  # back from a break, on their own
    sleepers = np.arange(600, 660)
    earlier[600:630] = start + rng.uniform(0, 20, 30) * day  # one request long ago
    earlier[630:660] = np.nan  # never seen in the stored history ...
    acc.age_days[630:660] = rng.uniform(200, 900, 30)  # ... though made long before
    pop = SimpleNamespace(
        burner=evidence.burners(acc, float(acc.first_seen.max() + 3 * day), DEFAULTS),
        sleeper=evidence.sleepers(acc, earlier, float(start), DEFAULTS),
        asn_shares=np.array([1.0]),
    )

    def sleeper_evidence(members: np.ndarray) -> float:
        x = evidence.provenance(members, acc, pop, DEFAULTS).sleeper  # type: ignore[arg-type]
        return x.evidence(DEFAULTS.effect_lo, DEFAULTS.effect_hi, DEFAULTS.surprise_lo, DEFAULTS.surprise_hi)

    assert sleeper_evidence(sleepers) == 1.0
    assert sleeper_evidence(rng.choice(600, 60, replace=False)) == 0.0
    late = evidence.sleepers(acc, earlier, float(acc.first_seen.min() - 10 * day), DEFAULTS)
    assert np.isnan(late.mean).all()  # the store reaches 10 days back: nobody can have slept a month in it
    assert np.isnan(evidence.sleepers(acc, None, None, DEFAULTS).mean).all()  # a first night


# -- transparent organisations --------------------------------------------------------------------------------------


def _discounts(content_evidence: float, age_days: float, orgs: int = 0) -> evidence.Discounts:
    n = 40
    acc = _accounts(n)
    acc.payment[:] = "card-1"  # a team or course on one card
    if orgs:  # else unknown: the card stands for the organisation
        acc.org[:] = [f"org-{i % orgs}" for i in range(n)]
    acc.age_days[:] = age_days
    ctx = SimpleNamespace(payload_group=np.arange(400), text_row=np.arange(400), tool_result=np.zeros(400, bool))
    cont = SimpleNamespace(evidence=content_evidence)
    return evidence.discounts(np.arange(n), np.arange(400), ctx, acc, cont, DEFAULTS)  # type: ignore[arg-type]


def test_a_new_team_on_one_card_with_ordinary_content_is_discounted() -> None:
    d = _discounts(0.05, age_days=3)
    assert d.transparent == "ordinary" and d.org == DEFAULTS.one_org_factor


def test_an_operation_sharing_one_card_gets_no_discount_for_it() -> None:
    d = _discounts(0.8, age_days=3)
    assert d.transparent == "" and d.org == 1.0
    assert _discounts(0.8, age_days=DEFAULTS.old_org_days + 100).transparent == "old"  # a customer's own harness


def test_one_card_paying_for_many_organisations_is_no_customers_own_traffic() -> None:
    old = DEFAULTS.old_org_days + 100
    assert _discounts(0.8, age_days=old, orgs=40).transparent == ""  # one payer behind forty customers
    assert _discounts(0.05, age_days=3, orgs=40).transparent == ""
    assert _discounts(0.8, age_days=old, orgs=1).transparent == "old"


def test_tool_results_every_session_gets_back_are_no_copied_prompt() -> None:
    # 400 prompts: 200 different tasks, and after each the same tool result (one text, one payload group)
    group = np.where(np.arange(400) % 2 == 0, np.arange(400), 401)
    tool = np.arange(400) % 2 == 1
    acc, cont = _accounts(40), SimpleNamespace(evidence=0.8)
    ctx = SimpleNamespace(payload_group=group, text_row=np.arange(400))
    copied = evidence.discounts(np.arange(40), np.arange(400), ctx, acc, cont, DEFAULTS)  # type: ignore[arg-type]
    pop = SimpleNamespace(asked=~tool)
    rows = evidence.Population.asked_of(pop, np.arange(400))  # type: ignore[arg-type]
    asked = evidence.discounts(np.arange(40), np.arange(400), ctx, acc, cont, DEFAULTS, rows)  # type: ignore[arg-type]
    assert copied.distinct < 1.0 and asked.distinct == 1.0


def test_a_customers_busy_harness_tied_to_a_few_others_is_its_own_traffic() -> None:
    """Two accounts of one long-standing org send nearly all of a cohort's prompts; fifteen young, unrelated accounts
    that shared some wrapper text with them send the rest. By accounts the org is 2 of 17; by prompts it is the
    cohort, and its own accounts' age (not the cohort's median) makes it a customer's harness."""
    n = 17
    acc = _accounts(n)
    acc.n_prompts[:] = 14.0
    acc.n_prompts[:2] = [6000.0, 10000.0]
    acc.org[:2] = "org-harness"
    acc.age_days[:] = 3.0
    acc.age_days[:2] = [650.0, 400.0]
    ctx = SimpleNamespace(payload_group=np.arange(400), text_row=np.arange(400), tool_result=np.zeros(400, bool))
    cont = SimpleNamespace(evidence=0.8)
    d = evidence.discounts(np.arange(n), np.arange(400), ctx, acc, cont, DEFAULTS)  # type: ignore[arg-type]
    assert d.transparent == "old" and d.org == DEFAULTS.one_org_factor and d.top_org_share > 0.98
    acc.n_prompts[:2] = 14.0  # the same org as two ordinary members: no discount
    d = evidence.discounts(np.arange(n), np.arange(400), ctx, acc, cont, DEFAULTS)  # type: ignore[arg-type]
    assert d.transparent == "" and d.org == 1.0


# -- profiles ------------------------------------------------------------------------------------------------------


def test_robust_z_is_measured_against_the_bulk_and_clipped() -> None:
    bulk = np.random.default_rng(0).normal(0, 1, (1000, 2))
    z = profiles._robust_z(np.array([[0.0, 100.0]]), bulk, 0.05, DEFAULTS.profile_clip_z)
    assert abs(z[0, 0]) < 0.2 and z[0, 1] == DEFAULTS.profile_clip_z


def _profiles(groups: list[tuple[int, list[float]]], noise: float = 0.05) -> profiles.Profiles:
    rng = np.random.default_rng(3)
    rows = [np.asarray(centre) + rng.normal(0, noise, (n, len(centre))) for n, centre in groups]
    vec = np.concatenate(rows).astype(np.float32)
    return profiles.Profiles(vec, np.arange(len(vec)), [f"c{i}" for i in range(vec.shape[1])])


def test_accounts_that_behave_alike_form_one_profile_cluster() -> None:
    # 40 ordinary accounts spread widely, and 20 accounts of one operation tightly together
    rng = np.random.default_rng(4)
    spread = rng.normal(0, 1.5, (40, 6))
    tight = np.array([8.0, -6.0, 7.0, 0.0, 3.0, -3.0]) + rng.normal(0, 0.05, (20, 6))
    p = profiles.Profiles(np.concatenate([spread, tight]).astype(np.float32), np.arange(60), list("abcdef"))
    labels = profiles.profile_cohorts(p, 60, DEFAULTS)
    op = labels[40:]
    assert (op >= 0).all() and len(set(op)) == 1
    assert (labels[:40] != op[0]).all()


def test_join_makes_loose_accounts_a_cohort_and_keeps_large_linked_cohorts() -> None:
    linked = np.array([0] * 12 + [1, 1] + [-1] * 6)  # a large wrapper cohort, a 2-account card group, 6 unlinked
    profiled = np.array([5] * 12 + [7, 7] + [7] * 6)  # the card group and the unlinked share one profile cluster
    out = profiles.join(linked, profiled, DEFAULTS)
    assert (out[:12] == 0).all()
    assert len(set(out[12:])) == 1 and out[12] not in (0, 1, -1)


def test_join_keeps_small_linked_cohorts_apart_in_the_logs_bulk() -> None:
    # one profile cluster holds most of the log: its unlinked accounts gather, but a 3-account wrapper variant in it
    # keeps its own label (to be merged with its campaign or left alone), not dissolved among ordinary accounts
    linked = np.array([0, 0, 0] + [-1] * 17 + [1] * 12)
    profiled = np.array([5] * 20 + [-1] * 12)  # 20 of 20 profiled accounts in one cluster
    out = profiles.join(linked, profiled, DEFAULTS)
    assert (out[:3] == 0).all()
    assert len(set(out[3:20])) == 1 and out[3] not in (0, 1, -1)
    assert (out[20:] == 1).all()


def test_one_day_accounts_split_off_a_cohort_most_of_which_lives_otherwise() -> None:
    # a cohort of 40: 10 unlinked one-day accounts, 2 linked ones (their wrapper cohort decides for them), 28 others;
    # a cohort of 20 of which 11 are one-day accounts is mostly of that lifecycle and stays whole
    n = 60
    labels = np.r_[np.zeros(40, np.int64), np.ones(20, np.int64)]
    linked = np.full(n, -1)
    linked[10:12] = 7
    burner = np.zeros(n)
    burner[:12] = 1
    burner[12:14] = np.nan  # unknown lifecycle: stays
    burner[40:51] = 1
    out = profiles.split_lifecycles(labels, linked, [burner], DEFAULTS)
    assert len(set(out[:10])) == 1 and out[0] not in (0, 1)
    assert (out[10:40] == 0).all() and (out[40:] == 1).all()
    few = burner.copy()
    few[3:10] = 0  # three are fewer than a profile cluster's minimum: no cohort of their own
    assert (profiles.split_lifecycles(labels, linked, [few], DEFAULTS) == labels).all()


def _row(labels: np.ndarray, lab: int, flagged: bool, unsized: float = 0.9, burst=(0.0, 0.0, 0.0, 0.0)) -> dict:
    return {"members": np.flatnonzero(labels == lab), "flagged": flagged, "unsized": unsized, "burst": burst}


def test_merge_alike_joins_fragments_to_a_flagged_cohort_only() -> None:
    p = _profiles([(10, [2, 2, 0]), (6, [2.1, 2, 0]), (8, [-2, 0, 1]), (7, [-2.05, 0, 1])])
    labels = np.repeat([0, 1, 2, 3], [10, 6, 8, 7])
    rows = [_row(labels, 0, True), _row(labels, 1, False), _row(labels, 2, False), _row(labels, 3, False)]
    out = profiles.merge_alike(labels, rows, p, DEFAULTS)
    assert out is not None
    assert (out[labels == 1] == out[labels == 0][0]).all()  # an unflagged fragment next to a campaign joins it
    assert set(out[labels >= 2]) == {2, 3}  # two unflagged cohorts near each other are not joined here


def test_merge_alike_leaves_a_near_but_ordinary_cohort_apart() -> None:
    p = _profiles([(10, [2, 2, 0]), (30, [2.1, 2, 0])])
    labels = np.repeat([0, 1], [10, 30])
    rows = [_row(labels, 0, True), _row(labels, 1, False, unsized=0.1)]  # large, and scoring as ordinary accounts
    assert profiles.merge_alike(labels, rows, p, DEFAULTS) is None


def test_merge_alike_keeps_a_burst_cohort_apart_from_an_aged_one() -> None:
    p = _profiles([(12, [2, 2, 0]), (12, [2.05, 2, 0]), (12, [2.1, 2, 0])])
    labels = np.repeat([0, 1, 2], 12)
    day = 86400.0
    rows = [
        _row(labels, 0, True, burst=(10 * day, 3.0, 1.0, 1.0)),
        _row(labels, 1, True, burst=(float("nan"), 0.0, 0.1, 0.0)),
        _row(labels, 2, True, burst=(30 * day, 3.0, 1.0, 1.0)),
    ]
    # alike in profile, but made in a burst / not / in another burst weeks later: three operations
    assert profiles.merge_alike(labels, rows, p, DEFAULTS) is None
    rows[2]["burst"] = (10.5 * day, 3.0, 1.0, 1.0)  # the same burst: one operation
    out = profiles.merge_alike(labels, rows, p, DEFAULTS)
    assert out is not None and (out[labels == 2] == out[labels == 0][0]).all() and (out[labels == 1] == 1).all()


def test_merge_alike_joins_batches_of_one_registration_period() -> None:
    # an operation that made its accounts over two months and wakes a batch a day: each batch's cohort finds its
    # densest sign-up window weeks long, starting days apart from the others'. Windows that overlap are one
    # registration period, one operation; a window that ends before the other starts is another
    p = _profiles([(12, [2, 2, 0]), (12, [2.05, 2, 0]), (12, [2.1, 2, 0])])
    labels = np.repeat([0, 1, 2], 12)
    day = 86400.0
    rows = [
        _row(labels, 0, True, burst=(100 * day, 30.0, 0.9, 1.0)),
        _row(labels, 1, True, burst=(113 * day, 60.0, 1.0, 1.0)),
        _row(labels, 2, True, burst=(200 * day, 30.0, 1.0, 1.0)),
    ]
    out = profiles.merge_alike(labels, rows, p, DEFAULTS)
    assert out is not None and (out[labels == 1] == out[labels == 0][0]).all()
    assert (out[labels == 2] == 2).all()


def test_a_wrapper_variant_that_differs_only_in_its_markers_joins_the_campaign() -> None:
    # one operation split by wrapper variant: the variant that asks for reasoning in words the markers know is
    # flagged; variants asking it in words they do not know differ in the marker column alone, far beyond
    # profile_merge_distance, and still join -- an unflagged one, and a flagged one nearly identical but for it;
    # a flagged campaign that also differs in something else stays apart
    cols = ["probe", "log_age_days", "marker:reasoning"]
    p = _profiles([(12, [2, 1, 3]), (12, [2.05, 1, 0]), (12, [2, 3, 0]), (12, [2.3, 1, 0])])
    p = profiles.Profiles(p.vectors, p.accounts, cols)
    labels = np.repeat([0, 1, 2, 3], 12)
    assert np.linalg.norm(p.vectors[labels == 0].mean(0) - p.vectors[labels == 1].mean(0)) > 2 * 1.5
    rows = [_row(labels, 0, True), _row(labels, 1, False, unsized=0.45), _row(labels, 2, True), _row(labels, 3, True)]
    out = profiles.merge_alike(labels, rows, p, DEFAULTS)
    assert out is not None and (out[labels != 2] == 0).all()
    assert (out[labels == 2] == 2).all()


def test_the_reasoning_marker_and_the_reasoning_area_are_two_blocks() -> None:
    p = profiles.Profiles(
        np.zeros((1, 4), np.float32), np.arange(1), ["math", "reasoning", "marker:reasoning", "marker:grading"]
    )
    b = p.block_ids()
    assert b[0] == b[1] and b[2] == b[3] and b[1] != b[2]


def _swarm_profiles(seed: int = 8) -> tuple[profiles.Profiles, np.ndarray]:
    """300 ordinary accounts spread over 4 columns; a flagged cohort of 40 and 15 unlinked accounts of the same
    operation, both tight around one point; labels: the cohort 0, everyone else alone (-1)."""
    rng = np.random.default_rng(seed)
    centre = np.array([2.0, -1.5, 1.5, 1.0])
    vec = np.concatenate([rng.normal(0, 1, (300, 4)), centre + rng.normal(0, 0.2, (55, 4))]).astype(np.float32)
    labels = np.full(355, -1)
    labels[300:340] = 0
    return profiles.Profiles(vec, np.arange(355), ["probe", "foreign", "log_per_day", "log_age_days"]), labels


def test_attach_brings_in_quiet_accounts_that_match_a_campaigns_fingerprint() -> None:
    p, labels = _swarm_profiles()
    got = profiles.attach(labels, [_row(labels, 0, True)], p, DEFAULTS)
    assert got is not None
    out, claimed = got
    assert (out[340:] == 0).mean() >= 0.9  # the operation's unlinked accounts join ...
    assert (out[:300] == 0).mean() <= 0.02  # ... and hardly an ordinary one
    # each joined account carries the posterior that claimed it (more likely a member than not); no other does
    joined = out != labels
    assert (claimed[joined] >= 0.5).all() and (claimed[joined] <= 1.0).all() and np.isnan(claimed[~joined]).all()
    not_free = np.ones(355, dtype=bool)
    not_free[340:] = False  # linked elsewhere (a team on its own card): never a candidate
    got = profiles.attach(labels, [_row(labels, 0, True)], p, DEFAULTS, free=not_free)
    assert got is None or (got[0][340:] == -1).all()


def test_a_fingerprint_is_read_from_the_members_something_else_tied_to_the_campaign() -> None:
    # 30 ordinary accounts a fingerprint claimed earlier sit in the cohort: fitted on them too, the fingerprint
    # widens toward the log and claims more ordinary accounts; read from the 40 tied members, it does not
    p, labels = _swarm_profiles()
    labels[:30] = 0
    claimed = np.full(355, np.nan)
    claimed[:30] = 0.55
    widened = profiles.attach(labels, [_row(labels, 0, True)], p, DEFAULTS)
    tied = profiles.attach(labels, [_row(labels, 0, True)], p, DEFAULTS, claimed=claimed)
    assert widened is not None and tied is not None
    assert (tied[0][340:] == 0).all() and (widened[0][340:] == 0).all()
    assert (tied[0][30:300] == 0).sum() <= 1 < (widened[0][30:300] == 0).sum()


def test_a_member_is_typical_by_where_it_asks_measured_without_itself() -> None:
    p, labels = _crowd_in_its_own_regions()
    crowd = np.arange(200, 230)
    own = profiles.region_llr(p, crowd, crowd, own=True)
    assert own.min() > 1.0
    # an ordinary account that rode into the crowd's cohort: its own requests do not make it typical
    rider = np.r_[crowd, 5]
    assert profiles.region_llr(p, rider, rider, own=True)[-1] < 0.0
    assert profiles.region_llr(p, rider, rider)[-1] > profiles.region_llr(p, rider, rider, own=True)[-1]


def test_a_crowd_that_splits_a_benchmark_is_one_region_cluster() -> None:
    """No two of the crowd's accounts need share a question, but they ask in the same clusters (10-29, a tenth
    ordinary cover): the accounts x clusters view puts the 60 of them in one region cluster that holds hardly an
    ordinary account. Without visits (the regions family left out) no account is in any."""
    p, _ = _crowd_in_its_own_regions()
    got = profiles.region_cohorts(p, 260, DEFAULTS)
    crowd = got[200:]
    assert (crowd >= 0).all() and len(set(crowd)) == 1
    assert (got[:200] == crowd[0]).sum() <= 2
    p, _ = _crowd_in_its_own_regions(visits=False)
    assert (profiles.region_cohorts(p, 260, DEFAULTS) == -1).all()


def test_attach_needs_a_flagged_cohort() -> None:
    p, labels = _swarm_profiles()
    assert profiles.attach(labels, [_row(labels, 0, False)], p, DEFAULTS) is None


def test_typicality_ranks_an_outlier_member_low() -> None:
    base = _profiles([(200, [0, 0, 0])], noise=1.0)  # the log
    op = _profiles([(15, [2, 2, 2]), (1, [-3, 3, -3])], noise=0.1)
    p = profiles.Profiles(np.concatenate([base.vectors, op.vectors]), np.arange(216), base.columns)
    t = profiles.typicality(np.arange(200, 216), p)
    assert (t[:15] > 0.9).all() and t[15] < 0.1
    assert np.isnan(profiles.typicality(np.arange(200, 202), p)).all()  # too few profiled members: nothing known


def _crowd_in_its_own_regions(visits: bool = True) -> tuple[profiles.Profiles, np.ndarray]:
    """200 ordinary accounts asking in prompt clusters 0-9; a flagged crowd of 30 (codes 200-229) and 30 of its
    quiet accounts (230-259) asking in clusters 10-29, each question drawn on its own (no two accounts need share
    one), a tenth of the crowd's requests ordinary cover. Profiles: the log's spread, the crowd's shifted one spread
    in two columns -- alike, but not enough to claim an account on their own."""
    import scipy.sparse as sp

    rng = np.random.default_rng(11)
    n = 30
    cols = []
    for a in range(260):
        own = rng.integers(10, 30, n) if a >= 200 else rng.integers(0, 10, n)
        if a >= 200:
            own[: n // 10] = rng.integers(0, 10, n // 10)  # cover traffic
        cols.append(own)
    vec = rng.normal(0, 1, (260, 4))
    vec[200:, :2] += 1.0
    seen = sp.csr_matrix((np.ones(260 * n), (np.repeat(np.arange(260), n), np.concatenate(cols))), shape=(260, 60))
    p = profiles.Profiles(vec.astype(np.float32), np.arange(260), ["probe", "foreign", "log_per_day", "log_age_days"],
                          DEFAULTS, seen if visits else None, np.full(260, n))  # fmt: skip
    labels = np.full(260, -1)
    labels[200:230] = 0
    return p, labels


def test_where_an_account_asks_ties_it_to_a_crowd_that_shares_no_text() -> None:
    p, labels = _crowd_in_its_own_regions()
    crowd = np.arange(200, 230)
    assert profiles.region_llr(p, crowd, np.arange(230, 260)).min() > 1.0
    assert profiles.region_llr(p, crowd, np.arange(0, 200)).max() < 0.0
    got = profiles.attach(labels, [_row(labels, 0, True)], p, DEFAULTS)
    assert got is not None
    quiet = (got[0][230:] == 0).mean()
    assert quiet >= 0.5 and not (got[0][:200] == 0).any()
    # the same accounts with their profiles alone: fewer of the crowd are claimed, and ordinary accounts are
    blind, _ = _crowd_in_its_own_regions(visits=False)
    assert (profiles.region_llr(blind, crowd, np.arange(260)) == 0).all()
    got = profiles.attach(labels, [_row(labels, 0, True)], blind, DEFAULTS)
    assert got is not None and (got[0][230:] == 0).mean() < quiet and (got[0][:200] == 0).any()


def test_detect_rejects_an_unknown_family() -> None:
    assert "profiles" in FAMILIES and "regions" in FAMILIES
    with pytest.raises(ValueError, match="unknown evidence families"):
        detect(None, DEFAULTS, without=("vibes",))  # type: ignore[arg-type]


def test_an_all_machine_cohort_has_the_full_effect_when_busy_accounts_often_are_machines() -> None:
    # half the log's busy accounts run round the clock: Bernoulli spread caps (T - mu) / tau at 1, yet a cohort whose
    # every account is a machine is as unlike random crowds as a yes/no statistic can show
    machine = np.r_[np.arange(400) % 2 == 0, np.ones(60, dtype=bool)].astype(np.float64)
    null = RateNull.per_account("machine", machine, binary=True)
    all_machine = null.test(np.arange(400, 460))
    assert all_machine.d == pytest.approx(1.5, abs=0.05) and all_machine.evidence(0.5, 1.5, 2, 4) > 0.9
    assert null.test(np.random.default_rng(9).choice(400, 60, replace=False)).evidence(0.5, 1.5, 2, 4) == 0.0


def test_an_account_with_one_prompt_carrying_the_wrapper_is_not_flagged_with_the_cohort() -> None:
    import scipy.sparse as sp

    per = np.r_[1, np.full(9, 20)]  # account 0 sent one prompt, the others twenty, every one in the wrapper
    codes = np.repeat(np.arange(10), per)
    pop = _population(codes, np.full(len(codes), 0.5))
    w = sp.csr_matrix(np.ones((10, 1)))  # accounts x wrapper segments
    t = sp.csr_matrix(np.ones((len(codes), 1)))  # texts x wrapper segments
    ctx = SimpleNamespace(text_row=np.arange(len(codes)))
    acc = _accounts(10)
    acc.n_prompts[:] = per
    prov = SimpleNamespace(shared_cards=np.array([], dtype=object))
    strength = evidence.member_strength(np.arange(10), w, t, ctx, pop, prov, acc, DEFAULTS, np.full(10, np.nan))  # type: ignore[arg-type]
    assert strength[0] < DEFAULTS.min_member_strength <= strength[1:].min()


def test_a_card_ties_its_holder_as_surely_as_its_most_typical_holder() -> None:
    import scipy.sparse as sp

    # eight accounts of an operation (typical 0.99) on cards of their own; two of a family on one card, one of them
    # 0.6 typical of the cohort, the other not at all; an operation account sharing a card with an atypical one
    codes = np.repeat(np.arange(11), 20)
    pop = _population(codes, np.full(len(codes), 0.5))
    acc = _accounts(11)
    acc.n_prompts[:] = 20
    acc.payment[:] = [f"op{i}" for i in range(8)] + ["family", "family", "op0"]
    typical = np.r_[np.full(8, 0.99), 0.6, 0.0, 0.1]
    prov = SimpleNamespace(shared_cards=np.array(["family", "op0"], dtype=object))
    w = sp.csr_matrix((11, 1))
    t = sp.csr_matrix((len(codes), 1))
    ctx = SimpleNamespace(text_row=np.arange(len(codes)))
    strength = evidence.member_strength(np.arange(11), w, t, ctx, pop, prov, acc, DEFAULTS, typical)  # type: ignore[arg-type]
    assert strength[9] == pytest.approx(0.6) and strength[8] == pytest.approx(0.6)  # tied, no more than its holder
    assert strength[10] == pytest.approx(0.99)  # the operation's card ties its quiet account to the operation
    assert strength[8:10].max() < strength[:8].min()  # the family ranks below the operation's own accounts
