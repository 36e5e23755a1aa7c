"""The remote store's HTTP: one request to a SPARQL server, its credentials, and what its failures mean.

Standard library only (urllib).  Credentials: Basic or Digest when the server asks
(``EVIDENCEGRAPH_USER``/``EVIDENCEGRAPH_PASSWORD``), or a bearer token up front
(``EVIDENCEGRAPH_TOKEN``).  Every failure is a :class:`StoreError` or a :class:`QueryError`
whose message says what to set or fix.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from typing import Any, Iterable

from .errors import QueryError, StoreError

TIMEOUT = 300.0  # seconds without a byte from the server


class Http:
    """Requests to one server's endpoints (``urls``: those the credentials are for)."""

    def __init__(self, urls: Iterable[str], user: str | None = None, password: str | None = None,
                 token: str | None = None):
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        handlers: list[urllib.request.BaseHandler] = []
        if user is not None:
            # Credentials go out when the server asks (401 with a challenge), Basic or Digest as it
            # says; Basic ones are then sent up front (see BasicAuth).  Sent up front before any
            # challenge, Basic credentials make a Digest server (Virtuoso) refuse with a bare 401.
            passwords = urllib.request.HTTPPasswordMgrWithPriorAuth()
            for url in set(urls):
                passwords.add_password(None, url, user, password or "", is_authenticated=False)
            handlers = [BasicAuth(passwords), urllib.request.HTTPDigestAuthHandler(passwords)]
        self.opener = urllib.request.build_opener(*handlers)

    def open(
        self, method: str, url: str, body: bytes | None, headers: dict[str, str], what: str, missing_ok: bool = False
    ) -> Any:
        """Send one request; the open response (close it), or None for a 404 when ``missing_ok``.

        :raises StoreError: the server cannot be reached or answers with an error.
        :raises QueryError: the server refuses a query (400).
        """
        request = urllib.request.Request(url, body, {**headers, **self.headers}, method=method)
        try:
            return self.opener.open(request, timeout=TIMEOUT)
        except urllib.error.HTTPError as e:
            with e:
                detail = first_line(e.read())
            if e.code == 404 and missing_ok:
                return None
            if e.code in (401, 403):
                raise StoreError(
                    f"{url} refused the {what} ({e.code} {e.reason}); set EVIDENCEGRAPH_USER and "
                    "EVIDENCEGRAPH_PASSWORD, or EVIDENCEGRAPH_TOKEN, to credentials allowed to do it"
                ) from None
            if e.code == 400 and what == "query":
                raise QueryError(f"the server refused the query: {detail}; fix the query and try again") from None
            if e.code in (404, 405):
                setting = {"query": "QUERY", "update": "UPDATE"}.get(what, "GSP")
                raise StoreError(
                    f"{url} is not a SPARQL {what} endpoint ({e.code} {e.reason}); "
                    f"set EVIDENCEGRAPH_{setting}_URL (see Remote stores in the README)"
                ) from None
            raise StoreError(f"the SPARQL server failed the {what} ({e.code} {e.reason}: {detail}); "
                             "check the server's log and try again") from None
        except ValueError as e:
            raise StoreError(f"{url} is not a valid URL ({e}); fix --store or the EVIDENCEGRAPH_*_URL settings") from None
        except (OSError, http.client.HTTPException) as e:
            reason = getattr(e, "reason", None) or e
            raise StoreError(
                f"cannot reach the SPARQL server at {url} ({reason}); start it, or fix --store "
                "(and EVIDENCEGRAPH_QUERY_URL, _UPDATE_URL, _GSP_URL)"
            ) from None

    def send(self, method: str, url: str, body: bytes | None, headers: dict[str, str], what: str,
             missing_ok: bool = False) -> None:
        """Send one request whose answer is not needed: read whole (a broken connection fails it), then closed."""
        response = self.open(method, url, body, headers, what, missing_ok)
        if response is not None:
            with response:
                read_body(response, url)


class BasicAuth(urllib.request.HTTPBasicAuthHandler):
    """Basic credentials in answer to a Basic challenge, and up front once they have worked.

    (The standard handler marks a URL authenticated after any success, a Digest one too,
    and would then send Basic credentials to a Digest server.)
    """

    def http_response(self, req: urllib.request.Request, response: Any) -> Any:
        if (req.get_header("Authorization") or "").startswith("Basic "):
            return super().http_response(req, response)
        return response

    https_response = http_response


def read_body(response: Any, url: str) -> bytes:
    try:
        return bytes(response.read())
    except (OSError, http.client.HTTPException) as e:
        raise StoreError(f"the connection to {url} broke ({e}); try again") from None


def first_line(body: bytes, limit: int = 200) -> str:
    text = " ".join(body.decode("utf-8", "replace").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
