"""Detection v2 pieces on small synthetic inputs: account profiles, the sweep measure, family weights, joining
fragments. Each test names the one piece it checks, so a failing end-to-end figure points somewhere."""

from __future__ import annotations

import numpy as np
import pytest

from engine.detect import evidence, profiles
from engine.detect.campaigns import FAMILIES, detect
from engine.detect.settings import DEFAULTS
from engine.detect.signals import AREAS


def _population(group: np.ndarray, codes: np.ndarray, n_acc: int, **extra) -> evidence.Population:
    """A Population holding just what content() reads, for prompts with payload ``group`` sent by ``codes``."""
    n = len(group)
    base = dict(
        med_per_day=1.0,
        cap_base=0.0,
        mk_base=0.0,
        probe_base=0.1,
        has_accounts=True,
        model_mix=np.full((n_acc, 2), 0.5),
        bulk_mix=np.array([0.5, 0.5]),
        probe=np.full(n, 0.9),
        group=group,
        codes=codes,
        senders=np.bincount(np.unique(np.stack([group, codes], axis=1), axis=0)[:, 0]),
        asn_shares=np.array([1.0]),
        area=np.arange(n) % len(AREAS),
        foreign=np.zeros(n, dtype=bool),
        marked=np.zeros(n, dtype=bool),
        markers={},
        ts=np.zeros(n),
        prompts_by_acc=np.argsort(codes, kind="stable"),
        acc_bounds=np.searchsorted(np.sort(codes), np.arange(n_acc + 1)),
    )
    base.update(extra)
    return evidence.Population(**base)


def test_a_sweep_split_between_accounts_keeps_its_content_evidence() -> None:
    # 20 accounts x 10 prompts, every prompt a different question
    codes = np.repeat(np.arange(20), 10)
    pop = _population(np.arange(200), codes, 20)
    c = evidence.content(np.arange(200), 20, pop, DEFAULTS)
    assert c.shared_pool == 0.0 and c.breadth == 1.0
    assert c.evidence > 0.8


def test_a_course_asking_one_small_pool_is_no_sweep() -> None:
    # 20 students x 10 prompts drawn from the same 12 problems: each problem sent by most of the class
    rng = np.random.default_rng(0)
    codes = np.repeat(np.arange(20), 10)
    pop = _population(rng.integers(0, 12, 200), codes, 20)
    c = evidence.content(np.arange(200), 20, pop, DEFAULTS)
    assert c.shared_pool > DEFAULTS.shared_pool_full
    assert c.breadth == 0.0 and c.evidence == 0.0


def test_shared_pool_does_not_depend_on_cohort_size() -> None:
    # each question asked by two accounts, in a cohort of 10 and of 100: the share of *other* accounts shrinks
    small = _population(np.repeat(np.arange(50), 2), np.tile(np.arange(10), 10), 10)
    big = _population(np.repeat(np.arange(500), 2), np.tile(np.arange(100), 10), 100)
    s_small = evidence.content(np.arange(100), 10, small, DEFAULTS).shared_pool
    s_big = evidence.content(np.arange(1000), 100, big, DEFAULTS).shared_pool
    assert s_small == pytest.approx(1 / 9) and s_big == pytest.approx(1 / 99)


def test_no_family_reaches_the_flag_score_alone() -> None:
    pop = _population(np.arange(4), np.arange(4), 4)
    w = evidence.weights(pop, DEFAULTS)
    assert sum(w.values()) == pytest.approx(1.0)
    assert max(w.values()) < DEFAULTS.flag_score
    # without an account table provenance (ASN mix only) loses weight and content and behaviour carry it
    w_none = evidence.weights(_population(np.arange(4), np.arange(4), 4, has_accounts=False), DEFAULTS)
    assert sum(w_none.values()) == pytest.approx(1.0)
    assert w_none["provenance"] == pytest.approx(DEFAULTS.provenance_weight * DEFAULTS.asn_only_share)
    assert w_none["content"] > w["content"] and max(w_none.values()) < DEFAULTS.flag_score


def test_model_mix_unlike_the_bulk_is_behaviour_evidence() -> None:
    from engine.detect.signals import AccountSignals

    n = 10
    acc = AccountSignals(
        n_prompts=np.full(n, 5.0), per_day=np.ones(n), capability_share=np.zeros(n), marker_share=np.zeros(n),
        max_hour_gap=np.full(n, 12.0), minute_r=np.zeros(n), created=np.full(n, np.nan), age_days=np.full(n, np.nan),
        org=np.full(n, "", object), payment=np.full(n, "", object), asn=np.full(n, "", object),
    )  # fmt: skip
    mix = np.tile([0.9, 0.1], (n, 1))
    pop = _population(np.arange(50), np.repeat(np.arange(n), 5), n, model_mix=mix)
    b = evidence.behaviour(np.arange(n), acc, pop, DEFAULTS)
    assert b.mix_distance == pytest.approx(0.4) and b.mix == 1.0 and b.evidence == 1.0
    same = evidence.behaviour(np.arange(n), acc, _population(np.arange(50), np.repeat(np.arange(n), 5), n), DEFAULTS)
    assert same.mix == 0.0 and same.evidence == 0.0


# -- profiles ------------------------------------------------------------------------------------------------------


def test_robust_z_is_measured_against_the_bulk_and_clipped() -> None:
    bulk = np.random.default_rng(0).normal(0, 1, (1000, 2))
    z = profiles._robust_z(np.array([[0.0, 100.0]]), bulk, 0.05)
    assert abs(z[0, 0]) < 0.2 and z[0, 1] == profiles.CLIP_Z


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


def test_merge_alike_joins_fragments_to_a_flagged_cohort_only() -> None:
    p = _profiles([(10, [2, 2, 0]), (6, [2.1, 2, 0]), (8, [-2, 0, 1]), (7, [-2.05, 0, 1])])
    labels = np.repeat([0, 1, 2, 3], [10, 6, 8, 7])

    def row(lab: int, flagged: bool) -> dict:
        return {
            "members": np.flatnonzero(labels == lab),
            "flagged": flagged,
            "unsized": 0.9,
            "burst": (0.0, 0.0, 0.0, 0.0),
        }

    out = profiles.merge_alike(labels, [row(0, True), row(1, False), row(2, False), row(3, False)], p, DEFAULTS)
    assert out is not None
    assert (out[labels == 1] == out[labels == 0][0]).all()  # an unflagged fragment next to a campaign joins it
    assert set(out[labels >= 2]) == {2, 3}  # two unflagged cohorts near each other are not joined here


def test_typicality_ranks_an_outlier_member_low() -> None:
    p = _profiles([(15, [1, 1, 1]), (1, [6, -4, 3])])
    t = profiles.typicality(np.arange(16), p)
    assert (t[:15] > 0.9).mean() > 0.9 and t[15] == 0.0
    assert np.isnan(profiles.typicality(np.arange(2), p)).all()  # too few profiled members: nothing known


def test_detect_rejects_an_unknown_family() -> None:
    assert "profiles" in FAMILIES
    with pytest.raises(ValueError, match="unknown evidence families"):
        detect(None, DEFAULTS, without=("vibes",))  # type: ignore[arg-type]


def test_merge_alike_keeps_a_burst_cohort_apart_from_an_aged_one() -> None:
    p = _profiles([(12, [2, 2, 0]), (12, [2.05, 2, 0]), (12, [2.1, 2, 0])])
    labels = np.repeat([0, 1, 2], 12)
    day = 86400.0
    rows = [
        {"members": np.flatnonzero(labels == 0), "flagged": True, "unsized": 0.9, "burst": (10 * day, 3.0, 1.0, 1.0)},
        {
            "members": np.flatnonzero(labels == 1),
            "flagged": True,
            "unsized": 0.9,
            "burst": (float("nan"), 0.0, 0.1, 0.0),
        },
        {"members": np.flatnonzero(labels == 2), "flagged": True, "unsized": 0.9, "burst": (30 * day, 3.0, 1.0, 1.0)},
    ]
    # alike in profile, but made in a burst / not / in another burst weeks later: three operations
    assert profiles.merge_alike(labels, rows, p, DEFAULTS) is None
    rows[2]["burst"] = (10.5 * day, 3.0, 1.0, 1.0)  # the same burst: one operation
    out = profiles.merge_alike(labels, rows, p, DEFAULTS)
    assert out is not None and (out[labels == 2] == out[labels == 0][0]).all() and (out[labels == 1] == 1).all()
