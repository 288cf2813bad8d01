"""Casework: the labels journal (durable, safe while a run writes, nothing applied twice) and what labels and
allowlist rules do to a night's verdicts, on small hand-made tables."""

from __future__ import annotations

import json
import multiprocessing as mp
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pytest

from engine.detect import casework
from engine.detect.settings import DEFAULTS
from engine.store.journal import Journal
from engine.store.tables import ACCOUNTS, CAMPAIGNS

# -- the journal -------------------------------------------------------------------------------------------------


def test_a_torn_last_line_is_not_a_record_and_the_next_append_cuts_it(tmp_path: Path) -> None:
    j = Journal(tmp_path / "labels.jsonl")
    first = j.append({"type": "label", "note": "kept"})
    with open(j.path, "ab") as fh:
        fh.write(b'{"id": "torn", "note": "a writer killed mid-li')  # kill -9 half-way through a write
    assert [r["id"] for r in j.read()] == [first["id"]]
    second = j.append({"type": "label", "note": "after"})
    assert [r["id"] for r in j.read()] == [first["id"], second["id"]]
    assert j.path.read_bytes().count(b"\n") == 2 and b"torn" not in j.path.read_bytes()


def test_a_record_written_twice_is_read_once(tmp_path: Path) -> None:
    j = Journal(tmp_path / "labels.jsonl")
    rec = j.append({"type": "label", "note": "once"})
    j.append(rec)  # a client retried with the same id
    assert len(j.read()) == 1


def _writer(path: str, who: int, n: int) -> None:
    j = Journal(Path(path))
    for i in range(n):
        j.append({"type": "label", "by": f"w{who}", "n": i, "note": "x" * 3000})  # longer than one pipe buffer


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    procs = [mp.get_context("fork").Process(target=_writer, args=(str(path), w, 40)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    recs = Journal(path).read()
    assert len(recs) == 160 and len({r["id"] for r in recs}) == 160
    for w in range(4):
        assert [r["n"] for r in recs if r["by"] == f"w{w}"] == list(range(40))


# -- labels on a night's verdicts ----------------------------------------------------------------------------------


def _night(members: list[str], extra: list[str] = (), areas: dict | None = None, prompts: int = 400, flagged=True):
    """An accounts table (members of campaign C1 flagged, ``extra`` accounts unflagged) and a campaigns table."""
    ids = [*members, *extra]
    n = len(ids)
    cols = {f.name: pa.nulls(n, f.type) for f in ACCOUNTS}
    cols.update(
        account_id=pa.array(ids), org_id=pa.array(["org-a"] * n), payment_fp=pa.array(["card-1"] * len(members) + [""] * len(extra)),
        score=pa.array([0.8] * n), flagged=pa.array([flagged] * len(members) + [False] * len(extra)),
        campaign_id=pa.array(["C1" if flagged else ""] * len(members) + [""] * len(extra)),
        reasons=pa.array(["[]"] * n),
    )  # fmt: skip
    acc = pa.table(cols, schema=ACCOUNTS)
    camp = {f.name: None for f in CAMPAIGNS}
    camp.update(campaign_id="C1", score=0.8, flagged=flagged, accounts=len(members), prompts=prompts, evidence="{}",
                reasons=json.dumps(["engine reasons"]), mitigations="[]", areas=json.dumps(areas or {"math": 300}),
                member_ids=members, templates=["solve step by step: <SLOT>"], clusters=[], samples=[])  # fmt: skip
    return acc, pa.Table.from_pylist([camp], schema=CAMPAIGNS)


def _label(verdict: str, acc: pa.Table, camps: pa.Table, kind: str = "") -> dict:
    return {"id": "L1", "type": "label", "target": "campaign", "target_id": "C1", "verdict": verdict, "kind": kind,
            "by": "ana", "at": "2026-11-21T09:00:00Z", "note": "",
            "baseline": casework.baseline(camps.to_pylist()[0], acc)}  # fmt: skip


MEMBERS = [f"a{i}" for i in range(20)]


def test_a_campaign_labelled_benign_is_not_flagged_while_it_stays_as_labelled() -> None:
    acc, camps = _night(MEMBERS)
    case = casework.Casework.from_records([_label("benign", acc, camps, "known-customer")])
    acc2, camps2 = casework.apply(acc, camps, case, None, "2026-11-22", DEFAULTS)
    row = camps2.to_pylist()[0]
    assert not row["flagged"] and not any(acc2["flagged"].to_pylist())
    assert "labelled benign (known-customer) on 2026-11-21 by ana" in json.loads(row["mitigations"])[0]


def test_a_benign_campaign_that_grew_by_half_is_flagged_again_and_says_why() -> None:
    acc, camps = _night(MEMBERS)
    label = _label("benign", acc, camps, "known-customer")
    grown = MEMBERS + [f"n{i}" for i in range(10)]
    acc3, camps3 = _night(grown, areas={"math": 300, "tool_use": 200})
    out_acc, out = casework.apply(acc3, camps3, casework.Casework.from_records([label]), None, "2026-11-23", DEFAULTS)
    row = out.to_pylist()[0]
    assert row["flagged"] and all(out_acc["flagged"].to_pylist())
    why = json.loads(row["reasons"])[0]
    assert why.startswith("labelled benign (known-customer) on 2026-11-21 by ana; since then +10 accounts")
    assert "new area: tool use" in why


def test_a_confirmed_campaign_is_flagged_and_new_accounts_matching_it_are_flagged_in_it() -> None:
    acc, camps = _night(MEMBERS)
    label = _label("confirmed", acc, camps)
    acc2, camps2 = _night(MEMBERS[:5], extra=["new1", "new2", "other"], flagged=False)
    # new1 uses the campaign's card, new2 its template; "other" neither
    acc2 = acc2.set_column(acc2.schema.get_field_index("payment_fp"), "payment_fp",
                           pa.array(["card-1"] * 5 + ["card-1", "", ""]))  # fmt: skip
    acc2 = acc2.set_column(acc2.schema.get_field_index("org_id"), "org_id", pa.array(["org-a"] * 5 + ["", "", ""]))
    ctx = SimpleNamespace(
        account_names=np.array([*MEMBERS[:5], "new1", "new2", "other"], dtype=object),
        account_codes=np.array([5, 6, 6, 7]), text_row=np.array([0, 1, 1, 2]),
        template=np.array(["", "solve step by step: <SLOT>", ""], dtype=object), norm=["a", "b", "c"],
    )  # fmt: skip
    out_acc, out = casework.apply(acc2, camps2, casework.Casework.from_records([label]), ctx, "2026-11-22", DEFAULTS)
    assert out.to_pylist()[0]["flagged"]
    v = {r["account_id"]: r for r in out_acc.to_pylist()}
    for a in ("new1", "new2"):
        assert v[a]["flagged"] and v[a]["campaign_id"] == "C1"
        assert json.loads(v[a]["reasons"])[0].startswith("matches confirmed campaign C1")
    assert not v["other"]["flagged"]


def test_a_new_account_that_only_behaves_like_a_confirmed_campaign_is_flagged_by_its_profile() -> None:
    """No template, card or org of the confirmed campaign, no cohort tonight: only what it asks and how, which is
    its labelled accounts' profile tonight. An ordinary account beside it is not flagged."""
    from engine.detect.profiles import Profiles

    rng = np.random.default_rng(0)
    acc, camps = _night(MEMBERS)
    label = _label("confirmed", acc, camps)
    bulk = [f"u{i}" for i in range(300)]
    names = np.array([*MEMBERS, *bulk, "quiet-new", "plain-new"], dtype=object)
    vec = rng.normal(0.0, 1.0, (len(names), 4))
    vec[: len(MEMBERS)] = rng.normal(2.5, 0.1, (len(MEMBERS), 4))  # the operation: tight, away from the bulk
    vec[-2] = rng.normal(2.5, 0.1, 4)
    prof = Profiles(vec.astype(np.float32), np.arange(len(names)), ["probe", "foreign", "log_age_days", "x:1"])
    acc2, camps2 = _night(MEMBERS, extra=[*bulk, "quiet-new", "plain-new"], flagged=False)
    acc2 = acc2.set_column(acc2.schema.get_field_index("payment_fp"), "payment_fp", pa.array([""] * len(names)))
    acc2 = acc2.set_column(acc2.schema.get_field_index("org_id"), "org_id", pa.array([""] * len(names)))
    ctx = SimpleNamespace(account_names=names, account_codes=np.arange(len(names)), text_row=np.zeros(len(names), int),
                          template=np.array([""], dtype=object), norm=["a"])  # fmt: skip
    case = casework.Casework.from_records([label])
    out_acc, _ = casework.apply(acc2, camps2, case, ctx, "2026-11-22", DEFAULTS, prof)
    v = {r["account_id"]: r for r in out_acc.to_pylist()}
    assert v["quiet-new"]["flagged"] and v["quiet-new"]["campaign_id"] == "C1"
    assert json.loads(v["quiet-new"]["reasons"])[0].startswith("matches confirmed campaign C1 (its profile, odds ")
    assert not v["plain-new"]["flagged"] and not any(v[u]["flagged"] for u in bulk)
    # without tonight's profiles the watch has nothing to match on
    none_acc, _ = casework.apply(acc2, camps2, case, ctx, "2026-11-22", DEFAULTS)
    assert not {r["account_id"]: r for r in none_acc.to_pylist()}["quiet-new"]["flagged"]


def test_the_parts_of_a_benign_campaign_that_split_keep_its_label() -> None:
    """Tonight the labelled campaign C1 came apart: its id stayed with one part, the other (mostly labelled
    accounts, grown by new ones) is C2. C2 carries C1's label: not flagged as it was, flagged again once grown."""
    acc, camps = _night(MEMBERS)
    label = _label("benign", acc, camps, "course-or-team")
    case = casework.Casework.from_records([label])

    def tonight(part2: list[str]) -> tuple[pa.Table, pa.Table]:
        acc3, c1 = _night(MEMBERS[:8] + part2)
        row = {**c1.to_pylist()[0], "campaign_id": "C2", "member_ids": part2, "accounts": len(part2)}
        first = {**c1.to_pylist()[0], "member_ids": MEMBERS[:8], "accounts": 8}
        camp_of = ["C1"] * 8 + ["C2"] * len(part2)
        acc3 = acc3.set_column(acc3.schema.get_field_index("campaign_id"), "campaign_id", pa.array(camp_of))
        return acc3, pa.Table.from_pylist([first, row], schema=CAMPAIGNS)

    _, same = casework.apply(*tonight(MEMBERS[8:]), case, None, "2026-11-22", DEFAULTS)
    c2 = {r["campaign_id"]: r for r in same.to_pylist()}["C2"]
    assert not c2["flagged"]
    assert json.loads(c2["mitigations"])[0].startswith("split from C1, labelled benign (course-or-team)")
    grown = MEMBERS[8:] + [f"n{i}" for i in range(8)]  # 12 of 20 labelled, 8 new: still mostly C1's
    out_acc, out = casework.apply(*tonight(grown), case, None, "2026-11-23", DEFAULTS)
    rows = {r["campaign_id"]: r for r in out.to_pylist()}
    assert rows["C2"]["flagged"] and not rows["C1"]["flagged"]
    assert json.loads(rows["C2"]["reasons"])[0].startswith("split from C1, labelled benign (course-or-team) on ")
    assert "since then +8 accounts" in json.loads(rows["C2"]["reasons"])[0]
    flags = dict(zip(out_acc["account_id"].to_pylist(), out_acc["flagged"].to_pylist(), strict=True))
    assert all(flags[a] for a in grown) and not any(flags[a] for a in MEMBERS[:8])
    # a campaign mostly of other accounts did not split off C1
    _, other = casework.apply(*tonight(MEMBERS[8:10] + [f"m{i}" for i in range(10)]), case, None, "2026-11-23",
                              DEFAULTS)  # fmt: skip
    assert "split from" not in json.loads({r["campaign_id"]: r for r in other.to_pylist()}["C2"]["reasons"])[0]


def test_account_labels_and_an_expiring_org_rule() -> None:
    acc, camps = _night(MEMBERS)
    recs = [
        {"id": "L2", "type": "label", "target": "account", "target_id": "a0", "verdict": "benign", "kind": "other",
         "by": "ana", "at": "2026-11-21T10:00:00Z"},
        {"id": "R1", "type": "allow", "rule": "org", "value": "org-a", "expires": "2026-11-22", "by": "bo",
         "note": "our own red team", "at": "2026-11-21T10:00:00Z"},
    ]  # fmt: skip
    case = casework.Casework.from_records(recs)
    on, _ = casework.apply(acc, camps, case, None, "2026-11-22", DEFAULTS)
    assert not any(on["flagged"].to_pylist())  # the org rule covers every member until its day ends
    after, _ = casework.apply(acc, camps, case, None, "2026-11-23", DEFAULTS)
    flags = dict(zip(after["account_id"].to_pylist(), after["flagged"].to_pylist(), strict=True))
    assert not flags["a0"] and all(flags[a] for a in MEMBERS[1:])  # expired: only the account label still holds
    removed = casework.Casework.from_records([*recs, {"id": "U1", "type": "unallow", "rule_id": "R1"}])
    assert not removed.rules


# -- through the CLI and a real night --------------------------------------------------------------------------------


@pytest.mark.slow
def test_labels_from_the_cli_act_on_the_next_night(served_store: dict, demo_log: dict, tmp_path: Path, capsys) -> None:
    """An analyst labels one flagged campaign benign and confirms another from the CLI; the next run (the same log
    again) says it used them, keeps the benign one listed but unflagged with the reason, keeps the confirmed one
    flagged; labels, stats and the audit log read back; bad input names its field."""
    from engine.app.cli import main
    from engine.pipeline import RunConfig, run
    from engine.store import Store
    from engine.store.tables import Tables

    store = tmp_path / "store"
    shutil.copytree(served_store["store"], store)
    flagged = Tables(Store(store).require()).campaigns(flagged_only=True).to_pylist()
    assert len(flagged) >= 2
    benign, confirmed = flagged[-1]["campaign_id"], flagged[0]["campaign_id"]
    s = ["--store", str(store)]
    assert (
        main(
            ["label", benign, "--as", "benign", "--kind", "known-customer", "--note", "<b>ours</b>", "--by", "ana", *s]
        )
        == 0
    )
    assert main(["label", confirmed, "--as", "confirmed", "--by", "bo", *s]) == 0
    with pytest.raises(SystemExit, match="kind"):
        main(["label", benign, "--as", "benign", "--by", "ana", *s])
    assert main(["label", "Cnope", "--as", "confirmed", "--by", "bo", *s]) == 2  # unknown campaign: a clear error
    capsys.readouterr()
    report = run(RunConfig(inputs=[demo_log["prompts"]], accounts=demo_log["accounts"], store=store, quiet=True))
    assert report.labels_seen == 2 and "casework: 2 label/rule records" in report.summary()
    tables = Tables(Store(store).require())
    b, c = tables.campaign(benign), tables.campaign(confirmed)
    assert b is not None and not b["flagged"] and "labelled benign (known-customer)" in json.loads(b["mitigations"])[0]
    assert c is not None and c["flagged"] and json.loads(c["reasons"])[0].startswith("confirmed: labelled confirmed")
    assert not any(a["flagged"] and a["campaign_id"] == benign for a in tables.accounts().to_pylist())
    assert main(["labels", "--json", *s]) == 0
    assert [r["note"] for r in json.loads(capsys.readouterr().out)] == ["<b>ours</b>", ""]
    assert main(["labels", "stats", "--json", *s]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats and stats[-1]["confirmed"] >= 1 and stats[-1]["benign"] >= 1
    assert main(["audit", "--json", *s]) == 0
    assert [a["by"] for a in json.loads(capsys.readouterr().out)] == ["ana", "bo"]


def test_new_orgs_of_an_operation_with_one_org_per_account_are_not_a_change_by_themselves() -> None:
    acc, camps = _night(MEMBERS)
    acc = acc.set_column(acc.schema.get_field_index("org_id"), "org_id", pa.array([f"org-{a}" for a in MEMBERS]))
    label = _label("benign", acc, camps, "known-customer")
    later = MEMBERS[3:] + ["n1", "n2"]  # a few accounts left, two joined, each with its own org as before
    acc2, camps2 = _night(later)
    acc2 = acc2.set_column(acc2.schema.get_field_index("org_id"), "org_id", pa.array([f"org-{a}" for a in later]))
    _, out = casework.apply(acc2, camps2, casework.Casework.from_records([label]), None, "2026-11-22", DEFAULTS)
    assert not out.to_pylist()[0]["flagged"]


def test_volume_is_compared_per_day_not_over_a_growing_window() -> None:
    from datetime import datetime, timedelta, timezone

    t0 = datetime(2026, 11, 20, tzinfo=timezone.utc)

    def spanning(days: int, prompts: int):
        acc, camps = _night(MEMBERS, prompts=prompts)
        row = camps.to_pylist()[0] | {"first_seen": t0, "last_seen": t0 + timedelta(days=days)}
        return acc, pa.Table.from_pylist([row], schema=CAMPAIGNS)

    acc, camps = spanning(1, 400)
    case = casework.Casework.from_records([_label("benign", acc, camps, "known-customer")])
    for prompts, flagged in ((1200, False), (3600, True)):  # three days at the same rate, then at three times it
        a3, c3 = spanning(3, prompts)
        _, out = casework.apply(a3, c3, case, None, "2026-11-23", DEFAULTS)
        row = out.to_pylist()[0]
        assert row["flagged"] == flagged
        if flagged:
            assert "prompts a day x3.0" in json.loads(row["reasons"])[0]


@pytest.mark.slow
def test_a_stix_bundle_holds_no_raw_text_or_ids_and_matches_its_own_campaign(
    served_store: dict, tmp_path: Path
) -> None:
    """A bundle exported from the store is valid STIX 2.1 (parsed back by stix2) with a TLP marking on every object,
    holds none of the campaign's prompt text, account, card or org ids, and matches the campaign it came from by
    its templates and keyed cards; with another key the cards say nothing."""
    import stix2

    from engine.app.cli import main
    from engine.app.indicators import match_bundle
    from engine.store import Store
    from engine.store.tables import Tables

    store = Store(served_store["store"])
    tables = Tables(store.require())
    camp = tables.campaigns(flagged_only=True).to_pylist()[0]
    out = tmp_path / "bundle.json"
    args = ["--store", str(served_store["store"]), "--key", "shared-secret-1"]
    assert main(["indicators", "export", camp["campaign_id"], "--out", str(out), *args]) == 0
    text = out.read_text()
    parsed = stix2.parse(text, allow_custom=True)
    assert all(o.type == "marking-definition" or stix2.TLP_AMBER.id in o.get("object_marking_refs", [])
               for o in parsed.objects)  # fmt: skip
    members = tables.accounts().filter(pa.compute.is_in(tables.accounts()["account_id"], pa.array(camp["member_ids"])))
    secrets = [*camp["member_ids"], *[c for c in members["payment_fp"].to_pylist() if c],
               *[o for o in members["org_id"].to_pylist() if o], *camp["samples"]]  # fmt: skip
    for t in camp["templates"]:
        secrets += [w for w in t.replace("<SLOT>", " ").split("\n") if len(w.strip()) > 20]
    leaked = [x for x in secrets if x and x.strip() and x in text]
    assert not leaked, leaked[:3]
    bundle = json.loads(text)
    hits = [
        m for m in match_bundle(store, bundle, key="shared-secret-1") if m.get("campaign_id") == camp["campaign_id"]
    ]
    assert hits and hits[0]["similarity"] >= 0.5 and any("template Jaccard" in w for w in hits[0]["matched"])
    other_key = [
        m for m in match_bundle(store, bundle, key="another-key-2") if m.get("campaign_id") == camp["campaign_id"]
    ]
    assert not any("keyed card" in w for m in other_key for w in m["matched"])


@pytest.mark.slow
def test_the_three_night_casework_scenario(shared_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    """scripts/bench_casework.py on scaled-down public3 and public configs: night 1 flags, the script labels one
    campaign benign and confirms another; night 2 the benign one is not flagged and says why and the confirmed
    one's new accounts carry the watch reason; night 3 the benign one has grown by half and is flagged again; the
    confirmed campaign's bundle matches its operation in another seed's log and nothing else."""
    import importlib.util
    import sys

    from tests.conftest import small_config

    cfgs = {}
    for name in ("public3.json", "public.json"):
        cfgs[name] = tmp_path / f"small-{name}"
        cfgs[name].write_text(json.dumps(small_config(shared_dir, name, benign=500, eval_per_day=[200, 400],
                                                      min_campaign=20)))  # fmt: skip
    spec = importlib.util.spec_from_file_location(
        "bench_casework", Path(__file__).parents[1] / "scripts" / "bench_casework.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    monkeypatch.setattr(sys, "argv", ["bench_casework", str(cfgs["public3.json"]), "--work", str(tmp_path / "work"),
                                      "--other", str(cfgs["public.json"]), "--confirm", "cot-harvest"])  # fmt: skip
    rc = bench.main()
    out = capsys.readouterr().out
    assert rc == 0, out
    assert out.count("PASS") >= 8 and "FAIL" not in out
