"""Errors for HTTP clients: a status and a one-line message, never a traceback."""

from __future__ import annotations


class Problem(Exception):
    """An HTTP error with a message for the client (plain text, no traceback)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class QueryTimeout(Exception):
    """A query ran past its deadline (the server's ``--timeout``)."""


def timeout_problem(limit: float) -> Problem:
    return Problem(
        503,
        f"the query ran past the time limit of {limit:g} s (the server's --timeout); "
        "narrow it (LIMIT, more specific patterns) and try again",
    )
