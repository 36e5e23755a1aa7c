"""The search index's tantivy ranking (ranker.py): it finds what FTS5 finds, follows every write, and a
ranking that does not follow the index (stale, missing, damaged, another process's write) is never used."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import PAGES, invoke
from evidencegraph import ranker
from evidencegraph.search import SearchIndex
from evidencegraph.store import Store

pytestmark = [pytest.mark.usefixtures("collect_cycles_after_each_test"),
              pytest.mark.skipif(not ranker.available(), reason="tantivy is not installed")]

WORDS = ["policy", "trade", "security", "Belgium", "european union", "cooperation", "e_mail", "côte"]


def hits(index: SearchIndex, word: str, use_ranker: bool, **kw: object) -> list[tuple[str, float]]:
    saved = index.ranker
    if not use_ranker:
        index.ranker = None
    try:
        return [(h.node, h.score) for h in index.search(word, limit=kw.pop("limit", 1000), **kw)]  # type: ignore[arg-type]
    finally:
        index.ranker = saved


def used(index: SearchIndex, word: str, kind: str | None = None, type: str | None = None) -> bool:
    from evidencegraph.searchhits import fts_query

    with index.lock:
        return index._ranked(word, fts_query(word), kind, type) is not None


def same_hits(index: SearchIndex, word: str, **kw: object) -> list[str]:
    """The nodes found with the ranker, after checking they are those FTS5 finds (the ranks are both BM25,
    but Lucene's idf and tantivy's length norms are not SQLite's: the order may differ among near-equals)."""
    ranked, fts = hits(index, word, True, **dict(kw)), hits(index, word, False, **dict(kw))
    assert sorted(n for n, _ in ranked) == sorted(n for n, _ in fts), word
    scores = [s for _, s in ranked]
    assert scores == sorted(scores), word  # best (lowest, as FTS5's bm25) first
    return [n for n, _ in ranked]


@pytest.fixture
def corpus(corpus_store, tmp_path) -> Path:
    copy = tmp_path / "store"
    shutil.copytree(corpus_store, copy)
    return copy


def test_the_ranker_finds_what_fts5_finds_and_ranks_the_same_best(corpus):
    store = Store(corpus)
    index = store.search_index()
    for word in WORDS:
        assert used(index, word), word
        nodes = same_hits(index, word)
        if nodes:
            top = hits(index, word, True, limit=1)[0][0]
            fts_best = hits(index, word, False, limit=5)
            assert top in [n for n, _ in fts_best], word  # the same BM25 at the top, whatever the tie-breaks
    for kind in ("fact", "source", "entity"):
        assert used(index, "policy", kind=kind)
        same_hits(index, "policy", kind=kind)
    assert same_hits(index, "policy", type="claim")
    assert same_hits(index, "policy", type="claim", kind="entity") == []
    assert not used(index, "polic*")  # a prefix: FTS5 ranks (tantivy's prefix queries have no BM25)
    assert hits(index, "polic*", True) == hits(index, "polic*", False)
    store.close()


def test_the_ranker_follows_replace_and_remove(sample_store, tmp_path):
    pages = tmp_path / "pages"  # (the sample_store fixture's copy of the pages)
    page = next(p for p in sorted(pages.glob("*.txt")) if "Harmonious" in p.read_text("utf-8")
                or "harmonious" in p.read_text("utf-8"))
    page.write_text(page.read_text("utf-8").replace("harmonious", "zanzibarian"), "utf-8")
    assert invoke(CliRunner(), "ingest", str(pages), "--store", str(sample_store), "-q").exit_code in (0, 1)
    store = Store(sample_store)
    index = store.search_index()
    assert used(index, "zanzibarian") and len(same_hits(index, "zanzibarian")) == 1
    assert same_hits(index, "harmonious") == []
    store.close()
    assert invoke(CliRunner(), "remove", page.name, "--store", str(sample_store)).exit_code == 0
    store = Store(sample_store)
    index = store.search_index()
    assert used(index, "zanzibarian") and same_hits(index, "zanzibarian") == []
    assert used(index, "belgium") and same_hits(index, "belgium")
    store.close()


def test_a_ranking_that_does_not_follow_the_index_is_not_used_and_a_writer_builds_it_again(sample_store, caplog):
    stamp = sample_store / ranker.FOLDER / "generation"
    assert json.loads(stamp.read_text())["generation"]  # ingest built it
    stamp.write_text(json.dumps({"format": ranker.FORMAT, "generation": "another"}))  # a write that died half-way
    reader = Store(sample_store, read_only=True)
    index = reader.search_index()
    assert not used(index, "belgium")
    assert [h.node for h in index.search("belgium", limit=50)]  # FTS5 answers
    reader.close()
    store = Store(sample_store)
    index = store.search_index()  # a writer: built again
    assert used(index, "belgium") and same_hits(index, "belgium")
    store.close()


@pytest.mark.parametrize("damage", ["missing", "garbage", "garbage index", "garbage segments", "other format"])
def test_a_missing_or_damaged_ranking_is_built_again_by_a_writer_and_never_breaks_search(sample_store, damage):
    folder = sample_store / ranker.FOLDER
    if damage == "missing":
        shutil.rmtree(folder)
    elif damage.startswith("garbage"):
        keep = {"garbage": set(), "garbage index": {"generation"}, "garbage segments": {"generation", "meta.json"}}
        for f in folder.iterdir():
            if f.is_file() and f.name not in keep[damage] and not f.name.startswith("."):
                f.write_bytes(b"\x00garbage{")
    else:
        (folder / "generation").write_text(json.dumps({"format": "0", "generation": "x"}))
    searched_then_ranked_again(sample_store)


def searched_then_ranked_again(store_dir: Path, reader_ranks: bool = True) -> None:
    """A reader and the command line find "belgium" (FTS5 ranks, or a ranking it could open when
    ``reader_ranks``), and then a writer ranks with tantivy again, as FTS5 would."""
    reader = Store(store_dir, read_only=True)
    if not reader_ranks:
        assert reader.search_index().ranker is None
    assert [h.node for h in reader.search_index().search("belgium", limit=50)]
    reader.close()
    result = invoke(CliRunner(), "search", "belgium", "--store", str(store_dir), "-f", "json")
    assert result.exit_code == 0 and json.loads(result.stdout), result.output
    store = Store(store_dir)
    index = store.search_index()
    assert used(index, "belgium") and same_hits(index, "belgium")
    store.close()


def test_a_reader_sees_another_writers_texts_ranked(sample_store, tmp_path):
    reader = Store(sample_store, read_only=True)
    index = reader.search_index()
    assert used(index, "belgium")
    extra = tmp_path / "extra"
    extra.mkdir()
    page = sorted(PAGES.glob("*.txt"))[0]
    text = page.read_text("utf-8")
    (extra / "other.txt").write_text(text.replace("Belgium", "Quuxland"), "utf-8")
    result = invoke(CliRunner(), "ingest", str(extra), "--store", str(sample_store), "-q")
    assert result.exit_code in (0, 1), result.output
    # the generation moved on and the ranker with it: the reader's ranking reloads, and finds what FTS5
    # finds (in the index: the hits' pages are read from the store the reader opened, as before)
    assert used(index, "quuxland") and index.ranker.loaded == index._generation()
    assert index.ranker.count(["quuxland"]) == index.db.execute(
        "SELECT count(*) FROM texts WHERE texts MATCH 'quuxland'").fetchone()[0] > 0
    same_hits(index, "quuxland")
    reader.close()
    store = Store(sample_store, read_only=True)
    assert "Quuxland" in [h.text for h in store.search_index().search("quuxland")]
    store.close()


def garbled_ranking(folder: Path) -> None:
    """A ranking of 2,000 texts whose positions file has random bytes in it: with tantivy 0.25-0.27, opening
    it panics (pyo3's PanicException, a BaseException: no ``except Exception`` catches it)."""
    import random

    r = ranker.Ranker(folder, False)
    r.rebuild("g", [(i, "fact", "claim", f"policy trade word{i} security") for i in range(2000)])
    r.close()
    rng = random.Random(1)
    for f in (folder / ranker.FOLDER).iterdir():
        if f.suffix == ".pos":
            data = bytearray(f.read_bytes())
            for _ in range(len(data) // 20):
                data[rng.randrange(len(data))] = rng.randrange(256)
            f.write_bytes(bytes(data))


def test_a_ranking_that_makes_tantivy_panic_is_an_error_search_can_handle(tmp_path):
    garbled_ranking(tmp_path)
    with pytest.raises(ValueError):
        ranker.Ranker(tmp_path, True)  # a reader: FTS5 ranks (search.py)
    r = ranker.Ranker(tmp_path, False)  # a writer: an empty one, for its owner to build again
    assert r.generation is None and r.count(["policy"]) == 0
    r.close()


def test_search_answers_and_a_writer_ranks_again_when_tantivy_panics(sample_store, tmp_path):
    generation = Store(sample_store, read_only=True)
    current = generation.search_index()._generation()
    generation.close()
    garbled_ranking(tmp_path)
    shutil.rmtree(sample_store / ranker.FOLDER)
    shutil.copytree(tmp_path / ranker.FOLDER, sample_store / ranker.FOLDER)
    (sample_store / ranker.FOLDER / "generation").write_text(json.dumps({"format": ranker.FORMAT, "generation": current}))
    searched_then_ranked_again(sample_store, reader_ranks=False)  # the reader: FTS5 ranks


def test_a_panicking_ranking_prints_no_rust_panic_text(sample_store, tmp_path):
    """Rust's panic hook writes "thread '…' panicked at …" to the process's stderr itself, past Python:
    the user sees the error handled (search answers from FTS5) and no such text."""
    import subprocess
    import sys

    garbled_ranking(tmp_path)
    shutil.rmtree(sample_store / ranker.FOLDER)
    shutil.copytree(tmp_path / ranker.FOLDER, sample_store / ranker.FOLDER)
    generation = json.loads((sample_store / ranker.FOLDER / "generation").read_text("utf-8"))
    assert generation["format"] == ranker.FORMAT
    for args in (["search", "belgium", "-f", "json"], ["query", "SELECT * WHERE { ?s ?p ?o } LIMIT 1"]):
        done = subprocess.run([sys.executable, "-m", "evidencegraph", *args, "--store", str(sample_store)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "panicked" not in done.stderr and "RUST_BACKTRACE" not in done.stderr, done.stderr
