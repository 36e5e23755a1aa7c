"""What every handler shares: the settings, the open store, the query
workers, worker threads, the write lock, authorization and request parts.

Queries from clients run in worker processes (:meth:`Context.query`).  The
server's own reads (documents, the Graph Store, VoID) run in threads
(:meth:`Context.in_worker`); pyoxigraph query results are read and
serialised in the thread that ran the query (handing them to another thread
crashed the process in a trial), so those threads give back bytes.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qsl

import pyoxigraph as ox

from ..errors import EvidenceGraphError
from ..store import Store
from ..vocab import DEFAULT_BASE
from .iris import Paths
from .negotiation import content_type
from .problem import Problem, QueryTimeout, timeout_problem
from .results import Answer
from .worker import CHECK_EVERY, store_token
from .workers import QueryPool

log = logging.getLogger(__name__)


@dataclass
class Settings:
    """How the server runs; ``serve``'s options."""

    base: str = DEFAULT_BASE
    timeout: float = 30.0
    max_rows: int = 10000
    allow_update: bool = False
    token: str | None = None
    workers: int = 4
    allow_service: bool = False
    max_body: int = 16 * 1024 * 1024  # bytes of a request body (see limits.py)
    extra: dict[str, Any] = field(default_factory=dict)


def contained(fn: Callable[..., Any], *args: Any) -> Any:
    """Call ``fn`` and let no pyoxigraph object leave this thread, not even through a traceback.

    An exception's traceback keeps the frames, and so the query results, alive;
    were it raised in the event loop's thread, the results would be dropped there,
    which pyoxigraph refuses (they are bound to the thread that made them).  So
    errors are re-raised as fresh exceptions once the originals (and their
    frames) are gone.
    """
    failure: tuple[Any, ...] | None = None
    try:
        return fn(*args)
    except QueryTimeout as e:
        _clear(e)
        failure = ("timeout",)
    except Problem as p:
        _clear(p)
        failure = ("problem", p.status, p.message, p.headers)
    except Exception as e:
        log.error("a worker failed: %s", "".join(traceback.format_exception(e)).rstrip())
        _clear(e)
        failure = ("problem", 500, "internal error; the server log has the details", {})
    if failure[0] == "timeout":
        raise QueryTimeout()
    raise Problem(*failure[1:])


def _clear(error: BaseException) -> None:
    """Drop the locals of the frames an exception (and those it was raised from) holds, here and now.

    A frame that handled an exception and raised another keeps both in a
    reference cycle, which the garbage collector would break later in any
    thread, dropping pyoxigraph objects there.
    """
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        traceback.clear_frames(e.__traceback__)
        todo += [e.__context__, e.__cause__]


class Context:
    """The open store and settings, and the plumbing the handlers share."""

    def __init__(self, store: Store, settings: Settings):
        self.store = store
        self.db: Any = store.db  # raises StoreError for a remote store: serve needs a folder
        self.settings = settings
        self.paths = Paths(settings.base)
        self._limiter: Any = None
        self.write_lock = threading.Lock()
        self.pool = QueryPool(store.path / "oxigraph", settings.workers)
        self._token = store_token(store.path / "oxigraph")
        self._checked = time.monotonic()

    def refresh(self) -> None:
        """See the store as it is now: a read-only database is a snapshot, opened again
        when its files have changed (looked at once a second at most)."""
        if not self.store.read_only or time.monotonic() - self._checked < CHECK_EVERY:
            return
        self._checked = time.monotonic()
        token = store_token(self.store.path / "oxigraph")
        if token == self._token:
            return
        from ..stores import open_store

        try:
            store = open_store(self.store.path, read_only=True)
        except (EvidenceGraphError, OSError, RuntimeError) as e:  # a writer mid-compaction: next time
            log.warning("could not open the store again (%s); serving the snapshot opened before", e)
            return
        self._token, self.store, self.db = token, store, store.db  # the old snapshot goes when its last reader is done

    async def query(self, sparql: str, accept: str | None, forced: Any, default: list[str] | None,
                    named: list[str] | None, subs: dict[str, Any] | None, base: str | None) -> Answer:
        """Run a query in a worker process, within the time limit (see workers.py)."""
        job = (sparql, accept, forced, self.settings.max_rows, default, named, subs, base)
        return await self.pool.run(job, self.settings.timeout)

    def prestart(self) -> None:
        """Start the query workers now (``serve`` does; tests' servers start them on first use)."""
        self.pool.prestart()

    def close(self) -> None:
        """End the query workers (the server is stopping)."""
        self.pool.close()

    def shutdown(self) -> None:
        self.pool.shutdown()

    @property
    def limiter(self) -> Any:
        import anyio

        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.settings.workers)
        return self._limiter

    async def in_worker(self, fn: Callable[..., Any], *args: Any, timeout: float | None = None) -> Any:
        """Run ``fn`` in a worker thread; 503 when it runs past the time limit."""
        import anyio

        limit = self.settings.timeout if timeout is None else timeout
        with anyio.move_on_after(limit):
            try:
                return await anyio.to_thread.run_sync(contained, fn, *args, abandon_on_cancel=True, limiter=self.limiter)
            except QueryTimeout:
                pass
        raise timeout_problem(limit)

    async def writing(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a write in a worker thread, one at a time, to completion."""
        import anyio

        def locked() -> Any:
            with self.write_lock:
                try:
                    return fn(*args)
                finally:
                    self.pool.generation += 1  # the query workers open the database again

        return await anyio.to_thread.run_sync(contained, locked)

    def authorize(self, request: Any) -> None:
        """Let a write through only on a writable server with the right bearer token."""
        if not self.settings.allow_update:
            raise Problem(403, "this server is read-only; start it with --allow-update (and EVIDENCEGRAPH_TOKEN set) to accept writes")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        expected = (self.settings.token or "").encode()
        if scheme.lower() != "bearer" or not token.strip() or not expected or not hmac.compare_digest(token.strip().encode(), expected):
            raise Problem(401, "writes need the header Authorization: Bearer <token> (the server's EVIDENCEGRAPH_TOKEN)",
                          {"WWW-Authenticate": 'Bearer realm="evidencegraph"'})

    def respond(self, answer: Answer, vary: bool = True) -> Any:
        from starlette.responses import Response

        headers = dict(answer.headers)
        if vary:
            headers["Vary"] = "Accept"
        return Response(answer.body, answer.status, headers=headers, media_type=content_type(answer.media))


# --- request parts ------------------------------------------------------------------


def split_type(header: str | None) -> tuple[str, str | None]:
    """``Content-Type`` -> (media type, charset or None).

    >>> split_type("application/sparql-query; charset=UTF-8")
    ('application/sparql-query', 'utf-8')
    """
    if not header:
        return "", None
    media, *params = header.split(";")
    charset = None
    for p in params:
        k, _, v = p.strip().partition("=")
        if k.strip().lower() == "charset":
            charset = v.strip().strip('"').lower()
    return media.strip().lower(), charset


def form(body: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(body.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise Problem(400, "the form body is not URL-encoded UTF-8") from None


def utf8(body: bytes, charset: str | None, what: str) -> str:
    if charset and charset not in ("utf-8", "utf8"):
        raise Problem(415, f"send the {what} in UTF-8 (charset={charset} is not supported)")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(400, f"the {what} is not valid UTF-8") from None


def iris(values: list[str], name: str) -> list[ox.NamedNode]:
    try:
        return [ox.NamedNode(v) for v in values]
    except ValueError as e:
        raise Problem(400, f"{name}: not an absolute IRI ({e})") from None
