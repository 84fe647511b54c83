"""The web desk's application: `create_app(settings)` wires the services, the session keys
and the templates, and registers the pages and the JSON API.

The desk calls the same services and read side as the CLI. Who acts and with which role
comes from the signed-in user's record, never from the request.
"""

from __future__ import annotations

from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException

from xunshi.bootstrap import services
from xunshi.config import Settings
from xunshi.errors import BadInput, NotFound
from xunshi.idempotency import new_request_id
from xunshi.web.api import router as api_router
from xunshi.web.desk import Desk, SignInNeeded, desk_of
from xunshi.web.inbox import router as inbox_router
from xunshi.web.items import router as items_router
from xunshi.web.items_api import router as items_api_router
from xunshi.web.pages import router as pages_router
from xunshi.web.reports import router as reports_router
from xunshi.web.reports import sees_clues
from xunshi.web.sessions import Sessions
from xunshi.workflow.clock import Clock

HERE = Path(__file__).resolve().parent
# A short pause after each failed sign-in: guessing slows down before the lock comes.
FAILURE_DELAY = 1.0
NOT_FOUND = "找不到这个页面"
# Worker threads for the pages (each keeps its own database connection): fewer than the
# connection pool holds (5 + 10 overflow), so that a busy desk waits for a thread, not for
# a connection that no thread will give back.
WORKER_THREADS = 8


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    failure_delay: float = FAILURE_DELAY,
) -> FastAPI:
    """The desk's ASGI application over the database of `settings`."""
    found = services(settings, clock)
    found.schema.require_current()
    secret = settings.secret_key or found.users.session_secret()
    templates = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    templates.globals["sees_clues"] = sees_clues
    # Each form rendered carries a request id of its own: sent twice (a double click, a
    # resubmitted page), it is carried out once.
    templates.globals["new_request_id"] = new_request_id
    app = FastAPI(
        title="xunshi web desk API",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # the interactive docs would fetch their assets from a CDN
        redoc_url=None,
    )
    app.state.desk = Desk(found, Sessions(secret, found.now), templates, failure_delay)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(pages_router)
    app.include_router(reports_router)
    app.include_router(api_router)
    app.include_router(items_router)
    app.include_router(inbox_router)
    app.include_router(items_api_router)
    app.add_exception_handler(SignInNeeded, _to_sign_in)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(NotFound, _not_found)
    # A key that cannot name anything (`/cases/a b/U01`) names nothing: not found.
    app.add_exception_handler(BadInput, _not_found)
    app.router.on_startup.append(_limit_threads)
    app.router.on_shutdown.append(found.close)
    return app


async def _limit_threads() -> None:
    anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS


async def _to_sign_in(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInNeeded)
    return RedirectResponse("/signin?expired=1" if exc.expired else "/signin", status_code=303)


async def _not_found(request: Request, _exc: Exception) -> Response:
    # Whatever does not exist and whatever is outside the user's scope look the same.
    return await _http_error(request, HTTPException(404, NOT_FOUND))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/"):
        detail = "not found" if exc.status_code == 404 else exc.detail
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)
    message = NOT_FOUND if exc.status_code == 404 else exc.detail
    return desk_of(request).render(
        "error.html", None, exc.status_code, code=exc.status_code, message=message, user=None
    )
