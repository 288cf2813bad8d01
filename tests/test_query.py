"""``Searcher.similar`` and ``promptsim similar`` on a store built from the demo log plus a few planted prompts.

Planted under new ids in an account of their own: an exact copy and a near copy (one word added) of one ordinary
prompt, and a copy of it dated a year before the log, which is stored but lies outside the analysis window.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from engine.app.cli import main
from engine.app.query import Searcher
from engine.pipeline import RunConfig, run
from engine.store import Store, StoreError
from tests.conftest import read_jsonl

EXACT, NEAR, OLD = "planted-exact", "planted-near", "planted-old"


def _original(rows: list[dict]) -> dict:
    """A long prompt whose text is sent once in the log: its only Jaccard-1.0 neighbour is then the planted copy. At
    most 40 words, so that one word added stays visibly short of 1.0 in a 128-permutation MinHash (a 130-word text
    and its copy plus one word share 99% of their shingles, which the estimate often rounds to 1.0)."""
    counts = Counter(r["text"] for r in rows)
    per_account = Counter(r["account_id"] for r in rows)
    return max(
        (
            r
            for r in rows
            if counts[r["text"]] == 1
            and per_account[r["account_id"]] < 20
            and "\n" not in r["text"]
            and len(r["text"].split()) <= 40
        ),
        key=lambda r: (len(r["text"].split()), r["prompt_id"]),
    )


@pytest.fixture(scope="module")
def searched(demo_log, tmp_path_factory) -> dict:
    rows = read_jsonl(demo_log["prompts"])
    orig = _original(rows)
    assert len(orig["text"].split()) >= 15
    planted = [
        dict(orig, prompt_id=EXACT, account_id="acct_planted"),
        dict(orig, prompt_id=NEAR, account_id="acct_planted", text=orig["text"] + " thanks"),
        dict(orig, prompt_id=OLD, account_id="acct_planted", timestamp="2025-11-20T12:00:00Z"),
    ]
    out = tmp_path_factory.mktemp("query")
    extra = out / "planted.jsonl"
    extra.write_text("".join(json.dumps(r) + "\n" for r in planted))
    store = out / "store"
    run(RunConfig(inputs=[demo_log["prompts"], extra], accounts=demo_log["accounts"], store=store, quiet=True))
    return {"store": store, "orig": orig, "searcher": Searcher(Store(store).require())}


def test_the_exact_copy_comes_first_then_the_near_copy(searched) -> None:
    res = searched["searcher"].similar(searched["orig"]["prompt_id"], k=5)
    assert res.query["prompt_id"] == searched["orig"]["prompt_id"] and res.query["in_window"] is True
    ids = [n.prompt_id for n in res.near_duplicates]
    assert ids[:2] == [EXACT, NEAR], ids
    assert res.near_duplicates[0].score == 1.0 and res.near_duplicates[0].account_id == "acct_planted"
    assert 0.8 <= res.near_duplicates[1].score < 1.0
    assert searched["orig"]["prompt_id"] not in ids  # never its own neighbour
    assert OLD not in ids  # outside the window: not a neighbour of anything


def test_semantic_neighbours_exclude_the_query_text(searched) -> None:
    s = searched["searcher"]
    res = s.similar(searched["orig"]["prompt_id"], k=8)
    assert len(res.semantic) == 8
    ids = [n.prompt_id for n in res.semantic]
    assert searched["orig"]["prompt_id"] not in ids and EXACT not in ids  # the same text is a near-duplicate
    assert NEAR in ids  # a different text, the closest in meaning
    scores = [n.score for n in res.semantic]
    assert scores == sorted(scores, reverse=True) and all(-1.0 <= x <= 1.0 for x in scores)


def test_a_prompt_outside_the_window_is_answered_from_its_text(searched) -> None:
    res = searched["searcher"].similar(OLD, k=5)
    q = res.query
    assert q["prompt_id"] == OLD and q["in_window"] is False and "outside the analysis window" in q["note"]
    assert q["timestamp"] == "2025-11-20T12:00:00Z" and q["cluster_id"] is None
    near = res.near_duplicates
    assert {n.prompt_id for n in near[:2]} == {EXACT, searched["orig"]["prompt_id"]}  # its text, still in the window
    assert [n.score for n in near[:2]] == [1.0, 1.0] and near[0].same_text_prompts == 2 == q["same_text_prompts"]
    assert near[2].prompt_id == NEAR
    sem = [n.prompt_id for n in res.semantic]
    assert sem and EXACT not in sem and searched["orig"]["prompt_id"] not in sem
    # the same answer as asking with its text
    by_text = searched["searcher"].similar_text(searched["orig"]["text"], k=5)
    assert [n.prompt_id for n in by_text.near_duplicates] == [n.prompt_id for n in res.near_duplicates]


def test_an_unknown_prompt_is_not_in_the_store(searched) -> None:
    with pytest.raises(StoreError, match="not in the store"):
        searched["searcher"].similar("no-such-prompt")


def test_cli_similar_notes_the_window_and_errors_in_one_line(searched, capsys) -> None:
    s = ["--store", str(searched["store"])]
    assert main(["similar", OLD, "-k", "3", *s]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith(f"{OLD}  account acct_planted  2025-11-20T12:00:00Z")
    assert "outside the analysis window" in out and EXACT in out
    assert main(["similar", OLD, "-k", "3", "--json", *s]) == 0
    q = json.loads(capsys.readouterr().out)["query"]
    assert q["in_window"] is False and q["note"]
    assert main(["similar", searched["orig"]["prompt_id"], "-k", "3", *s]) == 0
    out = capsys.readouterr().out
    assert "outside" not in out and f"jaccard 1.00  {EXACT}" in out
    assert main(["similar", "no-such-prompt", *s]) == 2
    err = capsys.readouterr().err
    assert "not in the store" in err and len(err.strip().splitlines()) == 1


def test_similar_needs_an_id_or_text(searched) -> None:
    with pytest.raises(SystemExit, match="PROMPT_ID or --text"):
        main(["similar", "--store", str(Path(searched["store"]))])


def test_a_servers_neighbour_table_answers_exactly_as_searching_and_is_shared_through_its_files(
    searched, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server reads each text's ANN row instead of searching (``Searcher.prepare_table``): the same answers for
    every k it covers, a search beyond it, and a second worker (or a restart) memory-maps the files the first wrote."""
    from engine.vectors import index as index_mod

    snap = Store(searched["store"]).require()
    monkeypatch.setattr(index_mod, "FLAT_MAX", 10)  # an HNSW index, as at scale (a flat one keeps searching)
    live = Searcher(snap, preload=True)
    assert live.index.kind_for(live.index.size) == "hnsw"
    monkeypatch.setattr(index_mod, "FLAT_MAX", 20_000)
    flat = Searcher(Store(searched["store"]).require(), preload=True)
    flat.prepare_table(tmp_path / "flat")
    assert flat._table is None and not (tmp_path / "flat").exists()

    def twin() -> Searcher:  # one graph for all (an HNSW build on several threads is not repeatable)
        s = Searcher(snap, preload=True)
        s.index = live.index
        return s

    tabled = twin()
    tabled.prepare_table(tmp_path / "t", threads=2)
    assert tabled._table is not None and (tmp_path / "t" / "ids.npy").exists()
    ids = live.prompt_ids[:: max(1, len(live.prompt_ids) // 60)] + [searched["orig"]["prompt_id"], EXACT, NEAR]
    for pid in ids:
        for k in (1, 10, 49, 50, 70):
            assert tabled.similar(pid, k).to_dict() == live.similar(pid, k).to_dict(), (pid, k)
    again = twin()
    again.prepare_table(tmp_path / "t")
    assert isinstance(again._table[0], np.memmap)
    assert again.similar(EXACT, 10).to_dict() == live.similar(EXACT, 10).to_dict()
    (tmp_path / "t" / "sims.npy").write_bytes(b"torn")  # a half-written table is rebuilt, never read
    torn = twin()
    torn.prepare_table(tmp_path / "t")
    assert not isinstance(torn._table[0], np.memmap)
    assert torn.similar(EXACT, 10).to_dict() == live.similar(EXACT, 10).to_dict()


def test_a_live_store_prepares_the_table_of_the_snapshot_it_serves_and_drops_the_others(
    searched, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.app.live import LiveStore
    from engine.vectors import index as index_mod

    monkeypatch.setattr(index_mod, "FLAT_MAX", 10)
    root = Path(searched["store"])
    tables = root / "cache" / "neighbours"
    (tables / "r-an-older-snapshot").mkdir(parents=True)
    live = LiveStore(root)
    name = live.loaded
    assert name is not None and live.get().searcher._table is not None
    assert sorted(p.name for p in tables.iterdir()) == [name]
    assert (tables / name / "ids.npy").exists() and (tables / name / "sims.npy").exists()
    pid = searched["orig"]["prompt_id"]
    plain = Searcher(Store(root).require(), preload=True)
    plain.index = live.get().searcher.index  # the same graph, searched
    assert live.get().similar(pid, 10) == plain.similar(pid, 10).to_dict()
    shutil.rmtree(tables)  # the store as the other tests expect it


def test_workers_starting_together_build_the_table_once(searched, tmp_path: Path, monkeypatch) -> None:
    """Two workers preparing one snapshot at once: one builds (under the lock file), the other waits and reads."""
    import threading
    import time

    from engine.vectors import index as index_mod

    monkeypatch.setattr(index_mod, "FLAT_MAX", 10)
    snap = Store(searched["store"]).require()
    first = Searcher(snap, preload=True)
    second = Searcher(snap, preload=True)
    second.index = first.index
    built: list[int] = []
    real = Searcher._build_table

    def slow_build(self: Searcher, width: int, threads: int):  # noqa: ANN202
        built.append(1)
        time.sleep(0.3)  # long enough for the other worker to reach the lock
        return real(self, width, threads)

    monkeypatch.setattr(Searcher, "_build_table", slow_build)
    workers = [threading.Thread(target=s.prepare_table, args=(tmp_path / "t",)) for s in (first, second)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(built) == 1
    assert first._table is not None and second._table is not None
    assert np.array_equal(first._table[0], second._table[0]) and np.array_equal(first._table[1], second._table[1])
