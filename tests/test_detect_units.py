"""Detection pieces on small synthetic inputs: each test can fail on its own, in milliseconds.

The end-to-end tests (test_detection, test_nightly) say whether the whole engine finds campaigns; these say which
piece broke when it does not: sign-up burst evidence, campaign tracking across nights, the settings object, and
the cohort helpers (payment links, joining bursts of one operation).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from engine.detect.cohorts import merge_bursts, payment_edges, segment_matrix, word_count
from engine.detect.evidence import sign_up_burst
from engine.detect.history import Tracking, judged_night, track
from engine.detect.settings import DEFAULTS, DetectSettings
from engine.detect.signals import Context, TextSignals, account_signals
from engine.ingest.records import ACCOUNT_SCHEMA
from engine.store.tables import CAMPAIGNS

DAY = 86400
T0 = datetime(2026, 11, 20, tzinfo=timezone.utc)


# -- account lifecycle -----------------------------------------------------------------------------------------------


def test_rates_are_per_active_day_and_the_lifecycle_is_measured() -> None:
    """A burner sending 30 requests on the one day it lives is a 30-a-day account, not a 6-a-day one because the
    window has five days; a steady user's 30 over five days is 6 a day; two requests four days apart are 1 a day."""
    t0 = int(T0.timestamp())
    sends = {
        "burner": [t0 + 2 * DAY + 600 * i for i in range(30)],
        "steady": [t0 + d * DAY + 3600 * h for d in range(5) for h in range(6)],
        "rare": [t0 + 60, t0 + 4 * DAY + 60],
    }
    names = list(sends)
    codes = np.concatenate([np.full(len(v), i) for i, v in enumerate(sends.values())])
    ts = np.concatenate([np.array(v, dtype=np.int64) for v in sends.values()])
    window = pa.table({"timestamp": pa.array(ts, pa.int64()).cast(pa.timestamp("s", tz="UTC")),
                       "ip_asn": pa.array([""] * len(ts))})  # fmt: skip
    ctx = Context(
        window=window, accounts=ACCOUNT_SCHEMA.empty_table(), text_row=np.zeros(len(ts), np.int64), account_codes=codes,
        account_names=names, norm=["x"], template_id=np.zeros(1, np.int64), template=[""], payload=["x"],
        payload_vectors=np.zeros((1, 4), np.float32), payload_group=np.zeros(1, np.int64), text_cluster=np.zeros(1),
        embedder=None,
    )  # fmt: skip
    text = TextSignals(area=np.array([-1]), foreign=np.zeros(1, bool), markers={}, probe=np.zeros(1))
    acc = account_signals(ctx, text)
    np.testing.assert_array_equal(acc.active_days, [1, 5, 2])
    np.testing.assert_allclose(acc.per_day, [30.0, 6.0, 1.0])
    np.testing.assert_array_equal(acc.first_seen, [t0 + 2 * DAY, t0, t0 + 60])
    np.testing.assert_array_equal(acc.last_seen, [t0 + 2 * DAY + 600 * 29, t0 + 4 * DAY + 5 * 3600, t0 + 4 * DAY + 60])


# -- sign-up bursts ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def population() -> np.ndarray:
    """Creation times (epoch seconds) of 600 ordinary accounts signed up evenly over three years."""
    rng = np.random.default_rng(0)
    start = (T0 - timedelta(days=3 * 365)).timestamp()
    return np.sort(rng.uniform(start, T0.timestamp() - 30 * DAY, 600))


def test_a_cohort_created_in_a_burst_is_strong_evidence(population) -> None:
    rng = np.random.default_rng(1)
    first = (T0 - timedelta(days=8)).timestamp()
    cohort = rng.uniform(first, first + 2.5 * DAY, 25)
    b = sign_up_burst(cohort, np.concatenate([population, cohort]), DEFAULTS)
    assert b.evidence >= 0.9
    assert b.accounts == 25 and b.p_value < 1e-10
    assert first <= b.start <= first + 2.5 * DAY


def test_a_cohort_spread_like_the_population_is_no_evidence(population) -> None:
    rng = np.random.default_rng(2)
    cohort = rng.choice(population, 25, replace=False)
    b = sign_up_burst(cohort, population, DEFAULTS)
    assert b.evidence < 0.1


def test_burst_evidence_ignores_unknown_dates_and_tiny_cohorts(population) -> None:
    first = (T0 - timedelta(days=8)).timestamp()
    burst = first + np.linspace(0, DAY, 20)
    with_unknown = np.concatenate([burst, np.full(30, np.nan)])
    b = sign_up_burst(with_unknown, np.concatenate([population, with_unknown]), DEFAULTS)
    assert b.evidence >= 0.9 and b.accounts == 20  # an unknown creation date is neither for nor against
    assert sign_up_burst(burst[:1], np.concatenate([population, burst[:1]]), DEFAULTS).evidence == 0.0


# -- campaigns across nights ---------------------------------------------------------------------------------------


def _window(per_day: dict[int, dict[str, int]]) -> pa.Table:
    """A window table: for each day offset from T0, ``{account: prompts}`` spread over that day."""
    accounts, stamps = [], []
    for day, counts in per_day.items():
        for acct, n in counts.items():
            for i in range(n):
                accounts.append(acct)
                stamps.append(T0 + timedelta(days=day, seconds=60 + i * (DAY - 120) // max(n, 1)))
    return pa.table(
        {"account_id": pa.array(accounts, pa.string()), "timestamp": pa.array(stamps, pa.timestamp("s", "UTC"))}
    )


def _cohorts(*rows: dict) -> pa.Table:
    """Tonight's scored cohorts, with only the columns tracking reads filled in."""
    full = []
    for r in rows:
        members = sorted(r["members"])
        full.append(
            {
                "campaign_id": r["id"],
                "score": r.get("score", 0.9),
                "flagged": r.get("flagged", True),
                "accounts": len(members),
                "prompts": 10 * len(members),
                "first_seen": r.get("first_seen", T0),
                "last_seen": r.get("last_seen", T0 + timedelta(days=1)),
                "member_ids": members,
                "templates": r.get("templates", []),
            }
        )
    return pa.Table.from_pylist(full, schema=CAMPAIGNS)


def _ordinary(n: int = 20, prompts: int = 10) -> dict[str, int]:
    return {f"user{i:02d}": prompts for i in range(n)}


CAMPAIGN = [f"op{i}" for i in range(6)]


def _after(
    prev: Tracking | None, cohorts: pa.Table, window: pa.Table, run_id: str, cards: dict | None = None
) -> Tracking:
    """One night of tracking on top of the previous night's tables (``None``: the store's first night)."""
    if prev is None:
        return track(None, None, None, cohorts, window, cards or {}, run_id)
    return track(prev.history, prev.nights, prev.events, cohorts, window, cards or {}, run_id)


def _active(*accounts: str, prompts: int = 12) -> dict[str, int]:
    """One night's traffic: the ordinary users plus the given accounts."""
    return {**_ordinary(), **{a: prompts for a in accounts}}


def _night1(cards: dict | None = None, templates: list[str] | None = None) -> Tracking:
    """The first night: five campaign accounts flagged as cohort k1 among twenty ordinary users."""
    cohort = _cohorts({"id": "k1", "members": CAMPAIGN[:5], "templates": templates or []})
    return _after(None, cohort, _window({0: _active(*CAMPAIGN[:5])}), "r1", cards)


def test_a_new_campaign_gets_an_id_and_one_new_event() -> None:
    t = _night1()
    cid = t.stable_id["k1"]
    assert cid.startswith("C") and t.history.num_rows == 1
    assert [(e["campaign_id"], e["event"]) for e in t.events.to_pylist()] == [(cid, "new")]
    assert t.history.to_pylist()[0]["status"] == "new"
    assert [(n["night"], n["accounts"]) for n in t.nights.to_pylist()] == [("2026-11-20", 5)]


def test_the_same_campaign_keeps_its_id_on_night_two() -> None:
    n1 = _night1()
    cid = n1.stable_id["k1"]
    # tonight's cohort has another label and one more account; the window now holds two nights
    window = _window({0: _active(*CAMPAIGN[:5]), 1: _active(*CAMPAIGN)})
    n2 = _after(n1, _cohorts({"id": "k7", "members": CAMPAIGN}), window, "r2")
    assert n2.stable_id == {"k7": cid}
    assert n2.history["campaign_id"].to_pylist() == [cid]
    tonight = [e for e in n2.events.to_pylist() if e["run_id"] == "r2"]
    assert "new" not in {e["event"] for e in tonight}
    assert any(e["event"] == "new_accounts" and "op5" in e["detail"] for e in tonight)
    row = n2.history.to_pylist()[0]
    assert row["accounts_ever"] == 6 and row["first_seen_run"] == "r1" and row["last_seen_run"] == "r2"
    assert row["status"] == "growing"
    assert [(n["night"], n["accounts"]) for n in n2.nights.to_pylist()] == [("2026-11-20", 5), ("2026-11-21", 6)]


def test_a_campaign_that_swapped_every_account_is_matched_by_its_wrappers_or_cards() -> None:
    wrappers = ["Explain step by step: {q}", "Grade this answer: {q}"]
    fresh = [f"new{i}" for i in range(5)]
    window = _window({0: _ordinary(), 1: _active(*fresh)})
    n1 = _night1(templates=wrappers)
    by_wrapper = _after(n1, _cohorts({"id": "k2", "members": fresh, "templates": wrappers[:1]}), window, "r2")
    assert by_wrapper.stable_id["k2"] == n1.stable_id["k1"]
    cards = {a: "fp_shared" for a in CAMPAIGN[:5] + fresh}
    n1c = _night1(cards=cards)
    by_card = _after(n1c, _cohorts({"id": "k2", "members": fresh}), window, "r2", cards)
    assert by_card.stable_id["k2"] == n1c.stable_id["k1"]
    unrelated = _after(n1, _cohorts({"id": "k2", "members": fresh}), window, "r2")
    assert unrelated.stable_id["k2"] != n1.stable_id["k1"]
    assert {e["event"] for e in unrelated.events.to_pylist() if e["run_id"] == "r2"} == {"new", "quiet"}


def test_a_known_campaign_without_traffic_on_the_judged_night_is_quiet() -> None:
    n1 = _night1()
    cid = n1.stable_id["k1"]
    # night 2: the campaign's accounts sent nothing; ordinary users carried on
    window = _window({0: _active(*CAMPAIGN[:5]), 1: _ordinary()})
    unseen = _after(n1, _cohorts(), window, "r2")
    assert unseen.history.to_pylist()[0]["status"] == "quiet"
    assert [e["event"] for e in unseen.events.to_pylist() if e["run_id"] == "r2"] == ["quiet"]
    # still scored as a cohort from yesterday's traffic in the window, but silent on the judged (full) night
    seen = _after(n1, _cohorts({"id": "k9", "members": CAMPAIGN[:5]}), window, "r2")
    assert seen.stable_id["k9"] == cid
    assert seen.history.to_pylist()[0]["status"] == "quiet"
    assert any(e["event"] == "quiet" for e in seen.events.to_pylist() if e["run_id"] == "r2")


def test_a_partial_newest_night_does_not_make_campaigns_quiet() -> None:
    n1 = _night1()
    cid = n1.stable_id["k1"]
    # night 2 is full and the campaign is active; night 3 is a spill-over of a few prompts from ordinary users
    window = _window({0: _active(*CAMPAIGN[:5]), 1: _active(*CAMPAIGN[:5]), 2: {"user00": 3, "user01": 2}})
    n2 = _after(n1, _cohorts({"id": "k3", "members": CAMPAIGN[:5]}), window, "r2")
    assert n2.stable_id["k3"] == cid
    assert n2.history.to_pylist()[0]["status"] == "steady"
    assert not [e for e in n2.events.to_pylist() if e["event"] == "quiet"]
    # the same third night at full size is judged, and there the campaign sent nothing
    full = _window({0: _active(*CAMPAIGN[:5]), 1: _active(*CAMPAIGN[:5]), 2: _ordinary()})
    assert _after(n1, _cohorts({"id": "k3", "members": CAMPAIGN[:5]}), full, "r2").history["status"].to_pylist() == [
        "quiet"
    ]


def test_judged_night_skips_only_a_thin_newest_night() -> None:
    d0 = int(T0.timestamp()) // DAY
    days = lambda *counts: np.repeat(d0 + np.arange(len(counts)), counts)  # noqa: E731
    share = DEFAULTS.partial_night_share
    assert judged_night(days(200, 210, 190), share) == (d0 + 2, set())
    assert judged_night(days(200, 210, 12), share) == (d0 + 1, {"2026-11-22"})
    assert judged_night(days(200, 210, 12, 3), share) == (d0 + 1, {"2026-11-22", "2026-11-23"})
    # a thin night in the middle of the window is information, not a partial file
    assert judged_night(days(200, 5, 190), share) == (d0 + 2, set())
    assert judged_night(days(7), share) == (d0, set())
    assert judged_night(np.array([], np.int64), share) == (0, set())


# -- settings ------------------------------------------------------------------------------------------------------


def test_settings_overrides_are_typed_and_the_rest_stay_default() -> None:
    s = DEFAULTS.with_values({"flag_score": "0.7", "min_cohort": 4, "burst_scales": "1,5"})
    assert s.flag_score == 0.7 and s.min_cohort == 4 and isinstance(s.min_cohort, int)
    assert s.burst_scales == (1.0, 5.0)
    assert s.link_cosine == DEFAULTS.link_cosine
    assert DEFAULTS.flag_score == 0.5  # frozen defaults are not touched
    assert DetectSettings.from_dict(s.to_dict()) == s  # what a snapshot stores reads back the same
    assert DEFAULTS.with_assignments(["flag_score = 0.65"]).flag_score == 0.65


@pytest.mark.parametrize(
    "values, message",
    [
        ({"flag_scor": 0.5}, "unknown detection setting"),
        ({"flag_score": "high"}, "not a non-negative number"),
        ({"min_cohort": "3.5"}, "not a non-negative integer"),
        ({"flag_score": None}, "not a non-negative number"),
        ({"flag_score": float("inf")}, "not a non-negative number"),
        ({"burst_scales": "a,b"}, "not a non-empty list"),
        ({"burst_scales": []}, "not a non-empty list"),
    ],
)
def test_settings_reject_unknown_names_and_bad_values(values: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DEFAULTS.with_values(values)


def test_settings_from_file_and_assignments_fail_clearly(tmp_path) -> None:
    f = tmp_path / "s.json"
    f.write_text('{"flag_score": 0.55}')
    assert DetectSettings.from_file(f).flag_score == 0.55
    f.write_text("[1, 2]")
    with pytest.raises(ValueError, match="JSON object"):
        DetectSettings.from_file(f)
    with pytest.raises(ValueError, match="cannot read"):
        DetectSettings.from_file(tmp_path / "missing.json")
    with pytest.raises(ValueError, match="NAME=VALUE"):
        DEFAULTS.with_assignments(["flag_score"])
    assert all(why for _, _, why in DetectSettings.describe())  # every threshold says why it has its value


# -- cohort helpers ------------------------------------------------------------------------------------------------


def test_payment_edges_connect_exactly_the_accounts_sharing_a_card() -> None:
    pay = np.array(["fp1", "", "fp1", "fp2", "fp1", "fp2", "", "fp3"], dtype=object)
    r, c, d = payment_edges(pay, DEFAULTS)
    assert len(r) == 3 and np.all(d == DEFAULTS.payment_distance)  # a chain: cards' accounts - 1 edges each
    assert not ({1, 6, 7} & (set(r.tolist()) | set(c.tolist())))  # no card, or a card of one: no edge
    g = sp.coo_matrix((np.ones(len(r)), (r, c)), shape=(len(pay), len(pay)))
    _, comp = connected_components(g, directed=False)
    assert comp[0] == comp[2] == comp[4] and comp[3] == comp[5] and comp[0] != comp[3]
    assert len(payment_edges(np.array(["", ""], dtype=object), DEFAULTS)[0]) == 0


def _flagged(members: list[int], start_day: float, hist: list[float], templates: list[str], share: float = 1.0) -> dict:
    return {
        "members": np.array(members),
        "burst": (T0.timestamp() + start_day * DAY, 2.5, share),
        "hist": np.array(hist, dtype=float),
        "templates": templates,
    }


def test_merge_bursts_joins_one_operation_split_by_card() -> None:
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2, -1])
    area = [0.5, 0.3, 0.2, 0.0]
    a = _flagged([0, 1, 2], -8.0, area, [])
    b = _flagged([3, 4, 5], -7.5, area, [])
    out = merge_bursts(labels, [a, b], DEFAULTS)
    assert out is not None
    assert len(set(out[:6].tolist())) == 1  # one operation
    assert out[6] == 2 and out[7] == 2 and out[8] == -1  # other cohorts and unlinked accounts untouched


@pytest.mark.parametrize(
    "other",
    [
        _flagged([3, 4, 5], -20.0, [0.5, 0.3, 0.2, 0.0], []),  # bursts weeks apart
        _flagged([3, 4, 5], -7.5, [0.0, 0.0, 0.1, 0.9], []),  # different capability areas
        _flagged([3, 4, 5], -7.5, [0.5, 0.3, 0.2, 0.0], ["Grade this: {q}"]),  # one templated, one not
        _flagged([3, 4, 5], -7.5, [0.5, 0.3, 0.2, 0.0], [], share=0.3),  # most accounts not in the burst
    ],
)
def test_merge_bursts_keeps_cohorts_that_differ_apart(other: dict) -> None:
    labels = np.array([0, 0, 0, 1, 1, 1])
    assert merge_bursts(labels, [_flagged([0, 1, 2], -8.0, [0.5, 0.3, 0.2, 0.0], []), other], DEFAULTS) is None


def test_a_wrapper_in_a_script_without_spaces_counts_its_words() -> None:
    # by spaces alone a Chinese or Japanese instruction is one word and could never link two accounts
    assert word_count("<SLOT> 请用三句话总结这段文字。") >= 2
    assert word_count("日本語で丁寧に答えてください。") >= 2
    assert word_count("你好，") == 1 and word_count("Hello,") == 1  # a greeting is one word in either script
    assert word_count("please answer <NUM>") == 2
    t = segment_matrix(["<SLOT> | 请用三句话总结这段文字。", "<SLOT> | 请用三句话总结这段文字。", "<SLOT> | 好。"])
    assert t.shape[1] == 1 and t[:2].sum() == 2 and t[2].sum() == 0


# -- undefined statistics: no evidence, never NaN (small and odd logs) -------------------------------------------


def test_a_column_no_account_has_a_value_in_is_no_evidence() -> None:
    from engine.detect.profiles import _known_median, _robust_z

    x = np.array([[np.nan, 1.0], [np.nan, 3.0], [np.nan, np.nan], [np.nan, 2.0]])
    assert _known_median(x).tolist() == [0.0, 2.0]  # the median of what is known; nothing known: 0
    filled = np.where(np.isnan(x), _known_median(x), x)
    z = _robust_z(filled, filled, 0.05, 3.0)
    assert np.isfinite(z).all() and (z[:, 0] == 0).all()
    # no bulk to measure against (every account too quiet): every account sits at 0, not at its raw value
    assert (_robust_z(np.array([[5.0, 7.0]]), np.zeros((0, 2)), 0.05, 3.0) == 0).all()


def test_a_non_finite_figure_is_named_with_its_statistic_and_cohort() -> None:
    from engine.detect.finite import NonFiniteError, check, check_columns, check_evidence

    check(np.array([0.1, 0.9]), "score", "cohort c1")  # finite: nothing said
    with pytest.raises(NonFiniteError, match=r"member strength of cohort c1 \(12 accounts\) is nan \(2 of 3 values\)"):
        check(np.array([0.5, np.nan, np.nan]), "member strength", "cohort c1 (12 accounts)")
    with pytest.raises(NonFiniteError, match=r"evidence against_random\.probe\.z of cohort c2 is inf"):
        check_evidence({"content": 0.4, "against_random": {"probe": {"observed": 0.3, "z": float("inf")}}}, "cohort c2")
    with pytest.raises(NonFiniteError, match=r"evidence parts\[1\] of cohort c3 is nan"):
        check_evidence('{"parts": [1.0, NaN], "name": "x", "ok": true}', "cohort c3")
    with pytest.raises(NonFiniteError, match=r"account profile column 'flat_clock' of the log"):
        check_columns(np.array([[0.0, np.nan]]), ["probe", "flat_clock"], "account profile", "the log")


def test_a_cohort_whose_members_are_all_atypical_is_not_a_campaign() -> None:
    """History gets only campaigns with members: a flagged cohort with none typical of it (every member below
    min_member_strength) would be a campaign of no accounts, and crashed tracking on a 500-prompt log."""
    wrapper = ["Q: <Q> -- think aloud"]
    weak = _cohorts({"id": "k0", "members": [], "score": 0.6, "flagged": False, "templates": wrapper})
    n1 = _night1(templates=wrapper)
    # above continue_score and sharing the known campaign's wrapper, but no member to continue it with
    t = _after(n1, weak, _window({1: _active()}), "r2")
    assert "k0" not in t.stable_id and not t.continued
    kept = _after(n1, _cohorts({"id": "k2", "members": CAMPAIGN[:2], "score": 0.6, "flagged": False,
                                "templates": wrapper}), _window({1: _active()}), "r2")  # fmt: skip
    assert kept.continued == {"k2"}  # the same cohort with members does continue it


def test_a_question_format_many_cohorts_share_does_not_match_a_campaign() -> None:
    """A multiple-choice skeleton is in every cohort that asks one benchmark's questions: sharing it with a known
    campaign is no trace of that campaign (``common_templates``); the campaign's own wrapper still is."""
    fmt, wrapper, other = "<SLOT> | a. | <SLOT> | b. | <SLOT>", "you are the course helper. | <SLOT>", "q: | <SLOT>"
    n1 = _night1(templates=[fmt, wrapper])
    crowd = [{"id": f"x{i}", "members": [f"user{i:02d}"], "score": 0.2, "flagged": False, "templates": [fmt]}
             for i in range(4)]  # fmt: skip
    stranger = {"id": "k9", "members": ["new1", "new2", "new3"], "templates": [fmt, other]}
    t = _after(n1, _cohorts(stranger, *crowd), _window({1: _active("new1", "new2", "new3")}), "r2")
    assert t.stable_id["k9"] != n1.stable_id["k1"]  # a campaign of its own, not the known one
    same_op = dict(stranger, id="k8", templates=[wrapper, other])
    t = _after(n1, _cohorts(same_op, *crowd), _window({1: _active("new1", "new2", "new3")}), "r2")
    assert t.stable_id["k8"] == n1.stable_id["k1"]  # new accounts, the known wrapper: the same campaign


def test_text_signals_in_worker_processes_are_the_ones_computed_here(monkeypatch) -> None:
    """A local executor runs the per-text signals in one worker process per core on a large table
    (``engine.executor.PROCESS_MIN_ROWS``, lowered here): the same rows out, in order, as computed in this process;
    and started ahead (``submit_text_signals``, as the pipeline does after embed) the same signals."""
    import engine.executor as executor
    from engine.batches import vector_column
    from engine.detect.signals import SIGNAL_BATCH, TextSignalBatches, submit_text_signals, text_signals

    rng = np.random.default_rng(0)
    words = ["explain", "step by step", "your reasoning", "bonjour", "le", "chat", "what is", "2 + 2", "def f(x):",
             "grade this answer out of 10", "if you refuse", "why", "tell me", "recipe", "的", "推理"]  # fmt: skip
    norm = [" ".join(rng.choice(words, size=int(rng.integers(1, 12)))) for _ in range(3000)]
    payload = ["" if i % 3 else norm[i][:20] for i in range(3000)]
    vecs = rng.normal(size=(len(norm), 8)).astype(np.float32)
    table = pa.table({"norm": pa.array(norm), "payload": pa.array(payload), "v": vector_column(vecs)})
    ctor = {"exemplars": rng.normal(size=(5, 8)).astype(np.float32), "owner": np.arange(5) % 3, "min_sim": 0.1,
            "embedder": None}  # fmt: skip
    ex = executor.LocalExecutor(quiet=True, workers=2)
    here = ex.map_batches_actor(TextSignalBatches, table, batch_size=SIGNAL_BATCH, ctor_kwargs=ctor)
    monkeypatch.setattr(executor, "PROCESS_MIN_ROWS", 1000)
    assert ex._processes(TextSignalBatches, table.num_rows, None) == 2
    there = ex.map_batches_actor(TextSignalBatches, table, batch_size=SIGNAL_BATCH, ctor_kwargs=ctor)
    assert there.equals(here) and here.num_rows == 3000 and here["marker:reasoning"].to_numpy().any()
    # started ahead of the step that reads them, in the background, at low priority: the same rows
    pending = ex.submit_batches_actor(TextSignalBatches, table, batch_size=SIGNAL_BATCH, ctor_kwargs=ctor)
    assert ex._background == [pending]
    assert pending.result().equals(here)

    class Embedder:
        name = None

    monkeypatch.setattr("engine.detect.signals.exemplar_vectors", lambda _: (ctor["exemplars"], ctor["owner"]))
    ahead = submit_text_signals(norm, payload, vecs, Embedder(), executor=ex).result()
    ctx = SimpleNamespace(norm=norm, payload=payload, payload_vectors=vecs, embedder=Embedder(), executor=None)
    monkeypatch.setattr(executor, "PROCESS_MIN_ROWS", 10**9)
    now = text_signals(ctx)  # in this process, nothing started ahead
    assert np.array_equal(ahead.area, now.area) and np.array_equal(ahead.probe, now.probe)
    assert np.array_equal(ahead.foreign, now.foreign)
    assert all(np.array_equal(ahead.markers[m], now.markers[m]) for m in now.markers)
    # a night that fails before collecting them cancels them on close: no slice is handed out after that
    monkeypatch.setattr(executor, "PROCESS_MIN_ROWS", 1000)
    gone = ex.submit_batches_actor(TextSignalBatches, table, batch_size=SIGNAL_BATCH, ctor_kwargs=ctor)
    ex.close()
    assert gone.cancelled.is_set() and ex._background == []
    gone._thread.join(timeout=60)
    assert not gone._thread.is_alive()


def test_pending_work_runs_where_asked_and_raises_what_it_raised() -> None:
    """``Executor.submit_batches_actor`` on a table too small for worker processes runs when the result is asked
    for, in this process, once; an error inside is raised to the caller of ``result``, not lost in a thread."""
    import engine.executor as executor

    calls: list[int] = []

    def compute(_: executor.Pending) -> pa.Table:
        calls.append(1)
        return pa.table({"x": [1, 2]})

    p = executor.Pending(compute)
    assert not calls  # nothing runs before it is asked for
    assert p.result().equals(pa.table({"x": [1, 2]})) and p.result().num_rows == 2 and calls == [1]

    def fail(_: executor.Pending) -> pa.Table:
        raise ValueError("bad batch")

    with pytest.raises(ValueError, match="bad batch"):
        executor.Pending(fail).start().result()
    ex = executor.LocalExecutor(quiet=True)
    small = ex.submit_batches_actor(_Doubler, pa.table({"x": [1, 2, 3]}), batch_size=2)
    assert ex._background == [] and small.result().equals(pa.table({"x": [2, 4, 6]}))


class _Doubler:
    def __call__(self, batch: pa.Table) -> pa.Table:
        return pa.table({"x": [v * 2 for v in batch["x"].to_pylist()]})


def test_a_bespoke_tool_set_links_accounts_and_a_crowds_links_little() -> None:
    """Six accounts share one tool-schema set and nothing else (their own prompts, no wrapper); forty send a public
    product's tool set. The bespoke set links its six at cosine 1; without tools the weights are what the wrapper
    segments alone give."""
    import json

    from engine.detect.cohorts import account_segment_weights

    n_acc = 50
    acc = np.repeat(np.arange(n_acc), 2)
    tools_hash = np.where(acc < 6, "aa11", np.where(acc < 46, "bb22", ""))
    meta = [json.dumps({"api_key_id": "k", "chat": {"tools_hash": h or None, "kind": "user"}}) for h in tools_hash]
    ctx = Context(
        window=pa.table({"meta": pa.array(meta, pa.string())}), accounts=pa.table({}), text_row=np.arange(2 * n_acc),
        account_codes=acc, account_names=[f"a{i}" for i in range(n_acc)], norm=[], template_id=np.zeros(0),
        template=[], payload=[], payload_vectors=np.zeros((0, 1)), payload_group=np.zeros(0), text_cluster=np.zeros(0),
        embedder=None,
    )  # fmt: skip
    assert (ctx.tool_set[acc < 6] == ctx.tool_set[0]).all() and (ctx.tool_set[acc >= 46] == -1).all()
    assert list(ctx.tool_set_accounts) == [6, 40]  # codes in order of first appearance
    assert ctx.tool_set_named(int(ctx.tool_set[0])) == ("aa11", [])
    t = sp.csr_matrix((2 * n_acc, 1), dtype=np.float32)  # no wrapper segment anywhere
    n_prompts = np.full(n_acc, 2)
    w = account_segment_weights(ctx, n_prompts, t, ctx.tool_set)
    sims = (w @ w.T).toarray()
    assert np.allclose(sims[:6, :6], 1.0) and np.allclose(sims[:6, 6:], 0.0)
    # the crowd's set is in 40 of 50 accounts: idf log(51/41) against log(51/7) for the bespoke one
    assert w[0].max() == pytest.approx(1.0) and np.allclose(sims[6:46, 6:46], 1.0)
    assert (account_segment_weights(ctx, n_prompts, t).toarray() == 0).all()  # tools left out: nothing links


def test_chat_hashes_are_read_from_meta_keys_only() -> None:
    import json

    from engine.ingest.records import chat_hashes

    meta = pa.chunked_array([[
        json.dumps({"chat": {"tools_hash": "ab12", "system_hash": None}}), None, "{}",
        json.dumps({"note": 'pasted: "tools_hash": "ff00"'}),  # inside a string: escaped quotes, no key
        json.dumps({"chat": {"tools_hash": None}}),
    ]])  # fmt: skip
    assert chat_hashes(meta, "tools_hash").to_pylist() == ["ab12", None, None, None, None]


def test_a_tool_result_is_told_from_what_an_account_asked() -> None:
    from engine.ingest.envelopes import chat_text
    from engine.text.normalize import normalize

    body = {"messages": [
        {"role": "user", "content": "List the files."},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "ls", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "main.py  test_main.py"},
    ]}  # fmt: skip
    step, _ = chat_text(body)
    asked, _ = chat_text({"messages": body["messages"][:1]})
    ctx = SimpleNamespace(norm=[normalize(step), normalize(asked)])
    assert list(Context.tool_result.func(ctx)) == [True, False]  # type: ignore[attr-defined]
