"""Limits on what a client may send, and CORS only where it is documented.

- Request bodies: at most ``--max-body`` bytes (413 with the limit in the
  message), counted as they arrive, so a body without ``Content-Length``
  (chunked) is cut off too; nothing over the limit is ever held in memory.
- Headers: uvicorn's parser (h11) refuses a request whose head is larger
  than :data:`MAX_HEADER_BYTES` (400); see ``app.run``.
- CORS: any origin may read (GET, HEAD, and POST of a query to ``/sparql``);
  never for ``/update``, never with ``Authorization``, never PUT or DELETE.
"""

from __future__ import annotations

from typing import Any

from .negotiation import TRUNCATED_HEADER
from .problem import Problem

MAX_HEADER_BYTES = 16 * 1024
DEFAULT_MAX_BODY = 16 * 1024 * 1024
NO_CORS = ("/update",)

Scope = dict[str, Any]


def too_large(limit: int) -> Problem:
    return Problem(413, f"the request body is larger than {limit} bytes (the server's --max-body); send less at a time")


class BodyTooLarge(Problem):
    def __init__(self, limit: int):
        p = too_large(limit)
        super().__init__(p.status, p.message)


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``limit`` bytes."""

    def __init__(self, app: Any, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope.get("headers", []) if k == b"content-length"), None)
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await _plain(send, 400, "Content-Length is not a number")
                return
            if length > self.limit:
                await _drain(receive)
                await _plain(send, 413, too_large(self.limit).message, close=True)
                return
        seen = 0
        started = False

        async def counted() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    if message.get("more_body"):
                        await _drain(receive)
                    raise BodyTooLarge(self.limit)
            return message

        async def tracked(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge as e:
            if not started:
                await _plain(send, 413, e.message, close=True)


class ReadCors:
    """ASGI middleware: CORS for reads (any origin), none for ``/update``."""

    def __init__(self, app: Any):
        from starlette.middleware.cors import CORSMiddleware

        self.app = app
        self.cors = CORSMiddleware(
            app, allow_origins=["*"], allow_methods=["GET", "HEAD", "POST"], allow_headers=["Accept", "Content-Type"],
            expose_headers=[TRUNCATED_HEADER, "Location", "Warning", "Vary"], max_age=3600,
        )

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith(NO_CORS):
            await self.app(scope, receive, send)
            return
        await self.cors(scope, receive, send)


DRAIN = 8 * 1024 * 1024


async def _drain(receive: Any) -> None:
    """Read (and drop) what is left of a refused body, so that the client reads the answer
    rather than a reset connection; past :data:`DRAIN` bytes the connection is just closed."""
    left = DRAIN
    while left > 0:
        message = await receive()
        if message["type"] != "http.request":
            return
        left -= len(message.get("body", b""))
        if not message.get("more_body"):
            return


async def _plain(send: Any, status: int, message: str, close: bool = False) -> None:
    body = (message + "\n").encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
