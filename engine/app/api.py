"""``promptsim serve``: the HTTP API and the web UI over a store's current snapshot, and analysts' labels.

JSON paths (OpenAPI docs at ``/docs``): ``/campaigns``, ``/campaigns/{id}``, ``/accounts``, ``/accounts/{id}``,
``/prompts/{id}``, ``/prompts/{id}/similar``, ``POST /similar``, ``/topics``, ``/topics/{id}``, ``/clusters``,
``/clusters/{id}``, ``/cluster-map``,
``/runs``, ``/diff``, ``/health``; casework: ``POST /campaigns/{id}/labels``, ``POST /accounts/{id}/labels``,
``GET /labels``, ``GET /audit`` (writes need the API key and are refused with ``--read-only``). The web UI (``/`` and ``/ui/...``) renders the same view dicts
(engine.app.views) as HTML, server-side, with no script at all: it works offline and prompt text has nothing to run.

Why the shape: a thin shell. Every answer comes from :class:`engine.app.views.State` of the snapshot being served
(engine.app.live swaps it when a run commits); this module only maps HTTP to those calls and errors to status codes:
an unknown id is a 404 with a JSON message, a bad parameter a 422 (FastAPI's validation), a store with no run yet a
503; an unexpected failure is logged and answered 500 without internals. Bind to loopback by default; an optional
API key (``X-API-Key`` header, or the ``promptsim_key`` cookie the UI sets from ``/?key=...``) guards everything
but the docs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import os
import secrets
from collections import OrderedDict
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, quote

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.app import casework, web
from engine.app.live import LiveStore
from engine.app.views import NotFound
from engine.store import Store, StoreError
from engine.store.journal import labels_journal

log = logging.getLogger("promptsim.serve")
# ids are taken whole (``:path``): a prompt or account id may hold a "/" (sent percent-encoded); the similar route
# is declared before the prompt route so ``/prompts/{id}/similar`` is never read as an id
OPEN_PATHS = ("/docs", "/openapi.json", "/docs/oauth2-redirect", "/redoc", "/static-offline-docs/")
#: every page and answer but the docs forbids scripts, frames and outside resources: prompt text is hostile, and
#: the UI needs no script at all, so a missed escape still could not run anything
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
Status = Literal["new", "growing", "steady", "fading", "quiet", "merged", "untracked"]
Limit = Annotated[int, Query(ge=1, le=1000, description="page size")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="rows to skip")]
K = Annotated[int, Query(ge=1, le=100, description="neighbours of each kind")]


def _finite(v: Any) -> Any:
    """NaN / inf (a signal that could not be measured) as null: JSON has no NaN."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_finite(x) for x in v]
    return v


class Json(Response):
    """Compact JSON straight from ``json.dumps`` (the view dicts are already plain). Endpoints return it themselves:
    a returned dict would first go through FastAPI's ``jsonable_encoder``, which walks every field again."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        try:
            text = json.dumps(content, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str)
        except ValueError:
            text = json.dumps(_finite(content), ensure_ascii=False, separators=(",", ":"), default=str)
        return text.encode("utf-8")


class Refused(Exception):
    """A write this server does not take (read-only, or no API key configured)."""


class Guard:
    """The API key check and the security headers, as plain ASGI middleware: Starlette's ``@app.middleware``
    wrapper adds a task and a body stream to every request, on the similar-by-id hot path too."""

    def __init__(self, app: ASGIApp, api_key: str | None) -> None:
        self.app, self.key = app, api_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(OPEN_PATHS):
            await self.app(scope, receive, send)
            return
        if self.key:
            request = Request(scope)
            login = scope["path"] == "/" and request.query_params.get("key")
            given = login or request.headers.get("x-api-key") or request.cookies.get("promptsim_key") or ""
            if not secrets.compare_digest(given.encode(), self.key.encode()):
                reply: Response = Json({"detail": "missing or wrong API key (header X-API-Key)"}, status_code=401)
                await reply(scope, receive, send)
                return
            if login:  # the UI: the key once in the URL, then an HTTP-only cookie, and the URL without it
                reply = RedirectResponse("/", status_code=303)
                reply.set_cookie("promptsim_key", self.key, httponly=True, samesite="strict")
                await reply(scope, receive, send)
                return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = CSP
                headers["X-Content-Type-Options"] = "nosniff"
            await send(message)

        await self.app(scope, receive, with_headers)


#: answers read from the casework journals, which change within a snapshot: never cached
UNCACHED = ("/labels", "/audit")


class AnswerCache:
    """Finished answers to GET requests, kept per snapshot: a snapshot never changes, so the same URL gets the same
    bytes until the next run commits, and a repeated campaign page or similar-by-id costs a dictionary lookup
    instead of a search, a page build and an encoding. Only complete 200 answers under ``max_body`` are kept, the
    oldest dropped beyond ``max_entries`` answers or ``max_bytes`` of bodies; a new snapshot empties it."""

    def __init__(
        self,
        app: ASGIApp,
        live: LiveStore,
        max_entries: int = 20_000,
        max_body: int = 1 << 20,
        max_bytes: int = 1 << 28,
    ) -> None:
        self.app, self.live = app, live
        self.max_entries, self.max_body, self.max_bytes = max_entries, max_body, max_bytes
        self.answers: OrderedDict[tuple, tuple[list[Message], int]] = OrderedDict()
        self.snapshot: str | None = None
        self.bytes = 0
        self.journal = labels_journal(live.store.root).path

    def journal_size(self) -> int:
        try:
            return os.stat(self.journal).st_size
        except OSError:
            return 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        journal = scope["type"] == "http" and scope["path"].startswith(UNCACHED)
        name = self.live.poll() if scope["type"] == "http" and scope["method"] == "GET" and not journal else None
        if name is None:
            await self.app(scope, receive, send)
            return
        if name != self.snapshot:  # answers of the snapshot before are never asked for again
            self.answers.clear()
            self.snapshot, self.bytes = name, 0
        # a page that lists labels changes when the journal does, within one snapshot
        key = (name, self.journal_size(), scope["path"], scope.get("query_string", b""))
        hit = self.answers.get(key)
        if hit is not None:
            for message in hit[0]:  # copies: whoever sends them on may add headers
                await send({**message, "headers": list(message["headers"])} if "headers" in message else message)
            return
        kept: list[Message] = []
        size = 0

        async def keep(message: Message) -> None:
            nonlocal size
            kept.append(message)
            if message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, keep)
        done = kept and kept[-1]["type"] == "http.response.body" and not kept[-1].get("more_body", False)
        if done and kept[0].get("status") == 200 and size <= self.max_body and key[0] == self.snapshot:
            old = self.answers.pop(key, None)
            self.bytes += size - (old[1] if old else 0)
            self.answers[key] = (kept, size)
            while len(self.answers) > self.max_entries or self.bytes > self.max_bytes:
                self.bytes -= self.answers.popitem(last=False)[1][1]


class SimilarById:
    """``GET /prompts/{id}/similar`` for a prompt in the analysis window, answered before the router.

    This is the analyst's hot lookup: about 0.65 ms of search and encoding, to which FastAPI's routing, parameter
    validation and exception layers added another 0.3 ms (measured in-process at 1.12M prompts), a third of the
    server's time per request. Only the plain case is taken here: a window prompt and ``k`` absent or a whole number
    in range. Anything else (a prompt outside the window, which needs a query and an embedding off the loop; a bad
    ``k``; no snapshot yet) goes on to the route, which answers it and its errors as before."""

    PREFIX, SUFFIX = "/prompts/", "/similar"

    def __init__(self, app: ASGIApp, current: Any) -> None:
        self.app, self.current = app, current

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path: str = scope["path"]
            if path.startswith(self.PREFIX) and path.endswith(self.SUFFIX) and len(path) > 17:
                k = _plain_k(scope.get("query_string", b""))
                prompt_id = path[len(self.PREFIX) : -len(self.SUFFIX)]
                try:
                    state = self.current() if k else None
                except StoreError:  # no snapshot yet: the route says so (503)
                    state = None
                if state is not None and state.searcher.prompt_row(prompt_id) is not None:
                    await Json(state.similar(prompt_id, k))(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def _plain_k(query: bytes) -> int | None:
    """``k`` from a query string that holds nothing else (absent: the default 10); None for anything the route
    should validate itself."""
    if not query:
        return 10
    if query.startswith(b"k=") and query[2:].isdigit() and len(query) <= 5:
        k = int(query[2:])
        return k if 1 <= k <= 100 else None
    return None


class LabelBody(BaseModel):
    verdict: Literal["confirmed", "benign", "needs-review"]
    kind: str = Field("", max_length=40, description="benign only: known-customer, eval-or-research, course-or-team, "
                      "product-traffic or other")  # fmt: skip
    note: str = Field("", max_length=2000)
    by: str = Field(min_length=1, max_length=200, description="the analyst's name")


class TextQuery(BaseModel):
    text: str = Field(min_length=1, max_length=20_000, description="any text: normalised, MinHashed and embedded")
    k: int = Field(10, ge=1, le=100)


def create_app(store: str | Path, *, api_key: str | None = None, poll_seconds: float = 1.0,
               read_only: bool = False, redact: dict | None = None) -> FastAPI:  # fmt: skip
    """The app for one store directory; it follows the store's CURRENT snapshot (see engine.app.live).

    Writes (labels) need the API key: a server started without one, or with ``read_only``, refuses them (403)."""
    live = LiveStore(store, poll_seconds=poll_seconds)
    root = Store(store)
    redacted: list[Any] = []  # privacy mode: the RedactedState of the snapshot being served (one per snapshot)

    def current() -> Any:
        """The snapshot being served, as every answer sees it: scrubbed in privacy mode (``redact``: key and
        min_accounts; engine.app.redact), with one redactor per snapshot (its ids)."""
        state = live.get()
        if redact is None:
            return state
        if not redacted or redacted[0].name != state.name:
            from engine.app.redact import RedactedState, Redactor

            redacted[:] = [RedactedState(state, Redactor(state.tables, redact["key"], redact.get("min_accounts", 1)))]
        return redacted[0]

    # the label forms' CSRF token: derived from the key (the same in every worker process), unknowable without it
    csrf = hmac.new((api_key or secrets.token_hex(16)).encode(), b"promptsim-ui-form", hashlib.sha256).hexdigest()
    # the docs pages' Swagger UI / ReDoc assets are shipped by fastapi-offline: FastAPI's own pages load them from
    # a CDN, which an analyst's offline network cannot reach
    app = FastAPIOffline(
        title="promptsim",
        version="0.1.0",
        description="Read-only API over a promptsim store: suspected campaigns, account verdicts, clusters and "
        "similar prompts, from the snapshot the last nightly run committed.",
        default_response_class=Json,
    )
    app.state.live = live

    # the last added is outermost: the key is checked and the security headers added on cached answers too, and the
    # similar-by-id fast path sits behind the cache
    app.add_middleware(SimilarById, current=current)
    app.add_middleware(AnswerCache, live=live)
    app.add_middleware(Guard, api_key=api_key)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        if request.url.path.startswith("/ui/"):
            return HTMLResponse(web.error_page(404, str(exc)), status_code=404)
        return Json({"detail": str(exc)}, status_code=404)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        if request.url.path.startswith("/ui/"):
            return HTMLResponse(web.error_page(403, str(exc)), status_code=403)
        return Json({"detail": str(exc)}, status_code=403)

    @app.exception_handler(casework.UnknownTarget)
    async def unknown_target(request: Request, exc: casework.UnknownTarget) -> Response:
        return Json({"detail": str(exc)}, status_code=404)

    @app.exception_handler(casework.CaseError)
    async def bad_label(request: Request, exc: casework.CaseError) -> Response:
        if request.url.path.startswith("/ui/"):
            return HTMLResponse(web.error_page(422, str(exc)), status_code=422)
        return Json({"detail": str(exc)}, status_code=422)

    @app.exception_handler(StoreError)
    async def no_store(request: Request, exc: StoreError) -> Response:
        return Json({"detail": str(exc)}, status_code=503)

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> Response:
        log.exception("%s %s failed", request.method, request.url.path)
        return Json({"detail": "internal error; the server log has the traceback"}, status_code=500)

    # -- JSON API ----------------------------------------------------------------------------------------------
    # The hot, short answers (about a millisecond of work, most of it FAISS, which releases the GIL) run on the event
    # loop: a thread-pool hop would cost more than the work. Page builds, free-text embedding and anything that
    # queries DuckDB stay plain functions, which FastAPI runs in its thread pool.
    @app.get("/health", tags=["store"])
    async def health() -> Any:
        return Json(current().health())

    @app.get("/campaigns", tags=["campaigns"])
    def campaigns(
        flagged: bool | None = None,
        status: Status | None = None,
        min_score: Annotated[float, Query(ge=0, le=1)] = 0.0,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Any:
        """Scored cohorts, highest score first: flagged ones are the suspected campaigns."""
        return Json(
            current().campaigns(flagged=flagged, status=status, min_score=min_score, limit=limit, offset=offset)
        )

    @app.get("/campaigns/{campaign_id:path}", tags=["campaigns"])
    def campaign(campaign_id: str) -> Any:
        """Evidence, reasons, timeline, capability areas, templates (slots marked), clusters, history, members."""
        return Json(current().campaign(campaign_id))

    @app.get("/accounts", tags=["accounts"])
    def accounts(
        flagged: bool | None = None, campaign_id: str | None = None, limit: Limit = 50, offset: Offset = 0
    ) -> Any:
        """Account verdicts, most suspicious first; ``campaign_id`` lists a cohort's accounts."""
        return Json(current().accounts(flagged=flagged, campaign_id=campaign_id, limit=limit, offset=offset))

    @app.get("/accounts/{account_id:path}", tags=["accounts"])
    def account(account_id: str) -> Any:
        """Verdict, signals and reasons of one account, with its recent prompts and timeline."""
        return Json(current().account(account_id))

    @app.get("/prompts/{prompt_id:path}/similar", tags=["prompts"])
    async def similar(prompt_id: str, k: K = 10) -> Any:
        """Near-duplicates (MinHash Jaccard) and semantic neighbours (FAISS cosine) of a stored prompt."""
        state = current()
        if state.searcher.prompt_row(prompt_id) is None:  # outside the window: a query and an embedding, off the loop
            return Json(await run_in_threadpool(state.similar, prompt_id, k))
        return Json(state.similar(prompt_id, k))

    @app.get("/prompts/{prompt_id:path}", tags=["prompts"])
    def prompt(prompt_id: str) -> Any:
        """A stored prompt with its cluster, template and near-duplicate group."""
        return Json(current().prompt(prompt_id))

    # -- casework: analysts' labels (writes need the API key; engine.app.casework) --------------------------------
    def writable() -> None:
        if redact is not None:
            raise Refused("privacy mode (--redact) serves no raw ids: label from the CLI or an unredacted server")
        if read_only:
            raise Refused("this server was started with --read-only: labels are refused")
        if not api_key:
            raise Refused("writes need an API key: start `promptsim serve --api-key KEY` (or $PROMPTSIM_API_KEY)")

    @app.post("/campaigns/{campaign_id:path}/labels", tags=["casework"], status_code=201)
    def label_campaign(campaign_id: str, body: LabelBody) -> Any:
        """Label a campaign confirmed, benign (with a kind) or needs-review; later nights act on it."""
        writable()
        return Json(casework.label(root, "campaign", campaign_id, body.verdict, kind=body.kind, note=body.note,
                                   by=body.by), status_code=201)  # fmt: skip

    @app.post("/accounts/{account_id:path}/labels", tags=["casework"], status_code=201)
    def label_account(account_id: str, body: LabelBody) -> Any:
        """Label an account confirmed, benign (with a kind) or needs-review."""
        writable()
        return Json(casework.label(root, "account", account_id, body.verdict, kind=body.kind, note=body.note,
                                   by=body.by), status_code=201)  # fmt: skip

    @app.get("/labels", tags=["casework"])
    def list_labels(campaign_id: str | None = None) -> Any:
        """Every label record, oldest first (a label changed later stays as history)."""
        return Json({"items": scrubbed(casework.labels(root, campaign_id))})

    @app.get("/audit", tags=["casework"])
    def list_audit() -> Any:
        """Every analyst action: who, when, what, before and after."""
        return Json({"items": scrubbed(casework.audit(root))})

    @app.post("/similar", tags=["prompts"])
    def similar_text(q: TextQuery) -> Any:
        """The same for free text, embedded with the model that built the store."""
        return Json(current().similar_text(q.text, q.k))

    @app.get("/clusters", tags=["clusters"])
    def clusters(limit: Limit = 50, offset: Offset = 0) -> Any:
        """Prompt clusters, largest first: top terms, representatives, dominant template."""
        return Json(current().clusters(limit=limit, offset=offset))

    @app.get("/clusters/{cluster_id}", tags=["clusters"])
    def cluster(cluster_id: int) -> Any:
        return Json(current().cluster(cluster_id))

    @app.get("/topics", tags=["clusters"])
    def topics(limit: Limit = 50, offset: Offset = 0) -> Any:
        """Topics (groups of clusters), largest first: the ids of their clusters, top terms, representatives."""
        return Json(current().topics(limit=limit, offset=offset))

    @app.get("/topics/{topic_id}", tags=["clusters"])
    def topic(topic_id: int) -> Any:
        """A topic with its clusters' rows and the flagged campaigns it feeds."""
        return Json(current().topic(topic_id))

    @app.get("/cluster-map", tags=["clusters"])
    def cluster_map() -> Any:
        """Cluster centroids in 2-D (PCA), sized by prompts, with the flagged campaign each feeds."""
        return Json(current().cluster_map())

    @app.get("/runs", tags=["store"])
    def runs() -> Any:
        return Json(current().runs())

    @app.get("/diff", tags=["store"])
    def diff(since: str | None = None) -> Any:
        """Campaign events since a run (default: tonight's): new, grown, new accounts, quiet, merged, split."""
        return Json(current().diff(since))

    # -- web UI ------------------------------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def ui_index(all: bool = False, offset: Offset = 0) -> Any:  # noqa: A002 - the UI's own query word
        return HTMLResponse(web.campaigns_page(current(), include_all=all, offset=offset))

    def scrubbed(rows: list[dict]) -> list[dict]:
        return rows if redact is None else current().redactor.scrub(rows)

    def panel(target: str, target_id: str) -> dict:
        raw_id = target_id if redact is None else current().redactor.unhash(target_id)
        labels = scrubbed([r for r in casework.labels(root) if r["target"] == target and r["target_id"] == raw_id])
        why_not = ("privacy mode: labelling is off" if redact is not None else "this server is read-only" if read_only
                   else "" if api_key else "labelling needs a server started with an API key")  # fmt: skip
        return web.casework_panel(labels, f"/ui/{target}s/{quote(target_id, safe='')}/labels", csrf, why_not)

    @app.get("/ui/campaigns/{campaign_id:path}", response_class=HTMLResponse, include_in_schema=False)
    def ui_campaign(campaign_id: str) -> Any:
        return HTMLResponse(web.campaign_page(current(), campaign_id, panel("campaign", campaign_id)))

    @app.get("/ui/accounts/{account_id:path}", response_class=HTMLResponse, include_in_schema=False)
    def ui_account(account_id: str) -> Any:
        return HTMLResponse(web.account_page(current(), account_id, panel("account", account_id)))

    async def ui_label(request: Request, target: str, target_id: str) -> Response:
        """The label form's POST: refused without the page's CSRF token (a page of another site cannot read it)."""
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        if not secrets.compare_digest(form.get("csrf", "").encode(), csrf.encode()):
            return HTMLResponse(web.error_page(403, "the form's CSRF token is missing or wrong: reload the page"),
                                status_code=403)  # fmt: skip
        writable()
        await run_in_threadpool(casework.label, root, target, target_id, form.get("verdict", ""),
                                kind=form.get("kind", ""), note=form.get("note", ""), by=form.get("by", ""))  # fmt: skip
        return RedirectResponse(f"/ui/{target}s/{quote(target_id, safe='')}", status_code=303)

    @app.post("/ui/campaigns/{campaign_id:path}/labels", include_in_schema=False)
    async def ui_label_campaign(campaign_id: str, request: Request) -> Response:
        return await ui_label(request, "campaign", campaign_id)

    @app.post("/ui/accounts/{account_id:path}/labels", include_in_schema=False)
    async def ui_label_account(account_id: str, request: Request) -> Response:
        return await ui_label(request, "account", account_id)

    @app.get("/ui/prompts/{prompt_id:path}", response_class=HTMLResponse, include_in_schema=False)
    def ui_prompt(prompt_id: str, k: K = 10) -> Any:
        return HTMLResponse(web.prompt_page(current(), prompt_id, k))

    @app.get("/ui/clusters", response_class=HTMLResponse, include_in_schema=False)
    def ui_clusters(offset: Offset = 0) -> Any:
        return HTMLResponse(web.clusters_page(current(), offset=offset))

    @app.get("/ui/topics", response_class=HTMLResponse, include_in_schema=False)
    def ui_topics(offset: Offset = 0) -> Any:
        return HTMLResponse(web.topics_page(current(), offset=offset))

    @app.get("/ui/topics/{topic_id}", response_class=HTMLResponse, include_in_schema=False)
    def ui_topic(topic_id: int) -> Any:
        return HTMLResponse(web.topic_page(current(), topic_id))

    @app.get("/ui/clusters/{cluster_id}", response_class=HTMLResponse, include_in_schema=False)
    def ui_cluster(cluster_id: int) -> Any:
        return HTMLResponse(web.cluster_page(current(), cluster_id))

    @app.get("/ui/search", response_class=HTMLResponse, include_in_schema=False)
    def ui_search(text: Annotated[str, Query(max_length=20_000)] = "", prompt_id: str = "", k: K = 10) -> Any:
        return HTMLResponse(web.search_page(current(), text=text, prompt_id=prompt_id, k=k))

    return app


def app_from_env() -> FastAPI:
    """The app for each worker process of ``serve(workers=N)``: uvicorn starts workers from an import string, so
    the store and key travel in the environment."""
    _one_thread_per_query()
    return create_app(os.environ["PROMPTSIM_STORE"], api_key=os.environ.get("PROMPTSIM_API_KEY") or None,
                      read_only=bool(os.environ.get("PROMPTSIM_READ_ONLY")),
                      redact=json.loads(os.environ["PROMPTSIM_REDACT"]) if os.environ.get("PROMPTSIM_REDACT") else None)  # fmt: skip


def _one_thread_per_query() -> None:
    """One request is one query: FAISS's OpenMP threads would only fight the other requests for the cores
    (measured: with 8 clients similar-by-id got no more throughput than with 1, at 8x the latency)."""
    import faiss

    faiss.omp_set_num_threads(1)


def serve(store: str | Path, *, host: str = "127.0.0.1", port: int = 8000, api_key: str | None = None,
          workers: int = 1, quiet: bool = False, read_only: bool = False, redact: dict | None = None) -> None:  # fmt: skip
    """Run the app under uvicorn until interrupted.

    ``workers`` > 1 runs that many processes on one port, each with its own copy of the snapshot in memory (about
    3 GB at 1M prompts): answers are CPU-bound Python, so processes, not threads, use more cores.
    """
    import uvicorn

    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="%(asctime)s %(name)s %(message)s")
    opts = {"host": host, "port": port, "log_level": "warning" if quiet else "info", "access_log": not quiet}
    if not quiet:
        print(f"promptsim: serving {store} at http://{host}:{port}/  (API docs /docs; {workers} worker(s))")
    if workers > 1:
        os.environ["PROMPTSIM_STORE"] = str(store)
        if api_key:
            os.environ["PROMPTSIM_API_KEY"] = api_key
        os.environ["PROMPTSIM_READ_ONLY"] = "1" if read_only else ""
        os.environ["PROMPTSIM_REDACT"] = json.dumps(redact) if redact else ""
        uvicorn.run("engine.app.api:app_from_env", factory=True, workers=workers, **opts)
        return
    _one_thread_per_query()
    uvicorn.run(create_app(store, api_key=api_key, read_only=read_only, redact=redact), **opts)
