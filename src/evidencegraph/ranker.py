"""The search index's ranking: a tantivy index of the texts of ``search.sqlite``, kept beside it.

SQLite FTS5 ranks by bm25 row by row: a word in a third of the texts of a
100,000-page store (150,000 matches) takes 100 ms however few hits are
shown.  tantivy (Lucene's design, in Rust) keeps BM25's per-block maxima and
skips the blocks that cannot reach the top: the same query takes about
1 ms.  It holds, for each row of the ``docs`` table, its id, kind, type and
text (case and accents folded: ``simple`` tokenizer, lower case, ASCII
folding), and nothing the ``docs`` table does not have: it is derived data
of derived data, built again from the table in a second or two when it does
not follow it.

It follows it by a *generation*: every transaction that changes the table
sets a new one (``meta.ranked`` in ``search.sqlite``), and once tantivy has
the same change committed, the generation is written beside it
(``search.tantivy/generation``).  SQLite commits first, so tantivy is never
ahead of a generation it claims.  Only while the two agree does search.py
rank with tantivy; otherwise (a write that died in between, another
process's write not seen yet, no tantivy installed, an old store opened
read-only) it ranks with FTS5 as before, and the next writer to open the
store builds this index again.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from .guard import LazyLog

log = LazyLog(__name__)

FOLDER = "search.tantivy"
FORMAT = "1"  # the schema below; another one is built again
_TOKENIZER = "fold"


def available() -> bool:
    """Whether tantivy imports (not only whether it is installed: a build that cannot load counts as absent)."""
    try:
        importlib.import_module("tantivy")
    except ImportError:
        return False
    return True


# One capture of the process's stderr at a time (see _panic_text_dropped): two threads swapping file
# descriptor 2 at once could leave it pointing at the other's capture.  (Re-entrant: a capture within a
# capture saves and restores the outer one's descriptor.)
_STDERR = threading.RLock()


def _is_panic(e: BaseException) -> bool:
    return type(e).__name__ == "PanicException"


@contextlib.contextmanager
def _no_panic() -> Iterator[None]:
    """A panic inside tantivy (a damaged segment can trip one of its assertions) as the ValueError its other
    failures are: pyo3 raises it as ``PanicException``, a BaseException that no ``except Exception`` catches
    (it cannot be imported: it is matched by name).  The text Rust prints for it is dropped (below)."""
    try:
        with _panic_text_dropped():
            yield
    except BaseException as e:
        if _is_panic(e):
            raise ValueError(f"tantivy failed: {e}") from None
        raise


@contextlib.contextmanager
def _panic_text_dropped() -> Iterator[None]:
    """Rust's panic hook writes "thread '…' panicked at …" (and a backtrace) to file descriptor 2 itself,
    past Python, before pyo3 turns the panic into the exception: a user would see it above the handled error.
    So the call's stderr goes to a temporary file, dropped when it panicked and written to stderr after it
    otherwise (whatever another thread wrote in between is late, not lost)."""
    with _STDERR:
        try:
            sys.stderr.flush()
        except (OSError, ValueError, AttributeError):
            pass
        try:
            saved = os.dup(2)
        except OSError:  # no stderr to capture
            yield
            return
        panicked = False
        with tempfile.TemporaryFile() as capture:
            os.dup2(capture.fileno(), 2)
            try:
                yield
            except BaseException as e:
                panicked = _is_panic(e)
                raise
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                if not panicked:
                    capture.seek(0)
                    text = capture.read()
                    while text:
                        text = text[os.write(2, text):]


def _schema() -> Any:
    import tantivy

    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("id", fast=True, indexed=True)
    sb.add_text_field("text", tokenizer_name=_TOKENIZER, index_option="position")
    sb.add_text_field("kind", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("type", tokenizer_name="raw", index_option="basic")
    return sb.build()


def _analyzer() -> Any:
    import tantivy

    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.lowercase()).filter(tantivy.Filter.ascii_fold()).build())


class Ranker:
    """The tantivy index in ``folder/search.tantivy`` (see the module's docstring).  Not thread-safe: the
    SearchIndex that owns it calls it under its lock.

    :raises OSError, ValueError: it cannot be opened (search.py then ranks with FTS5).
    """

    def __init__(self, folder: Path, read_only: bool):
        import tantivy

        self.path = folder / FOLDER
        self.read_only = read_only
        self._writer: Any = None
        self.schema = _schema()
        self.analyzer = _analyzer()
        if not read_only and self._stamp().get("format") != FORMAT:
            shutil.rmtree(self.path, ignore_errors=True)  # another format (or none): built again by the owner
        if not read_only:
            self.path.mkdir(exist_ok=True)
        if not (self.path / "meta.json").exists():
            if read_only:
                raise FileNotFoundError(f"{self.path}: no ranking index")
            self.index = tantivy.Index(self.schema, path=str(self.path))
        else:
            try:
                with _no_panic():
                    self.index = tantivy.Index.open(str(self.path))
            except ValueError:
                if read_only:
                    raise
                shutil.rmtree(self.path)  # damaged: built again by the owner (the generation is gone with it)
                self.path.mkdir()
                self.index = tantivy.Index(self.schema, path=str(self.path))
        self.index.register_tokenizer(_TOKENIZER, self.analyzer)
        self.loaded = self._stamp().get("generation")  # what the searcher below sees
        with _no_panic():
            self.searcher = self.index.searcher()

    # --- the generation ---------------------------------------------------------------------

    def _stamp(self) -> dict[str, Any]:
        try:
            stamp: dict[str, Any] = json.loads((self.path / "generation").read_text("utf-8"))
            return stamp
        except (OSError, ValueError):
            return {}

    @property
    def generation(self) -> str | None:
        """The generation of ``search.sqlite`` whose texts this index holds (None: unknown)."""
        stamp = self._stamp()
        return stamp.get("generation") if stamp.get("format") == FORMAT else None

    def _set_generation(self, generation: str | None) -> None:
        tmp = self.path / "generation.tmp"
        tmp.write_text(json.dumps({"format": FORMAT, "generation": generation}), "utf-8")
        os.replace(tmp, self.path / "generation")

    def current(self, generation: str | None) -> bool:
        """Whether this index holds the texts of ``generation`` (and the searcher sees them)."""
        if generation is None or self.generation != generation:
            return False
        if self.loaded != generation:  # committed by another process (or by this one) since the searcher was made
            with _no_panic():
                self.index.reload()
                self.searcher = self.index.searcher()
            self.loaded = generation
        return True

    # --- writing ----------------------------------------------------------------------------

    def _w(self) -> Any:
        if self._writer is None:
            self._writer = self.index.writer(heap_size=32_000_000, num_threads=1)
        return self._writer

    def apply(self, generation: str, clear: bool, deleted: Iterable[int],
              added: Iterable[Sequence[Any]]) -> None:
        """One committed transaction of ``search.sqlite``: all rows cleared, ``deleted`` ids gone, ``added``
        rows (id, kind, type, text) new; then ``generation`` is the one this index holds.  A failure leaves
        the generation as it was (stale: FTS5 ranks until the index is built again)."""
        import tantivy

        self._set_generation(None)  # from here until the commit, this index follows no generation
        try:
            with _no_panic():
                w = self._w()
                if clear:
                    w.delete_all_documents()
                for i in deleted:
                    w.delete_documents_by_term("id", i)
                for id_, kind, type_, text in added:
                    w.add_document(tantivy.Document(id=id_, kind=kind, type=type_ or "", text=text))
                w.commit()
        except BaseException:
            self._writer = None  # (its uncommitted documents are dropped with it; the next write starts afresh)
            raise
        self._set_generation(generation)

    def rebuild(self, generation: str, rows: Iterable[Sequence[Any]]) -> None:
        """All of ``search.sqlite``'s rows (id, kind, type, text), as of ``generation``."""
        self.apply(generation, True, (), rows)

    def close(self) -> None:
        if self._writer is not None:
            try:
                with _no_panic():
                    self._writer.wait_merging_threads()
            except (ValueError, OSError) as e:  # a merge that failed: the segments it read are still there
                log.debug("%s: %s", self.path, e)
            self._writer = None

    # --- reading ----------------------------------------------------------------------------

    def query(self, words: Sequence[str], kind: str | None, type: str | None) -> Any:
        """Every word (each as its tokens: a phrase when it has several), of this kind and type (filters: they
        add nothing to the score); None when a word has no token."""
        import tantivy

        schema, must = self.schema, tantivy.Occur.Must
        clauses = []
        for word in words:
            tokens = self.analyzer.analyze(word)
            if not tokens:
                return None
            clauses.append((must, tantivy.Query.term_query(schema, "text", tokens[0]) if len(tokens) == 1
                            else tantivy.Query.phrase_query(schema, "text", tokens)))
        for name, value in (("kind", kind), ("type", type)):
            if value:
                clauses.append((must, tantivy.Query.const_score_query(
                    tantivy.Query.term_query(schema, name, value), 0.0)))
        return tantivy.Query.boolean_query(clauses)

    def count(self, words: Sequence[str]) -> int | None:
        q = self.query(words, None, None)
        if q is None:
            return None
        with _no_panic():
            result = self.searcher.search(q, 1, count=True)  # (a limit of 0: tantivy refuses it)
        return int(result.count)  # type: ignore[attr-defined]  # (the stubs lack it)

    def top(self, q: Any, limit: int, offset: int = 0) -> list[tuple[int, float]]:
        """The ``limit`` best rows (id, score: higher is better) after the first ``offset``."""
        with _no_panic():
            hits = self.searcher.search(q, limit, count=False, offset=offset).hits
            ids = self.searcher.fast_field_values("id", [address for _, address in hits])
        return [(int(i), float(score)) for (score, _), i in zip(hits, ids) if i is not None]
