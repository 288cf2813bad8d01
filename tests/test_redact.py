"""Privacy mode: a redacted export, report and server hold no raw prompt text and no raw account, prompt, org or
card id of the log, and no campaign or cluster of fewer than --min-accounts accounts."""

from __future__ import annotations

import csv
import html
import json
import shutil
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from engine.app.cli import main
from engine.app.redact import Redactor
from engine.store import Store
from engine.store.tables import Tables
from tests.conftest import HOSTILE_TEXTS, LiveServer

pytestmark = pytest.mark.slow  # a copy of the served store, a server
KEY = "redaction-key-1"
MIN = 3


@pytest.fixture(scope="module")
def secrets_of_the_log(served_store: dict, tmp_path_factory) -> dict:
    store = tmp_path_factory.mktemp("redact") / "store"
    shutil.copytree(served_store["store"], store)
    tables = Tables(Store(store).require())
    acc = tables.accounts().select(["account_id", "org_id", "payment_fp"]).to_pydict()
    ids = {v for col in acc.values() for v in col if v}
    ids |= set(tables.snap.query("SELECT prompt_id FROM prompts")["prompt_id"].to_pylist())
    texts = tables.snap.query(
        "SELECT t.norm_text, p.text FROM window_prompts w JOIN prompts p USING (prompt_id) JOIN texts t "
        "USING (text_row) WHERE t.template_id = 0"
    ).to_pydict()
    fragments = {t[10:34] for t in texts["text"] if t and len(t) >= 40}
    fragments |= {t[10:34] for t in texts["norm_text"] if t and len(t) >= 40}
    fragments |= {t[:24] for t in HOSTILE_TEXTS}
    # wrapper text shared across accounts is what a template skeleton shows, by design: not a leak
    skeletons = "\n".join(tables.templates()["template"].to_pylist())
    fragments = {f for f in fragments if f not in skeletons}
    return {"store": store, "ids": ids, "fragments": {f for f in fragments if f.strip()}, "tables": tables}


def _leaks(text: str, log: dict) -> list[str]:
    found = [i for i in log["ids"] if i in text]
    found += [f for f in log["fragments"] if f in text]
    return found


def _leaves(obj: object) -> str:
    """Every string of a JSON value, one a line (so a JSON escape cannot hide a raw text from the scan)."""
    if isinstance(obj, dict):
        return "\n".join(_leaves(k) + "\n" + _leaves(v) for k, v in obj.items())
    if isinstance(obj, list):
        return "\n".join(_leaves(v) for v in obj)
    return str(obj)


def _file_text(path: Path) -> str:
    raw = path.read_text(encoding="utf-8")
    if path.suffix == ".csv":
        return "\n".join("\n".join(row) for row in csv.reader(raw.splitlines()))
    if path.suffix == ".json":
        return _leaves(json.loads(raw))
    if path.suffix == ".jsonl":
        return "\n".join(_leaves(json.loads(line)) for line in raw.splitlines() if line)
    return html.unescape(raw)


def test_a_redacted_export_and_report_hold_no_raw_text_or_id(secrets_of_the_log: dict, tmp_path: Path) -> None:
    log = secrets_of_the_log
    assert len(log["ids"]) > 1000 and len(log["fragments"]) > 200
    # the control: the same scan finds the log's text and ids in an unredacted export
    assert main(["export", "--out", str(tmp_path / "plain"), "--store", str(log["store"])]) == 0
    assert _leaks(_file_text(tmp_path / "plain" / "campaigns.json"), log)
    assert _leaks(_file_text(tmp_path / "plain" / "accounts.csv"), log)
    shutil.rmtree(tmp_path / "plain")
    s = ["--store", str(log["store"]), "--redact", "--redact-key", KEY, "--min-accounts", str(MIN)]
    for fmt in ("csv", "json"):
        assert main(["export", "--out", str(tmp_path / fmt), "--format", fmt, *s]) == 0
    assert main(["report", "--out", str(tmp_path / "report.html"), *s]) == 0
    files = [*tmp_path.rglob("*.csv"), *tmp_path.rglob("*.json*"), *tmp_path.rglob("*.md"), tmp_path / "report.html"]
    assert len(files) >= 12
    for f in files:
        leaked = _leaks(_file_text(f), log)
        assert not leaked, f"{f.name}: {leaked[:3]}"
    camps = json.loads((tmp_path / "csv" / "campaigns.json").read_text())
    assert camps and all(c["accounts"] >= MIN for c in camps)
    r = Redactor(log["tables"], KEY, MIN)
    member = r.hash(log["tables"].campaigns(flagged_only=True).to_pylist()[0]["member_ids"][0])
    assert member in (tmp_path / "csv" / "accounts.csv").read_text()  # the verdicts are there, under hashed ids
    with pytest.raises(SystemExit, match="at least 8"):
        main(["export", "--out", str(tmp_path / "x"), "--store", str(log["store"]), "--redact", "--redact-key", "k"])


def test_a_redacted_server_shows_no_raw_text_or_id(secrets_of_the_log: dict) -> None:
    log = secrets_of_the_log
    r = Redactor(log["tables"], KEY, MIN)
    camp = log["tables"].campaigns(flagged_only=True).to_pylist()[0]
    account = r.hash(camp["member_ids"][0])
    prompt = log["tables"].snap.query("SELECT prompt_id FROM window_prompts LIMIT 1")["prompt_id"][0].as_py()
    hp = quote(r.hash(prompt), safe="")
    paths = ["/", "/campaigns", f"/campaigns/{camp['campaign_id']}", "/accounts", f"/accounts/{account}",
             f"/prompts/{hp}", f"/prompts/{hp}/similar", "/clusters", "/clusters/0", "/cluster-map", "/diff",
             "/labels", "/audit", f"/ui/campaigns/{camp['campaign_id']}", f"/ui/accounts/{account}",
             f"/ui/prompts/{hp}", "/ui/clusters", "/ui/clusters/0", "/ui/search?text=hello"]  # fmt: skip
    server = LiveServer(log["store"], redact={"key": KEY, "min_accounts": MIN})
    try:
        with httpx.Client(base_url=server.url, timeout=60) as c:
            for p in paths:
                got = c.get(p)
                assert got.status_code == 200, f"{p}: {got.status_code}"
                body = _leaves(got.json()) if "json" in got.headers["content-type"] else html.unescape(got.text)
                leaked = _leaks(body, log)
                assert not leaked, f"{p}: {leaked[:3]}"
            assert c.get(f"/accounts/{quote(camp['member_ids'][0], safe='')}").status_code in (200, 404)
            posted = c.post(f"/campaigns/{camp['campaign_id']}/labels", json={"verdict": "needs-review", "by": "x"})
            assert posted.status_code == 403  # privacy mode takes no writes
    finally:
        server.close()
