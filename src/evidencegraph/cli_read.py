"""The command line's read side: query, questions, search, export, stats, serve (registered on the group)."""

from __future__ import annotations

import click

from .cli import cli
from .clioptions import base_option, handle_errors, output_stream, rdf_output_options, store_option
from .cliout import empty_hint, ox_boolean, table_width
from .errors import EvidenceGraphError, UsageError


@cli.command()
@click.argument("text")
@store_option
@click.option("--type", "type_word", metavar="T", help="Facts of this type only (claim, perspective, …).")
@click.option("--kind", type=click.Choice(["fact", "source", "entity"]), help="Only this kind of node.")
@click.option("-n", "--limit", default=20, show_default=True, type=click.IntRange(1), help="At most this many hits.")
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json", "tsv"]), default="table", show_default=True,
              help="table for people (the match in [ ]); json or tsv (with a header line) for scripts.")
@handle_errors
def search(text: str, store_dir: str | None, type_word: str | None, kind: str | None, limit: int, fmt: str) -> None:
    """Find fact texts, source titles and entity names with these words, best first.

    Case and accents are ignored; every word must occur (word* for a prefix).
    The index is kept beside a store folder (search.sqlite), not on a SPARQL endpoint.
    """
    from .cliout import hits_output
    from .search import index_of
    from .stores import open_store

    with open_store(store_dir, read_only=True) as store:
        hits = index_of(store).search(text, type_word, kind, limit)
    if not hits:
        click.echo("no match", err=True)
        if fmt == "json":
            click.echo("[]")
        return
    click.echo(hits_output(hits, fmt, table_width()), nl=False)


@cli.command()
@click.argument("sparql", required=False)
@store_option
@click.option(
    "-f", "--format", "fmt", default=None,
    help="SELECT/ASK: table, json, xml, csv, tsv [table]; CONSTRUCT/DESCRIBE: an RDF format [turtle].",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write to this file, not stdout.")
@click.option("--question", "-Q", "name", help="Run a named question (see: evidencegraph questions).")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE", help="A question's parameter (repeatable).")
@click.option("--allow-service", is_flag=True, help="Allow SERVICE (queries that fetch data over the network).")
@handle_errors
def query(
    sparql: str | None,
    store_dir: str | None,
    fmt: str | None,
    output: str | None,
    name: str | None,
    params: tuple[str, ...],
    allow_service: bool,
) -> None:
    """Run a SPARQL query: the argument, @file.rq, or - for stdin.

    The default graph is the union of all pages.  Parameters of a named
    question are bound as RDF terms, never pasted into the query.
    """
    from .queries import parse_params, question, read_query, write_results
    from .stores import open_store

    if name:
        if sparql:
            raise UsageError("give a query or --question, not both")
        q = question(name)
        text, substitutions = q.sparql, q.bind(parse_params(params))
    elif sparql:
        if params:
            raise UsageError("-p goes with --question")
        from .sparql import explicit_star

        text, substitutions = explicit_star(read_query(sparql)), {}
    else:
        raise UsageError("give a SPARQL query, @file.rq, - (stdin) or --question NAME")
    from .store import check_query

    check_query(text, allow_service)
    from time import perf_counter

    from .queries import is_graph_result
    from .store import query_failed

    start = perf_counter()
    with open_store(store_dir, read_only=True) as store, output_stream(output) as out:
        try:
            if name:
                from .queries import run_question

                results = run_question(store, name, text, substitutions)  # facts-mentioning: from the search index
            else:
                results = store.query(text, substitutions, allow_service)
            if is_graph_result(results):
                from .formats import choose_rdf_format
                from .writers import write_quads
                import pyoxigraph as ox

                rdf = choose_rdf_format(fmt, output, default="turtle")
                if rdf.quads and rdf.name != "jsonld":
                    raise UsageError(f"a CONSTRUCT result is a graph: use turtle, nt, xml or jsonld, not {rdf.name}")
                write_quads((ox.Quad(t.subject, t.predicate, t.object) for t in results), rdf, out)
            else:
                rows = write_results(results, fmt or "table", out, table_width())
                if (fmt or "table") == "table" and not isinstance(results, ox_boolean()):
                    out.flush()
                    click.echo(f"{rows:,} row{'s' if rows != 1 else ''} in {perf_counter() - start:.2f}s", err=True)
                    if rows == 0:
                        click.echo(empty_hint(store, name, substitutions), err=True)
        except RuntimeError as e:  # raised while the results are read (pyoxigraph evaluates lazily)
            import traceback

            results = None  # pyoxigraph results stay in this thread: not in a reference cycle the collector breaks elsewhere
            traceback.clear_frames(e.__traceback__)
            raise query_failed(e, store.location) from None


@cli.command()
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for people; json (name, description, params, sparql) for scripts.")
@handle_errors
def questions(fmt: str) -> None:
    """List the named questions and their parameters."""
    from .queries import questions as all_questions, questions_json

    if fmt == "json":
        import json

        click.echo(json.dumps(questions_json(), indent=2, ensure_ascii=False))
        return
    for q in all_questions().values():
        params = " ".join(f"-p {p.name}=…" for p in q.params)
        click.echo(f"{q.name}{'  ' + params if params else ''}")
        click.echo(f"    {q.description}")
        for p in q.params:
            click.echo(f"    {p.name} ({p.kind}): {p.help}")


@cli.command()
@store_option
@rdf_output_options
@click.option("--graph", "page", help="Export one page: its name or graph IRI.")
@handle_errors
def export(store_dir: str | None, fmt: str | None, output: str | None, page: str | None) -> None:
    """Export the whole store (or one page) in any of the six syntaxes, streamed.

    nq, trig and jsonld keep the page graphs; turtle, nt and xml get their union.
    """
    from .formats import choose_rdf_format
    from .stores import open_store

    rdf = choose_rdf_format(fmt, output, default="nq")
    with open_store(store_dir, read_only=True) as store:
        graph = None
        if page:
            from .pipeline import find_page

            found = find_page(page, store)
            if not found:
                raise EvidenceGraphError(f"{page}: no such page in the store; list them with: evidencegraph pages")
            graph = found[0]
        with output_stream(output) as out:
            store.export(rdf, out, graph)


@cli.command()
@store_option
@rdf_output_options
@handle_errors
def stats(store_dir: str | None, fmt: str | None, output: str | None) -> None:
    """Describe the store: triples, pages, entities, facts, sources; per class and property.

    -f table (the default on stdout) or json; or an RDF format for the VoID description.
    """
    from .formats import choose_rdf_format
    from .stats import stats_json, stats_table, void_description
    from .stores import open_store
    from .writers import write_quads

    with open_store(store_dir, read_only=True) as store:
        quads = void_description(store)
    if fmt in ("table", "json") or (fmt is None and output is None):
        text = stats_json(quads) if fmt == "json" else stats_table(quads, table_width())
        with output_stream(output) as out:
            out.write(text.encode("utf-8"))
        return
    rdf = choose_rdf_format(fmt, output, default="turtle")
    with output_stream(output) as out:
        write_quads(quads, rdf, out)


@cli.command()
@store_option
@base_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for every interface).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--timeout", default=30.0, show_default=True, type=float, help="Query time limit in seconds (503 past it).")
@click.option("--max-rows", default=10000, show_default=True, type=int, help="Result rows (or triples) per answer; more are cut, with a warning.")
@click.option("--workers", default=4, show_default=True, type=int, help="Queries run at once (worker processes; one past --timeout is ended).")
@click.option("--max-body", default=16 * 1024 * 1024, show_default=True, type=int, help="Largest request body in bytes (413 past it).")
@click.option(
    "--allow-update", is_flag=True,
    help="Accept SPARQL Update (/update) and Graph Store writes (/store), with Authorization: Bearer $EVIDENCEGRAPH_TOKEN.",
)
@handle_errors
def serve(
    store_dir: str | None,
    base: str | None,
    host: str,
    port: int,
    timeout: float,
    max_rows: int,
    workers: int,
    max_body: int,
    allow_update: bool,
) -> None:
    """Serve the store over HTTP: SPARQL endpoint, Graph Store, linked data.

    /sparql is a SPARQL 1.1 Protocol endpoint (SERVICE refused), /store the
    Graph Store Protocol, /id/… every IRI of the data (303 to /doc/…, HTML or
    RDF by content negotiation), / a query page.  Read-only and on 127.0.0.1
    unless told otherwise; writes need --allow-update and EVIDENCEGRAPH_TOKEN.
    """
    from .server import run

    run(store_dir, host=host, port=port, base=base, timeout=timeout, max_rows=max_rows,
        allow_update=allow_update, workers=workers, max_body=max_body,
        ready=lambda url: click.echo(f"serving on {url} (Ctrl-C to stop)", err=True))
