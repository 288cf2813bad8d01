"""``promptsim serve``: the read-only HTTP API and the web UI over a store's current snapshot.

JSON paths (OpenAPI docs at ``/docs``): ``/campaigns``, ``/campaigns/{id}``, ``/accounts``, ``/accounts/{id}``,
``/prompts/{id}``, ``/prompts/{id}/similar``, ``POST /similar``, ``/clusters``, ``/clusters/{id}``, ``/cluster-map``,
``/runs``, ``/diff``, ``/health``. The web UI (``/`` and ``/ui/...``) renders the same view dicts
(engine.app.views) as HTML, server-side, with no script at all: it works offline and prompt text has nothing to run.

Why the shape: a thin shell. Every answer comes from :class:`engine.app.views.State` of the snapshot being served
(engine.app.live swaps it when a run commits); this module only maps HTTP to those calls and errors to status codes:
an unknown id is a 404 with a JSON message, a bad parameter a 422 (FastAPI's validation), a store with no run yet a
503; an unexpected failure is logged and answered 500 without internals. Bind to loopback by default; an optional
API key (``X-API-Key`` header, or the ``promptsim_key`` cookie the UI sets from ``/?key=...``) guards everything
but the docs.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, Field

from engine.app import web
from engine.app.live import LiveStore
from engine.app.views import NotFound
from engine.store import StoreError

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
    """Compact JSON straight from ``json.dumps`` (the view dicts are already plain): no per-field re-encoding on
    the hot similar-by-id path."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        try:
            text = json.dumps(content, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str)
        except ValueError:
            text = json.dumps(_finite(content), ensure_ascii=False, separators=(",", ":"), default=str)
        return text.encode("utf-8")


class TextQuery(BaseModel):
    text: str = Field(min_length=1, max_length=20_000, description="any text: normalised, MinHashed and embedded")
    k: int = Field(10, ge=1, le=100)


def create_app(store: str | Path, *, api_key: str | None = None, poll_seconds: float = 1.0) -> FastAPI:
    """The app for one store directory; it follows the store's CURRENT snapshot (see engine.app.live)."""
    live = LiveStore(store, poll_seconds=poll_seconds)
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

    @app.middleware("http")
    async def guard(request: Request, call_next):  # noqa: ANN001, ANN202 - Starlette's middleware signature
        if api_key and not request.url.path.startswith(OPEN_PATHS):
            given = request.headers.get("x-api-key") or request.cookies.get("promptsim_key") or ""
            if request.url.path == "/" and request.query_params.get("key"):
                given = request.query_params["key"]
            if not secrets.compare_digest(given.encode(), api_key.encode()):
                return Json({"detail": "missing or wrong API key (header X-API-Key)"}, status_code=401)
            if request.url.path == "/" and request.query_params.get("key"):
                resp = RedirectResponse("/", status_code=303)
                resp.set_cookie("promptsim_key", api_key, httponly=True, samesite="strict")
                return resp
        response = await call_next(request)
        if not request.url.path.startswith(OPEN_PATHS):
            response.headers["Content-Security-Policy"] = CSP
            response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        if request.url.path.startswith("/ui/"):
            return HTMLResponse(web.error_page(404, str(exc)), status_code=404)
        return Json({"detail": str(exc)}, status_code=404)

    @app.exception_handler(StoreError)
    async def no_store(request: Request, exc: StoreError) -> Response:
        return Json({"detail": str(exc)}, status_code=503)

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> Response:
        log.exception("%s %s failed", request.method, request.url.path)
        return Json({"detail": "internal error; the server log has the traceback"}, status_code=500)

    # -- JSON API ----------------------------------------------------------------------------------------------
    @app.get("/health", tags=["store"])
    def health() -> Any:
        return live.get().health()

    @app.get("/campaigns", tags=["campaigns"])
    def campaigns(
        flagged: bool | None = None,
        status: Status | None = None,
        min_score: Annotated[float, Query(ge=0, le=1)] = 0.0,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Any:
        """Scored cohorts, highest score first: flagged ones are the suspected campaigns."""
        return live.get().campaigns(flagged=flagged, status=status, min_score=min_score, limit=limit, offset=offset)

    @app.get("/campaigns/{campaign_id:path}", tags=["campaigns"])
    def campaign(campaign_id: str) -> Any:
        """Evidence, reasons, timeline, capability areas, templates (slots marked), clusters, history, members."""
        return live.get().campaign(campaign_id)

    @app.get("/accounts", tags=["accounts"])
    def accounts(
        flagged: bool | None = None, campaign_id: str | None = None, limit: Limit = 50, offset: Offset = 0
    ) -> Any:
        """Account verdicts, most suspicious first; ``campaign_id`` lists a cohort's accounts."""
        return live.get().accounts(flagged=flagged, campaign_id=campaign_id, limit=limit, offset=offset)

    @app.get("/accounts/{account_id:path}", tags=["accounts"])
    def account(account_id: str) -> Any:
        """Verdict, signals and reasons of one account, with its recent prompts and timeline."""
        return live.get().account(account_id)

    @app.get("/prompts/{prompt_id:path}/similar", tags=["prompts"])
    def similar(prompt_id: str, k: K = 10) -> Any:
        """Near-duplicates (MinHash Jaccard) and semantic neighbours (FAISS cosine) of a stored prompt."""
        return live.get().similar(prompt_id, k)

    @app.get("/prompts/{prompt_id:path}", tags=["prompts"])
    def prompt(prompt_id: str) -> Any:
        """A stored prompt with its cluster, template and near-duplicate group."""
        return live.get().prompt(prompt_id)

    @app.post("/similar", tags=["prompts"])
    def similar_text(q: TextQuery) -> Any:
        """The same for free text, embedded with the model that built the store."""
        return live.get().similar_text(q.text, q.k)

    @app.get("/clusters", tags=["clusters"])
    def clusters(limit: Limit = 50, offset: Offset = 0) -> Any:
        """Prompt clusters, largest first: top terms, representatives, dominant template."""
        return live.get().clusters(limit=limit, offset=offset)

    @app.get("/clusters/{cluster_id}", tags=["clusters"])
    def cluster(cluster_id: int) -> Any:
        return live.get().cluster(cluster_id)

    @app.get("/cluster-map", tags=["clusters"])
    def cluster_map() -> Any:
        """Cluster centroids in 2-D (PCA), sized by prompts, with the flagged campaign each feeds."""
        return live.get().cluster_map()

    @app.get("/runs", tags=["store"])
    def runs() -> Any:
        return live.get().runs()

    @app.get("/diff", tags=["store"])
    def diff(since: str | None = None) -> Any:
        """Campaign events since a run (default: tonight's): new, grown, new accounts, quiet, merged, split."""
        return live.get().diff(since)

    # -- web UI ------------------------------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def ui_index(all: bool = False, offset: Offset = 0) -> Any:  # noqa: A002 - the UI's own query word
        return HTMLResponse(web.campaigns_page(live.get(), include_all=all, offset=offset))

    @app.get("/ui/campaigns/{campaign_id:path}", response_class=HTMLResponse, include_in_schema=False)
    def ui_campaign(campaign_id: str) -> Any:
        return HTMLResponse(web.campaign_page(live.get(), campaign_id))

    @app.get("/ui/accounts/{account_id:path}", response_class=HTMLResponse, include_in_schema=False)
    def ui_account(account_id: str) -> Any:
        return HTMLResponse(web.account_page(live.get(), account_id))

    @app.get("/ui/prompts/{prompt_id:path}", response_class=HTMLResponse, include_in_schema=False)
    def ui_prompt(prompt_id: str, k: K = 10) -> Any:
        return HTMLResponse(web.prompt_page(live.get(), prompt_id, k))

    @app.get("/ui/clusters", response_class=HTMLResponse, include_in_schema=False)
    def ui_clusters(offset: Offset = 0) -> Any:
        return HTMLResponse(web.clusters_page(live.get(), offset=offset))

    @app.get("/ui/clusters/{cluster_id}", response_class=HTMLResponse, include_in_schema=False)
    def ui_cluster(cluster_id: int) -> Any:
        return HTMLResponse(web.cluster_page(live.get(), cluster_id))

    @app.get("/ui/search", response_class=HTMLResponse, include_in_schema=False)
    def ui_search(text: Annotated[str, Query(max_length=20_000)] = "", prompt_id: str = "", k: K = 10) -> Any:
        return HTMLResponse(web.search_page(live.get(), text=text, prompt_id=prompt_id, k=k))

    return app


def serve(store: str | Path, *, host: str = "127.0.0.1", port: int = 8000, api_key: str | None = None,
          quiet: bool = False) -> None:  # fmt: skip
    """Run the app under uvicorn until interrupted."""
    import uvicorn

    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app(store, api_key=api_key)
    if not quiet:
        print(f"promptsim: serving {store} (snapshot {app.state.live.loaded}) at http://{host}:{port}/  API docs /docs")
    uvicorn.run(app, host=host, port=port, log_level="warning" if quiet else "info", access_log=not quiet)
