"""The command line for a page's revisions and for store migration: history, diff, migrate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .cli import cli
from .clioptions import Failed, handle_errors, store_option
from .errors import StoreError, UsageError


def _one_page(store: Any, raw: str) -> str:
    from .pipeline import find_page

    hits = find_page(raw, store)
    if not hits:
        raise Failed(f"{raw}: no such page in the store; list them with: evidencegraph pages")
    if len(hits) > 1:
        raise UsageError(f"{raw} names {len(hits)} pages; name one by its IRI or entities")
    return hits[0]


def _revisions(store: Any, page: str) -> list[Any]:
    from .revisions import Revision

    history = getattr(store, "history", None)
    if history is None:
        raise StoreError("this store keeps no revisions (a remote store holds the current pages only)")
    revs = history.revisions(page)
    current = store.checksum_of(page)
    if current is not None and not any(r.checksum == current for r in revs):  # loaded before history was kept
        revs.append(Revision(page, len(revs) + 1, current, "", store.file_name_of(page), "", True))
    return [r if (r.checksum == current) == r.current else Revision(
        r.page, r.number, r.checksum, r.ingested, r.file_name, r.file_path, r.checksum == current) for r in revs]


@cli.command()
@click.argument("page")
@store_option
@click.option("-f", "--format", "out_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handle_errors
def history(page: str, store_dir: str | None, out_format: str) -> None:
    """List the revisions of PAGE (its IRI, its entities "A ↔ B", a file name or path).

    The current revision is what queries see; earlier ones are kept for diff.
    """
    from .stores import open_store

    with open_store(store_dir, read_only=True) as store:
        g = _one_page(store, page)
        revs = _revisions(store, g)
    if out_format == "json":
        click.echo(json.dumps({"page": g, "revisions": [r.__dict__ for r in revs]}, indent=2, ensure_ascii=False))
        return
    click.echo(f"# {g}")
    click.echo("rev\tcurrent\tingested\tchecksum\tfile")
    for r in revs:
        click.echo(f"{r.number}\t{'*' if r.current else ''}\t{r.ingested or '?'}\t{r.checksum[:12]}\t{r.file_path or r.file_name}")


def _pick(revs: list[Any], spec: str | None, default: int) -> Any:
    if spec is None:
        return revs[default]
    if spec.isdigit() and 1 <= int(spec) <= len(revs):
        return revs[int(spec) - 1]
    found = [r for r in revs if r.checksum.startswith(spec.lower())] if len(spec) >= 4 else []
    if len(found) == 1:
        return found[0]
    raise UsageError(f"no revision {spec!r}: give its number (1-{len(revs)}) or a checksum prefix; see: evidencegraph history")


@cli.command()
@click.argument("pages", nargs=-1)
@store_option
@click.option("--from", "from_", metavar="REV", help="Revision number or checksum prefix [default: the one before --to].")
@click.option("--to", metavar="REV", help="Revision number or checksum prefix [default: the current one].")
@click.option("-f", "--format", "out_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handle_errors
def diff(pages: tuple[str, ...], store_dir: str | None, from_: str | None, to: str | None, out_format: str) -> None:
    """What changed between two revisions of PAGES (default: every page with more than one).

    Facts and sources added and removed, facts listed under another source,
    stances, and each relation's score, strength and summary.
    """
    from .revisions import diff_views, view
    from .stores import open_store

    found: list[dict[str, Any]] = []
    with open_store(store_dir, read_only=True) as store:
        graphs = [_one_page(store, p) for p in pages] if pages else list(store.history.pages_with_history() if store.history else [])
        for g in graphs:
            revs = _revisions(store, g)
            if len(revs) < 2 and not (from_ or to):
                found.append({"page": g, "from": None, "to": None, "changes": None})
                continue
            b = _pick(revs, to, -1)
            a = _pick(revs, from_, max(0, revs.index(b) - 1))

            def quads(r: Any) -> bytes:
                archived = store.history.quads(g, r.checksum) if store.history else None
                return store.graph_nquads(g) if r.current else (archived or b"")

            found.append({"page": g, "from": a.number, "to": b.number, "changes": diff_views(view(quads(a)), view(quads(b)))})
    if out_format == "json":
        click.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    for item in found:
        click.echo(_diff_text(item), nl=False)


def _diff_text(item: dict[str, Any]) -> str:
    if item["changes"] is None:
        return f"# {item['page']}: one revision, nothing to compare\n"
    c = item["changes"]
    out = [f"# {item['page']}: revision {item['from']} -> {item['to']}"]
    out += [f"+ fact {f['type']}: {f['text']}" for f in c["facts_added"]]
    out += [f"- fact {f['type']}: {f['text']}" for f in c["facts_removed"]]
    out += [f"+ source {s['title']}" for s in c["sources_added"]]
    out += [f"- source {s['title']}" for s in c["sources_removed"]]
    out += [f"~ listed under {f['to']!r} (was {f['from']!r}): {f['text']}" for f in c["listed_under"]]
    out += [f"~ stance {f['from'] or '(none)'} -> {f['to'] or '(none)'}: {f['text']}" for f in c["stances"]]
    out += [f"~ {r['kind']} {r['field']}: {r['from']!r} -> {r['to']!r}" for r in c["relations"]]
    if len(out) == 1:
        out.append("(no changes in facts, sources or relations)")
    return "\n".join(out) + "\n"


@cli.command()
@store_option
@handle_errors
def migrate(store_dir: str | None) -> None:
    """Migrate an older store to this version's format 3: format 2 in place (adding the figures the
    questions read), format 1 (evidencegraph 0.1) into a new store, keeping the old one as a backup."""
    from .migrate import migrate as run
    from .store import STORE_FORMAT, store_path

    path = store_path(store_dir)
    outcome = run(Path(path))
    for p in outcome.problems:
        click.echo(f"warning: {p}", err=True)
    if outcome.from_format == 2:
        click.echo(f"migrated {outcome.pages} pages to store format {STORE_FORMAT} in place (figures added)", err=True)
        return
    click.echo(
        f"migrated {outcome.pages} pages to store format {STORE_FORMAT}"
        + (f" ({outcome.revisions} older files of the same pages kept as history)" if outcome.revisions else "")
        + f"; the format-1 store is kept in {outcome.backup}",
        err=True,
    )
