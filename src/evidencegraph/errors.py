"""The project's errors: one base class, a few one-line subclasses.

Each class carries the process exit code the command line uses for it, so the
code is chosen once, here.
"""

from __future__ import annotations


class EvidenceGraphError(Exception):
    """Base of every error evidencegraph raises on purpose."""

    exit_code = 1


class PageError(EvidenceGraphError):
    """A page that cannot be read as a relation page.

    Carries the file name and the 1-based line the problem was found on.
    """

    def __init__(self, message: str, path: str = "<page>", line: int | None = None):
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


class DataError(EvidenceGraphError):
    """RDF data that cannot be read (syntax error, unknown format)."""


class UsageError(EvidenceGraphError):
    """A request that cannot be carried out as asked (bad format name, bad query)."""

    exit_code = 2


class QueryError(UsageError):
    """A SPARQL query that does not parse or is refused."""


class ServiceError(EvidenceGraphError):
    """A SERVICE endpoint that failed or gave an answer that cannot be read."""


class StoreError(EvidenceGraphError):
    """A store that cannot be opened or written."""

    written = 0  # pages of the batch being written that were written before the failure


class Interrupted(EvidenceGraphError):
    """A run stopped part way (Ctrl-C, or a store that failed); the message says what was kept."""


class ShapesError(EvidenceGraphError):
    """A user's shapes file that cannot be read, is not valid RDF, or holds a shape the engine refuses."""

    exit_code = 2
