"""Detection as named steps (``engine.detect.campaigns.STEPS``): run one at a time, they give what ``detect`` gives.

A synthetic night, no models: 300 ordinary accounts asking their own ordinary questions on a human clock (30 of them
through one writing app's system prompt), and an operation of 40 accounts made on one day, wrapping capability
probes in one instruction around the clock from a script. Text signals are given (probe probabilities and areas),
so the test measures the steps, not the content model.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from engine.detect import campaigns
from engine.detect.campaigns import STEPS, DetectRun, detect, measure
from engine.detect.settings import DEFAULTS
from engine.detect.signals import Context, TextSignals
from engine.ingest.records import ACCOUNT_SCHEMA, TIMESTAMP_TYPE

DAY = 86_400
T0 = 1_790_000_000 - 1_790_000_000 % DAY


@pytest.fixture(scope="module")
def night() -> tuple[Context, TextSignals, np.ndarray]:
    rng = np.random.default_rng(3)
    n_ord, n_op = 300, 40
    names = [f"user{i:03d}" for i in range(n_ord)] + [f"op{i:02d}" for i in range(n_op)]
    per = np.r_[rng.integers(3, 25, n_ord), rng.integers(20, 40, n_op)]
    codes = np.repeat(np.arange(n_ord + n_op), per)
    op = codes >= n_ord
    n = len(codes)
    hour = np.where(op, rng.uniform(0, 24, n), rng.normal(14, 3, n) % 24)
    ts = T0 + rng.integers(0, 5, n) * DAY + (hour * 3600).astype(np.int64)
    # one distinct text per prompt; the operation's carry its instruction around the question
    norm = [f"question {i} from an ordinary user about their own day" for i in range(n)]
    template = [""] * n
    greetings = ["hello there friend", "good day to you", "a quick one please"]
    for i in np.flatnonzero(op):
        hi = greetings[rng.integers(3)]  # the instruction's opening varies a little from prompt to prompt
        norm[i] = f"{hi}. benchmark item {i}. think it through step by step and give the final answer"
        template[i] = f"{hi} | <SLOT> | think it through step by step and give the final answer"
    app = (codes >= n_ord - 30) & ~op  # the last 30 ordinary accounts use one writing app's system prompt
    for i in np.flatnonzero(app):
        norm[i] = f"you are a writing helper for busy people. {norm[i]}"
        template[i] = "you are a writing helper for busy people | <SLOT>"
    probe = np.where(op, rng.uniform(0.8, 1.0, n), rng.uniform(0.0, 0.2, n))
    area = np.where(op, rng.integers(0, 6, n), -1)
    created = np.r_[T0 - rng.uniform(30, 900, n_ord) * DAY, T0 - DAY - rng.uniform(0, 3600, n_op)]
    accounts = pa.table(
        {
            "account_id": names,
            "created_at": pa.array(created.astype(np.int64), pa.int64()).cast(TIMESTAMP_TYPE),
            "org_id": [None] * len(names),
            "payment_fp": [f"card{i}" for i in range(len(names))],
            "country": [None] * len(names),
            "tier": [None] * len(names),
        },
        schema=ACCOUNT_SCHEMA,
    )
    window = pa.table(
        {
            "timestamp": pa.array(ts, pa.int64()).cast(TIMESTAMP_TYPE),
            "model": np.where(op, "model-a", rng.choice(["model-a", "model-b"], n)).tolist(),
            "ip_asn": [f"AS{x}" for x in rng.integers(1, 400, n)],
            "user_agent": np.where(op, "script/1.0", "browser").tolist(),
        }
    )
    ctx = Context(
        window=window, accounts=accounts, text_row=np.arange(n), account_codes=codes, account_names=names,
        norm=norm, template_id=np.where(op, 7, 0), template=template, payload=norm,
        payload_vectors=np.zeros((n, 4), np.float32), payload_group=np.arange(n), text_cluster=np.full(n, -1),
        embedder=None,
    )  # fmt: skip
    text = TextSignals(area=area, foreign=np.zeros(n, bool), markers={}, probe=probe)
    return ctx, text, np.arange(n_ord, n_ord + n_op)


def test_the_steps_one_at_a_time_give_what_detect_gives(night: tuple[Context, TextSignals, np.ndarray]) -> None:
    ctx, text, operation = night
    whole = detect(ctx, DEFAULTS, ts=text)
    run = measure(ctx, DEFAULTS, ts=text)
    seen: list[str] = []
    for step in STEPS:
        before = run
        run = step(run)
        assert isinstance(run, DetectRun)  # the same run where the step changed nothing (no burst to merge)
        seen.append(step.__name__)
        if step is campaigns.link:  # the wrapper links the operation's accounts into one cohort
            assert before.labels is None and run.labels is not None
            assert len(set(run.labels[operation])) == 1 and run.labels[operation[0]] >= 0
            app = run.labels[operation[0] - 30 : operation[0]]  # ... and the app's users into another
            assert len(set(app)) == 1 and app[0] >= 0 and app[0] != run.labels[operation[0]]
    assert seen == ["link", "profile", "score", "merge_bursts", "merge_alike", "attach", "refit_null", "rank_rest"]
    stepwise = run.verdicts()
    assert stepwise.accounts.equals(whole.accounts) and stepwise.campaigns.equals(whole.campaigns)
    flagged = np.array(whole.accounts["flagged"].to_pylist())
    assert flagged[operation].all() and not flagged[: operation[0]].any()  # the app's users are not flagged
    sizes = run.cohort_sizes()
    assert sizes[int(run.labels[operation[0]])] >= len(operation)


def test_a_step_leaves_the_run_it_was_given_unchanged(night: tuple[Context, TextSignals, np.ndarray]) -> None:
    ctx, text, _ = night
    linked = campaigns.link(measure(ctx, DEFAULTS, ts=text))
    labels = linked.labels.copy()
    scored = campaigns.score(campaigns.profile(linked))
    assert linked.scored is None and np.array_equal(linked.labels, labels) and scored.scored is not None
    with pytest.raises(ValueError, match="through score"):
        linked.verdicts()


def test_a_family_left_out_is_left_out_of_every_step(night: tuple[Context, TextSignals, np.ndarray]) -> None:
    ctx, text, _ = night
    run = measure(ctx, DEFAULTS, ts=text, without=("profiles", "content"))
    assert run.s.content_weight == 0.0 and not run.uses("profiles")
    run = campaigns.profile(campaigns.link(run))
    assert run.prof is not None and len(run.prof.accounts) == 0
    assert replace(run, without=frozenset()).uses("profiles")


@pytest.mark.parametrize(("trait", "family"), [("sleeper", "provenance"), ("wrapped", "behaviour")])
def test_a_fingerprint_does_not_attach_an_account_known_to_lack_the_campaigns_trait(
    night: tuple[Context, TextSignals, np.ndarray], trait: str, family: str
) -> None:
    """The operation's accounts all woke from a long silence (or each holds a constant wrapper); three ordinary
    accounts a fingerprint would attach did not (known), a fourth's is unknown: the three stay out, the fourth may
    join. The wrapper is checked only where asked (``refit_null``'s second attach)."""
    from engine.detect.null import RateNull

    ctx, text, operation = night
    run = campaigns.score(campaigns.profile(campaigns.link(measure(ctx, DEFAULTS, ts=text))))
    n = len(ctx.account_names)
    has = np.zeros(n)
    has[operation] = 1.0
    known = np.ones(n, dtype=bool)
    known[3] = False
    run = replace(run, pop=replace(run.pop, **{trait: RateNull.per_account(trait, has, known, binary=True)}))
    wrapped = trait == "wrapped"
    before = run.labels
    after = before.copy()
    after[:4] = before[operation[0]]  # what a fingerprint's attachment would do
    kept = campaigns.keep_traits(before, after, run, wrapped=wrapped)
    assert kept is not None and np.array_equal(kept[:3], before[:3]) and kept[3] == before[operation[0]]
    unruled = campaigns.keep_traits(before, after, replace(run, without=frozenset({family})), wrapped=wrapped)
    assert unruled is not None and np.array_equal(unruled, after)  # without its family, no rule of that trait
    if wrapped:  # not asked: not checked
        assert np.array_equal(campaigns.keep_traits(before, after, run), after)
    after[3] = before[3]
    assert campaigns.keep_traits(before, after, run, wrapped=wrapped) is None  # nothing left attached
    # a look-alike cohort merged in (merge_alike), the merged cohort taking the look-alike's label: the look-alike
    # is split off again under a label of its own, the campaign keeps the one it was given
    look = np.arange(10, 16)
    before = before.copy()
    before[look] = before.max() + 1
    after = before.copy()
    after[operation] = before[look[0]]
    kept = campaigns.keep_traits(before, after, run, wrapped=wrapped)
    assert kept is not None and len(set(kept[look])) == 1 and kept[look[0]] not in (kept[operation[0]], -1)
    assert (kept[operation] == before[look[0]]).all()


def test_the_null_is_refitted_on_the_accounts_outside_the_flagged_campaigns(
    night: tuple[Context, TextSignals, np.ndarray],
) -> None:
    """After the first pass the operation is flagged; refit_null measures every cohort again against the ordinary
    accounts alone (the probe null's mean falls to theirs), the operation stays flagged, and no refit is no change."""
    ctx, text, operation = night
    run = measure(ctx, DEFAULTS, ts=text)
    for step in STEPS[: STEPS.index(campaigns.refit_null)]:
        run = step(run)
    assert any(r["flagged"] and set(operation) <= set(r["members"]) for r in run.scored.rows)
    run = replace(run, s=replace(DEFAULTS, null_refits=1))
    again = campaigns.refit_null(run)
    ordinary = np.setdiff1d(np.arange(len(ctx.account_names)), operation)
    probe = again.pop.rates["probe"]
    assert probe.mu == pytest.approx(np.nanmean(probe.mean[ordinary])) and probe.mu < run.pop.rates["probe"].mu
    assert any(r["flagged"] and set(operation) <= set(r["members"]) for r in again.scored.rows)
    assert campaigns.refit_null(replace(run, s=replace(DEFAULTS, null_refits=0))).pop is run.pop
    # a second refit starts from the first one's floor: the whole log's mean, not the ordinary accounts'
    twice = campaigns.refit_null(replace(run, s=replace(DEFAULTS, null_refits=2))).pop.rates["probe"]
    assert twice.floor == pytest.approx(run.pop.rates["probe"].mu)


def test_an_account_a_fingerprint_alone_claimed_ranks_by_how_surely_it_was_claimed(
    night: tuple[Context, TextSignals, np.ndarray],
) -> None:
    """Two of the operation's accounts are marked as claimed by its fingerprint (posterior 0.55 and 0.95), the rest
    joined by its wrapper: the claimed ones score below the members as typical as they are, the surer claim above
    the other, both stay flagged (over one half), and their reasons say that only the profile ties them."""
    ctx, text, operation = night
    run = campaigns.score(campaigns.profile(campaigns.link(measure(ctx, DEFAULTS, ts=text))))
    claimed = np.full(len(ctx.account_names), np.nan)
    a, b = operation[:2]
    claimed[a], claimed[b] = 0.55, 0.95
    again = replace(run, claimed=claimed).rescored(run.labels)
    before, after = run.scored.account_score, again.scored.account_score
    assert after[a] < before[a] and after[a] < after[b] <= before[b]
    assert np.allclose(np.delete(after, [a, b]), np.delete(before, [a, b]))
    v = again.verdicts().accounts.to_pylist()
    assert v[a]["flagged"] and v[b]["flagged"]
    assert "fingerprint, 55% likely" in json.loads(v[a]["reasons"])[0]


def test_a_customers_own_accounts_are_never_attached_to_a_campaign() -> None:
    """Two accounts of one org (an evaluation harness) are a customer's own traffic unless the org already has an
    account in a flagged cohort (an operation's org-mates); an org of one account, or none, says nothing."""
    org = np.array(["", "acme", "acme", "solo", "ops", "ops", "ops", "acme2", "acme2"], dtype=object)
    rows = [
        {"flagged": True, "members": np.array([4, 0])},
        {"flagged": False, "members": np.array([7, 8])},  # in a cohort, but not a flagged one
    ]
    got = campaigns.customer_accounts(org, rows)
    assert got.tolist() == [False, True, True, False, False, False, False, True, True]


def test_claims_that_cost_a_campaign_its_flag_are_undone(
    night: tuple[Context, TextSignals, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fingerprint that claimed the whole ordinary log for the operation would make it ordinary: the claims are
    undone and the operation keeps its flag; a claim of two ordinary accounts that leaves the flag stands."""
    from engine.detect import profiles

    ctx, text, operation = night
    run = measure(ctx, DEFAULTS, ts=text)
    for step in STEPS[: STEPS.index(campaigns.attach)]:
        run = step(run)
    label = run.labels[operation[0]]
    assert label in campaigns.flagged_labels(run)
    ordinary = np.setdiff1d(np.flatnonzero(run.linked < 0), operation)

    def claiming(accounts: np.ndarray):  # noqa: ANN202
        def fake(labels, rows, p, s, free=None, claimed=None):  # noqa: ANN001, ANN202
            out, post = labels.copy(), np.full(len(labels), np.nan)
            out[accounts], post[accounts] = label, 0.55
            return out, post

        return fake

    monkeypatch.setattr(profiles, "attach", claiming(ordinary))
    after = campaigns.attach(run)
    assert label in campaigns.flagged_labels(after)
    assert (after.labels[ordinary] == run.labels[ordinary]).all() and np.isnan(after.claimed[ordinary]).all()
    monkeypatch.setattr(profiles, "attach", claiming(ordinary[:2]))
    after = campaigns.attach(run)
    assert label in campaigns.flagged_labels(after) and (after.labels[ordinary[:2]] == label).all()


def test_a_cohort_is_tied_when_most_of_its_own_members_share_a_trace() -> None:
    """Fourteen accounts: three sharing a family card (or a wrapper) with one another do not tie the fourteen;
    eight of them on one card do; an account in a linked cohort with no other member ties nothing; seven of
    fourteen in one region of prompt space is not most, eight are, unless the region holds more accounts that are
    not the cohort's than are; accounts a fingerprint claimed are left out of the count."""
    members = np.arange(14)
    linked = np.full(20, -1)
    linked[[0, 1, 2]] = 0
    linked[3] = 1  # its card-mate is outside the cohort
    assert not campaigns._tied(members, linked, None, None)
    linked[:8] = 0
    assert campaigns._tied(members, linked, None, None)
    regions = np.full(20, -1)
    regions[:7] = 3
    linked[:] = -1
    assert not campaigns._tied(members, linked, regions, None)
    regions[7] = 3
    assert campaigns._tied(members, linked, regions, None)
    wide = np.r_[regions, np.full(9, 3)]  # nine more accounts outside the cohort ask there: the region is not its own
    assert not campaigns._tied(members, np.full(29, -1), wide, None)
    claimed = np.full(20, np.nan)
    claimed[8:14] = 0.6  # six claimed: the eight own members all share the region
    regions[:] = -1
    regions[:5] = 3
    assert campaigns._tied(members, linked, regions, claimed) and not campaigns._tied(members, linked, regions, None)


def test_a_teams_own_card_ties_one_customer_not_a_crowd() -> None:
    """Ten accounts, six on one linked cohort: tied as ten customers, but not when four of the six are one
    organisation (on its card) and the ten are seven customers of which three are linked; the same six as six
    organisations still tie. A region is counted the same way; accounts without an organisation count alone."""
    members = np.arange(10)
    linked = np.full(10, -1)
    linked[:6] = 0
    org = np.array([f"org{i}" for i in range(10)], dtype=object)
    assert campaigns._tied(members, linked, None, None, org)
    org[:4] = "team"
    assert not campaigns._tied(members, linked, None, None, org)
    org[:] = ""
    assert campaigns._tied(members, linked, None, None, org)
    regions = np.r_[np.zeros(6, np.int64), np.full(4, -1)]
    org[:4] = "team"
    assert not campaigns._tied(members, np.full(10, -1), regions, None, org)
    org[:4] = ""
    assert campaigns._tied(members, np.full(10, -1), regions, None, org)


def test_accounts_tied_by_nothing_but_behaving_alike_are_no_campaign(
    night: tuple[Context, TextSignals, np.ndarray],
) -> None:
    """Six of the operation's accounts as a cohort of their own: tied by its wrapper, they are flagged; with the
    wrapper and card links taken away, their sign-up burst still ties them; with that taken away too (made apart),
    nothing does (as with a profile cluster of scripted users), and they are ranked below any flag with a reason,
    and so is the whole operation; asking in one region of prompt space ties it again."""
    ctx, text, operation = night
    run = campaigns.profile(campaigns.link(measure(ctx, DEFAULTS, ts=text)))
    few = operation[:6]
    labels = run.labels.copy()
    labels[few] = labels.max() + 1

    def row(r: DetectRun, members: np.ndarray) -> dict:
        lab = r.labels[members[0]]
        return next(x for x in r.scored.rows if r.labels[x["members"][0]] == lab)

    def untie(members: np.ndarray, regions: np.ndarray | None = None, apart: bool = True) -> DetectRun:
        gone = np.isin(np.arange(len(labels)), members)
        # made apart: no burst or shared lifecycle can reach these bars (evidence and shares are at most 1)
        s = replace(run.s, burst_veto=2.0, trait_share=2.0) if apart else run.s
        return replace(run, linked=np.where(gone, -1, run.linked), regions=regions, s=s)

    tied = row(run.rescored(labels), few)
    assert tied["flagged"] and tied["score"] >= DEFAULTS.flag_score
    burst = row(untie(few, apart=False).rescored(labels), few)
    assert burst["flagged"] and json.loads(burst["evidence"])["burst"] >= DEFAULTS.burst_veto
    alone = untie(few).rescored(labels)
    untied = row(alone, few)
    assert untied["score"] == tied["score"] and not untied["flagged"]
    # ranked below any flag, like an account alone, whatever its score
    assert alone.scored.account_score[few].max() <= DEFAULTS.solo_cap < tied["score"]
    assert any("behaving alike" in m for m in json.loads(untied["mitigations"]))
    labels[operation] = labels.max() + 1
    whole = row(untie(operation).rescored(labels), operation)
    assert whole["score"] >= DEFAULTS.flag_score and not whole["flagged"]
    regions = np.full(len(labels), -1)
    regions[operation[: len(operation) // 2 + 1]] = 0  # most of them ask in one region
    assert row(untie(operation, regions).rescored(labels), operation)["flagged"]


def test_a_burst_ties_the_accounts_made_in_it_not_the_cohorts_others(
    night: tuple[Context, TextSignals, np.ndarray],
) -> None:
    """Six of the operation's accounts, tied by nothing but their sign-up burst, in a cohort with two ordinary
    accounts made months away from it: the cohort is flagged, the two are neither flagged nor ranked with it."""
    ctx, text, operation = night
    run = campaigns.profile(campaigns.link(measure(ctx, DEFAULTS, ts=text)))
    few = operation[:6]
    made = run.acc.created
    far = np.abs(made - np.nanmedian(made[few])) > 90 * 86400
    others = np.flatnonzero(far & ~np.isin(np.arange(len(made)), operation))[:2]
    assert len(others) == 2
    members = np.r_[few, others]
    labels = run.labels.copy()
    labels[members] = labels.max() + 1
    alone = replace(run, linked=np.where(np.isin(np.arange(len(labels)), members), -1, run.linked), regions=None)
    after = alone.rescored(labels)
    row = next(x for x in after.scored.rows if after.labels[x["members"][0]] == labels[few[0]])
    assert row["flagged"] and json.loads(row["evidence"])["burst"] >= DEFAULTS.burst_veto
    bound = dict(zip(row["members"].tolist(), row["bound"].tolist(), strict=True))
    assert all(bound[a] for a in few) and not any(bound[a] for a in others)
    flagged = set(after.verdicts().accounts.filter(pc.field("flagged")).column("account_id").to_pylist())
    assert not flagged & {ctx.account_names[a] for a in others}
    assert after.scored.account_score[others].max() <= DEFAULTS.solo_cap
