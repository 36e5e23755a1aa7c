"""The routes and the settings of ``evidencegraph serve``, and the way it runs.

Each route's handler lives with its job: :mod:`.protocol` (SPARQL 1.1
Protocol and the named questions), :mod:`.graphstore` (Graph Store
Protocol), :mod:`.pages` (linked-data documents and the query page).
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any, Callable

from ..errors import EvidenceGraphError, UsageError
from ..store import Store
from . import graphstore, pages, protocol
from .search import search
from .context import Context, Settings
from .limits import DEFAULT_MAX_BODY, MAX_HEADER_BYTES, BodyLimit, ReadCors
from .problem import Problem

__all__ = ["Settings", "create_app", "run", "check_port"]

log = logging.getLogger(__name__)

Handler = Callable[[Context, Any], Any]


def create_app(store: Store, settings: Settings) -> Any:
    """The Starlette application over an open store."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    ctx = Context(store, settings)

    def guarded(fn: Handler) -> Callable[..., Any]:
        async def endpoint(request: Any) -> Any:
            try:
                ctx.refresh()
                return await fn(ctx, request)
            except Problem as p:
                if p.status == 404 and pages.wants_html(request):
                    return pages.not_found(request, p)
                return PlainTextResponse(p.message + "\n", p.status, headers=p.headers)
            except EvidenceGraphError as e:
                return PlainTextResponse(f"{e}\n", 400)
            except Exception:  # no traceback to clients; the log has it
                log.exception("request failed: %s %s", request.method, request.url.path)
                return PlainTextResponse("internal error; the server log has the details\n", 500)

        return endpoint

    read = ["GET", "HEAD"]
    write_methods = ["PUT", "POST", "DELETE"]
    routes = [
        Route("/", guarded(pages.home), methods=read),
        Route("/sparql", guarded(protocol.sparql), methods=[*read, "POST"]),
        Route("/sparql/", guarded(protocol.sparql), methods=[*read, "POST"]),
        Route("/update", guarded(protocol.update), methods=["POST"]),
        Route("/store", guarded(graphstore.graph_store), methods=[*read, *write_methods]),
        Route("/store/{rest:path}", guarded(graphstore.graph_store), methods=[*read, *write_methods]),
        Route("/id/{rest:path}", guarded(pages.resource), methods=read),
        Route("/doc/{rest:path}", guarded(pages.document), methods=read),
        Route("/ontology", guarded(pages.ontology), methods=read),
        Route("/.well-known/void", guarded(pages.void), methods=read),
        Route("/question/", guarded(pages.questions), methods=read),
        Route("/search", guarded(search), methods=read),
        Route("/question/{name}", guarded(protocol.question), methods=read),
        Route("/assets/{name:path}", guarded(pages.asset), methods=read),
    ]
    middleware = [Middleware(BodyLimit, limit=settings.max_body), Middleware(ReadCors)]

    async def missing(request: Any, exc: Exception) -> Any:
        return await guarded(pages.nowhere)(request)

    app = Starlette(routes=routes, middleware=middleware, exception_handlers={404: missing})
    app.state.context = ctx  # app.state.context.close() ends the query workers
    return app


# --- running ---------------------------------------------------------------------------


def check_port(host: str, port: int) -> None:
    """Fail early, with a clear message, when the address cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            raise UsageError(f"cannot listen on {host}:{port} ({e.strerror}); choose another --port or --host") from None


def run(
    store_dir: str | None,
    host: str = "127.0.0.1",
    port: int = 8000,
    base: str | None = None,
    timeout: float = 30.0,
    max_rows: int = 10000,
    allow_update: bool = False,
    workers: int = 4,
    log_level: str = "info",
    max_body: int = DEFAULT_MAX_BODY,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the store until interrupted.

    :raises UsageError: --allow-update without EVIDENCEGRAPH_TOKEN, bad limits, or an address in use.
    :raises StoreError: no store at the location.
    """
    import uvicorn

    from ..pipeline import base_from_env
    from ..stores import open_store

    token = os.environ.get("EVIDENCEGRAPH_TOKEN") or None
    if allow_update and not token:
        raise UsageError("--allow-update needs a token: set EVIDENCEGRAPH_TOKEN; clients then send Authorization: Bearer <token>")
    if timeout <= 0 or max_rows <= 0 or workers <= 0 or max_body <= 0:
        raise UsageError("--timeout, --max-rows, --workers and --max-body must be positive")
    check_port(host, port)
    settings = Settings(base=base_from_env(base), timeout=timeout, max_rows=max_rows, allow_update=allow_update,
                        token=token, workers=workers, max_body=max_body)
    with open_store(store_dir, read_only=not allow_update) as store:
        app = create_app(store, settings)
        config = uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="off", http="h11",
                                h11_max_incomplete_event_size=MAX_HEADER_BYTES, timeout_graceful_shutdown=3)
        context: Context = app.state.context

        class Server(uvicorn.Server):
            def handle_exit(self, sig: int, frame: Any) -> None:
                context.close()  # running queries end now (503), not when they are done
                super().handle_exit(sig, frame)

        server = Server(config)
        context.prestart()
        shown = f"[{host}]" if ":" in host else host
        log.info("serving %s on http://%s:%d/ (%s)", store.location, shown, port,
                 "updates allowed with the token" if allow_update else "read-only")
        if ready:
            ready(f"http://{shown}:{port}/")
        try:
            _serve_until_stopped(server)
        finally:
            context.shutdown()


def _serve_until_stopped(server: Any) -> None:
    """Run uvicorn; Ctrl-C or SIGTERM is the normal way to stop (exit 0, no "Aborted!")."""
    import signal
    import threading

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
