"""The HTTP API and the web UI through a real client against a real server on 127.0.0.1 (``conftest.LiveServer``).

The store is the demo log plus hostile prompts (``conftest.served_store``). Checked: every documented path answers
with what the views say; unknown ids are 404 with a JSON message, bad parameters 422, and no input makes a 500;
the API key; the snapshot swap while clients loop and a nightly run commits; the one-file HTML report.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from engine.app.cli import main
from engine.pipeline import RunConfig, run
from engine.store import Store
from engine.store.tables import Tables
from tests.conftest import HOSTILE_ACCOUNT, LiveServer, read_jsonl


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> httpx.Client:
    with httpx.Client(base_url=live_server.url, timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def ids(client: httpx.Client, served_store: dict) -> dict:
    tables = Tables(Store(served_store["store"]).require())
    camp = tables.campaigns(flagged_only=True).to_pylist()[0]
    prompt = client.get(f"/accounts/{camp['member_ids'][0]}").json()["recent_prompts"][0]
    return {"campaign": camp, "account": camp["member_ids"][0], "prompt": prompt["prompt_id"]}


def test_campaign_list_and_page_match_the_store(client: httpx.Client, ids: dict, served_store: dict) -> None:
    tables = Tables(Store(served_store["store"]).require())
    flagged = tables.campaigns(flagged_only=True)["campaign_id"].to_pylist()
    r = client.get("/campaigns", params={"flagged": True})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["total"] == len(flagged) and [c["campaign_id"] for c in body["items"]] == flagged
    assert all(c["reasons"] and c["status"] for c in body["items"])
    everything = client.get("/campaigns", params={"limit": 1000}).json()
    assert everything["total"] == tables.campaigns().num_rows
    scores = [c["score"] for c in everything["items"]]
    assert scores == sorted(scores, reverse=True)
    page = client.get("/campaigns", params={"limit": 1, "offset": 1}).json()
    assert page["items"] == everything["items"][1:2]

    c = client.get(f"/campaigns/{ids['campaign']['campaign_id']}").json()
    assert c["accounts"] == ids["campaign"]["accounts"] and c["member_ids"] == ids["campaign"]["member_ids"]
    assert sum(c["timeline"]["counts"]) == sum(c["timeline"]["days"].values()) > 0
    assert c["templates"] and any(p["slot"] for t in c["templates"] for p in t["parts"])
    assert c["areas"] and c["history"]["nights"] and c["evidence"] and c["members"]["total"] >= len(c["member_ids"])
    assert {"content", "behaviour", "provenance"} <= set(c["carried"])


def test_accounts_prompts_similar_clusters_runs_diff(client: httpx.Client, ids: dict) -> None:
    flagged = client.get("/accounts", params={"flagged": True, "limit": 5}).json()
    assert flagged["total"] > 0 and all(a["flagged"] for a in flagged["items"])
    members = client.get("/accounts", params={"campaign_id": ids["campaign"]["campaign_id"], "limit": 1000}).json()
    assert set(ids["campaign"]["member_ids"]) <= {a["account_id"] for a in members["items"]}

    a = client.get(f"/accounts/{ids['account']}").json()
    assert a["flagged"] and a["campaign_id"] == ids["campaign"]["campaign_id"] and a["reasons"]
    assert a["recent_prompts"] and sum(a["timeline"]["counts"]) == a["window_prompts"]

    p = client.get(f"/prompts/{ids['prompt']}").json()
    assert p["account_id"] == ids["account"] and p["in_window"] and p["text"]
    sim = client.get(f"/prompts/{ids['prompt']}/similar", params={"k": 3}).json()
    assert sim["query"]["prompt_id"] == ids["prompt"]
    assert len(sim["semantic"]) == 3 and all(n["prompt_id"] != ids["prompt"] for n in sim["semantic"])
    free = client.post("/similar", json={"text": p["text"], "k": 3}).json()
    assert free["near_duplicates"] and free["near_duplicates"][0]["score"] == 1.0  # its own text, found again

    clusters = client.get("/clusters", params={"limit": 2}).json()
    assert clusters["total"] > 2 and len(clusters["items"]) == 2
    one = client.get(f"/clusters/{clusters['items'][0]['cluster_id']}").json()
    assert one["representatives"] and one["sample_prompts"] and one["prompts"] == clusters["items"][0]["prompts"]
    # the tree: each cluster in one topic, which lists it; memberships carry both
    topics = client.get("/topics", params={"limit": 500}).json()
    listed = {c: t["topic_id"] for t in topics["items"] for c in t["clusters"]}
    assert topics["total"] >= 1 and listed[one["cluster_id"]] == one["topic_id"]
    top = client.get(f"/topics/{one['topic_id']}").json()
    assert one["cluster_id"] in [c["cluster_id"] for c in top["cluster_rows"]] and top["representatives"]
    assert client.get("/topics/987654321").status_code == 404
    cmap = client.get("/cluster-map").json()["clusters"]
    assert len(cmap) == clusters["total"] and all({"x", "y", "prompts"} <= set(c) for c in cmap)

    runs = client.get("/runs").json()
    assert runs["items"] and runs["items"][-1]["run_id"] == client.get("/health").json()["snapshot"]
    assert client.get("/diff").json()["latest"] == runs["items"][-1]["run_id"]
    assert "/campaigns/{campaign_id}" in client.get("/openapi.json").json()["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "cdn." not in docs.text  # served offline
    assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/campaigns/nope",
        "/accounts/nope",
        "/prompts/nope",
        "/prompts/nope/similar",
        "/clusters/987654321",
        "/diff?since=no-such-run",
        "/ui/campaigns/nope",
        "/ui/prompts/nope",
    ],
)
def test_unknown_ids_are_404_with_a_message(client: httpx.Client, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404, r.text
    if not path.startswith("/ui/"):
        assert "nope" in r.json()["detail"] or "no-such-run" in r.json()["detail"] or "987654321" in r.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/campaigns?limit=0",
        "/campaigns?limit=abc",
        "/campaigns?min_score=2",
        "/campaigns?status=bogus",
        "/campaigns?flagged=maybe",
        "/accounts?offset=-1",
        "/clusters/abc",
        "/prompts/x/similar?k=0",
        "/prompts/x/similar?k=1000",
    ],
)
def test_bad_parameters_are_422(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 422


def test_similar_fast_path_answers_as_the_route(client: httpx.Client, ids: dict) -> None:
    """A window prompt's similar-by-id is answered before the router (``api.SimilarById``): the same bytes and
    headers as the route gives (a query string with anything more than ``k`` goes to the route), and a bad ``k`` on
    a window prompt is still the route's 422."""
    base = f"/prompts/{quote(ids['prompt'], safe='')}/similar"
    for k in ("", "?k=1", "?k=5", "?k=100"):
        fast = client.get(base + k)
        routed = client.get(base + (k + "&via=route" if k else "?via=route"))
        assert fast.status_code == routed.status_code == 200
        assert fast.content == routed.content and fast.json()["query"]["in_window"]
        assert fast.headers["content-security-policy"] == routed.headers["content-security-policy"]
        assert fast.headers["content-type"] == routed.headers["content-type"] == "application/json"
    assert len(client.get(base + "?k=1").json()["semantic"]) == 1
    for bad in ("?k=0", "?k=101", "?k=1000000", "?k=-1", "?k=x", "?k="):
        assert client.get(base + bad).status_code == 422, bad


def test_no_input_makes_a_500(client: httpx.Client, ids: dict) -> None:
    weird = ["%00", "x" * 5000, "ü🙂", "..%2F..%2Fetc%2Fpasswd", "'; DROP TABLE accounts; --", "%3Cscript%3E", " "]
    for w in weird:
        for path in ("/campaigns/", "/accounts/", "/prompts/", "/ui/prompts/", "/ui/accounts/", "/clusters/"):
            r = client.get(path + w)
            assert r.status_code < 500, (path, w, r.status_code)
    for body in ({}, {"text": ""}, {"text": "x", "k": "many"}, {"text": 5}, {"text": "ok " * 50_000}):
        assert client.post("/similar", json=body).status_code == 422
    assert client.post("/similar", content=b"not json", headers={"content-type": "application/json"}).status_code == 422
    assert client.get("/ui/search", params={"text": "<script>alert(1)</script>"}).status_code == 200


def test_hostile_ids_and_text_round_trip_as_data(client: httpx.Client, served_store: dict) -> None:
    for pid in served_store["hostile_ids"]:
        r = client.get(f"/prompts/{quote(pid, safe='')}")
        assert r.status_code == 200 and r.json()["prompt_id"] == pid
        page = client.get(f"/ui/prompts/{quote(pid, safe='')}").text
        assert "<script>window.__xss" not in page and 'onerror="window' not in page
    acc = client.get(f"/ui/accounts/{quote(HOSTILE_ACCOUNT, safe='')}")
    assert acc.status_code == 200 and "<b>hostile</b>" not in acc.text and "&lt;b&gt;hostile" in acc.text
    # the page forbids every script, escaped or not: in its header and in the page itself (the saved report)
    assert "default-src 'none'" in acc.headers["content-security-policy"] and "default-src 'none'" in acc.text


def _concrete(path: str, ids: dict) -> str:
    """A route's path with every parameter filled with an id that exists in the served store."""
    fill = {
        "campaign_id": ids["campaign"]["campaign_id"],
        "account_id": ids["account"],
        "prompt_id": ids["prompt"],
        "cluster_id": "0",
        "topic_id": "0",
    }
    for name, value in fill.items():
        path = path.replace("{" + name + ":path}", quote(value, safe="")).replace("{" + name + "}", quote(value))
    assert "{" not in path, f"no id to fill {path} with: add it to _concrete"
    return path


def test_api_key_guards_every_path_but_the_docs(served_store: dict, ids: dict, tmp_path: Path) -> None:
    """With a key, every route the app has (read from the app itself, so a new route is covered the day it is
    added), POST /similar and the /ui pages included, refuses a request without the key or with a wrong one, and
    answers it with the key; an answer kept in the snapshot's answer cache is never served to a client without
    the key; the docs stay open."""
    from fastapi.routing import APIRoute

    from engine.app.api import OPEN_PATHS

    store = tmp_path / "store"  # a copy: the label routes write to the store's journal
    shutil.copytree(served_store["store"], store)
    server = LiveServer(store, api_key="s3cret")
    routes = [r for r in server.app.routes if isinstance(r, APIRoute) and not r.path.startswith(OPEN_PATHS)]
    calls = [(m, _concrete(r.path, ids)) for r in routes for m in sorted(r.methods - {"HEAD"})]
    assert ("POST", "/similar") in calls and any(p.startswith("/ui/") for _, p in calls) and len(calls) >= 20
    query = {"text": "what is the capital of France?", "k": 3}
    review = {"verdict": "needs-review", "note": "key test", "by": "tester"}  # a label that changes no verdict
    try:
        with httpx.Client(base_url=server.url, timeout=60) as c:
            key = {"X-API-Key": "s3cret"}
            import hashlib
            import hmac

            token = hmac.new(b"s3cret", b"promptsim-ui-form", hashlib.sha256).hexdigest()
            for method, path in calls:
                ui_form = method == "POST" and path.startswith("/ui/")
                kw = {"json": review if path.endswith("/labels") else query} if method == "POST" else {}
                if ui_form:  # the label form of a UI page: form-encoded, with the page's CSRF token
                    kw = {"data": {**review, "csrf": token}}
                granted = c.request(method, path, headers=key, **kw)
                want = 303 if ui_form else 201 if method == "POST" and path.endswith("/labels") else 200
                assert granted.status_code == want, f"{method} {path} with the key: {granted.status_code}"
                # asked again without the key (the first answer is now in the answer cache), then with a wrong one
                for headers in ({}, {"X-API-Key": "wrong"}, {"X-API-Key": ""}):
                    refused = c.request(method, path, headers=headers, **kw)
                    assert refused.status_code == 401, f"{method} {path} with {headers or 'no key'}: served"
                    assert not granted.content or granted.content[:64] not in refused.content
            assert c.get("/openapi.json").status_code == 200 and c.get("/docs").status_code == 200
            # the UI: the key once in the URL, then an HTTP-only cookie; a wrong key in the URL sets nothing
            assert c.get("/", params={"key": "wrong"}).status_code == 401 and not c.cookies
            login = c.get("/", params={"key": "s3cret"}, follow_redirects=True)
            assert login.status_code == 200 and c.get("/ui/clusters").status_code == 200
    finally:
        server.close()


def test_a_run_committing_while_clients_loop_fails_no_request(served_store: dict, tmp_path: Path) -> None:
    """Clients loop on the API while a nightly run writes and commits: every request succeeds, and the server
    moves to the new snapshot by itself."""
    store = tmp_path / "store"
    shutil.copytree(served_store["store"], store)
    server = LiveServer(store, poll_seconds=0.1)
    before = Tables(Store(store).require())
    camp = before.campaigns(flagged_only=True)["campaign_id"][0].as_py()
    pid = before.window()["prompt_id"][0].as_py()
    paths = [f"/prompts/{pid}/similar?k=5", f"/campaigns/{camp}", "/campaigns", "/", f"/ui/campaigns/{camp}"]
    stop, results, seen = threading.Event(), [], set()

    def loop() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            i = 0
            while not stop.is_set():
                r = c.get(paths[i % len(paths)])
                results.append(r.status_code)
                if i % len(paths) == 0:
                    seen.add(c.get("/health").json()["snapshot"])
                i += 1

    clients = [threading.Thread(target=loop) for _ in range(3)]
    try:
        old = server.app.state.live.loaded
        for t in clients:
            t.start()
        time.sleep(0.5)
        night = tmp_path / "night.jsonl"
        rows = read_jsonl(served_store["extra"])
        night.write_text("".join(json.dumps(dict(r, prompt_id=r["prompt_id"] + "-n2")) + "\n" for r in rows))
        new = run(RunConfig(inputs=[night], store=store, quiet=True)).run_id
        assert server.app.state.live.wait_for(new, timeout=60)
        time.sleep(0.5)
    finally:
        stop.set()
        for t in clients:
            t.join(timeout=30)
        server.close()
    assert results and all(s == 200 for s in results), sorted(set(results))
    assert new != old and {old, new} <= seen


def test_html_report_is_one_self_contained_file(served_store: dict, tmp_path: Path) -> None:
    assert main(["export", "--store", str(served_store["store"]), "--format", "html", "--out", str(tmp_path)]) == 0
    html = (tmp_path / "report.html").read_text()
    tables = Tables(Store(served_store["store"]).require())
    for cid in tables.campaigns(flagged_only=True)["campaign_id"].to_pylist():
        assert f'id="c-{cid}"' in html and f'href="#c-{cid}"' in html
    assert html.count("<svg") >= 3 and "<script" not in html.lower()
    # nothing fetched (the SVG namespace is a name, not a request): it opens from a mail offline
    bare = html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "http://" not in bare and "https://" not in bare
    assert main(["report", "--store", str(served_store["store"]), "--out", str(tmp_path / "r2.html")]) == 0
    assert (tmp_path / "r2.html").stat().st_size > 10_000


def test_answers_are_kept_per_snapshot_errors_are_not(served_store: dict) -> None:
    """A repeated GET is answered from the snapshot's answer cache (the view is not asked again), with the same
    bytes and the security headers; an error is never kept."""
    server = LiveServer(served_store["store"])
    live, asked = server.app.state.live, []
    real = live.get
    live.get = lambda: asked.append(1) or real()  # type: ignore[method-assign]
    camp = Tables(Store(served_store["store"]).require()).campaigns(flagged_only=True)["campaign_id"][0].as_py()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            first, again = c.get(f"/campaigns/{camp}"), c.get(f"/campaigns/{camp}")
            assert first.status_code == again.status_code == 200 and first.content == again.content
            assert len(asked) == 1 and "default-src 'none'" in again.headers["content-security-policy"]
            assert c.get("/campaigns/nope").status_code == c.get("/campaigns/nope").status_code == 404
            assert len(asked) == 3
            assert c.get(f"/campaigns/{camp}", params={"x": 1}).status_code == 200 and len(asked) == 4  # another URL
    finally:
        server.close()


def test_labels_need_the_key_are_refused_read_only_and_are_kept_as_written(served_store: dict, ids: dict,
                                                                          tmp_path: Path) -> None:  # fmt: skip
    """Writes need the API key (a server without one refuses them), --read-only refuses them with the key; a label
    is validated, journalled with its hostile note as written, listed by GET /labels, and audited; /health does
    not tell a client where the store lives."""
    store = tmp_path / "store"
    shutil.copytree(served_store["store"], store)
    cid = ids["campaign"]["campaign_id"]
    note = '<script>alert("x")</script> & "quotes"'
    body = {"verdict": "benign", "kind": "known-customer", "note": note, "by": "ana"}
    for kw, status in (({}, 403), ({"api_key": "k", "read_only": True}, 403)):
        server = LiveServer(store, **kw)
        try:
            with httpx.Client(base_url=server.url, timeout=60, headers={"X-API-Key": "k"}) as c:
                r = c.post(f"/campaigns/{quote(cid, safe='')}/labels", json=body)
                assert r.status_code == status and "detail" in r.json()
        finally:
            server.close()
    server = LiveServer(store, api_key="k")
    try:
        with httpx.Client(base_url=server.url, timeout=60, headers={"X-API-Key": "k"}) as c:
            assert str(store) not in c.get("/health").text
            bad = c.post(f"/campaigns/{quote(cid, safe='')}/labels", json={**body, "kind": "vibes"})
            assert bad.status_code == 422 and "kind" in bad.json()["detail"]
            assert c.post("/campaigns/Cnope/labels", json=body).status_code == 404
            r = c.post(f"/campaigns/{quote(cid, safe='')}/labels", json=body)
            assert r.status_code == 201 and r.json()["baseline"]["accounts"]
            acct = c.post(f"/accounts/{quote(ids['account'], safe='')}/labels",
                          json={"verdict": "confirmed", "by": "bo"})  # fmt: skip
            assert acct.status_code == 201
            listed = c.get("/labels", params={"campaign_id": cid}).json()["items"]
            assert [x["note"] for x in listed] == [note]
            actions = c.get("/audit").json()["items"]
            assert [a["action"] for a in actions] == ["label campaign", "label account"]
            assert actions[0]["before"] is None and actions[0]["after"]["note"] == note and actions[0]["by"] == "ana"
    finally:
        server.close()


def test_a_loaded_snapshot_is_frozen_out_of_the_garbage_collector(served_store: dict) -> None:
    # a full collection walking the snapshot's millions of objects paused a request for up to 250 ms at 1M prompts
    import gc

    from engine.app.live import LiveStore

    gc.unfreeze()
    live = LiveStore(served_store["store"])
    try:
        assert live.get() is not None and gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
