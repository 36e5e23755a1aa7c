"""``evidencegraph serve``: the store over HTTP.

An ASGI application (Starlette), served by uvicorn, one module per job:

- :mod:`.app`: the routes and settings, ``create_app`` and ``run``.
- :mod:`.protocol`: ``/sparql``, the SPARQL 1.1 Protocol (GET, POST form,
  POST direct), with content negotiation (q-values) for results and graphs,
  ``default-graph-uri`` and ``named-graph-uri``, a time limit and a
  result-size cap; ``SERVICE`` is refused.  GET without a query gives the
  SPARQL service description.  ``/update``: SPARQL 1.1 Update, only with
  ``--allow-update`` and a bearer token (``EVIDENCEGRAPH_TOKEN``).
  ``/question/NAME``: the named questions.
- :mod:`.graphstore`: ``/store``, the SPARQL 1.1 Graph Store Protocol
  (``?graph=IRI``, ``?default``, or direct identification under
  ``/store/…``); reads always, writes only with ``--allow-update`` and the
  token.
- :mod:`.pages`: ``/id/…`` answers 303 See Other to its document ``/doc/…``,
  which is HTML for people and Turtle, JSON-LD, N-Triples… for RDF clients
  (``Vary: Accept``); ``/ontology``, ``/.well-known/void`` and ``/``, a
  query page with the named questions.
- Helpers: :mod:`.negotiation` (media types, ``Accept``), :mod:`.iris`
  (IRIs and server paths), :mod:`.results` (running a query, serialising
  answers), :mod:`.context` (settings, the store, workers, authorization),
  :mod:`.problem` (errors for clients), :mod:`.limits`, :mod:`.streaming`,
  :mod:`.workers` and :mod:`.worker` (query processes).

The default graph of the store is the materialised union of the page graphs
(see ``store.py``).  The server keeps it so: Graph Store writes go through
the store's page operations, and after a SPARQL Update the default graph is
re-derived from the named graphs — so writing the default graph directly has
no lasting effect, and the Graph Store Protocol refuses it.

Time limit: a query (``/sparql``, ``/question/…``) runs in a worker process
(:mod:`.workers`, :mod:`.worker`); the client gets 503 when it runs longer
than ``--timeout``, and the worker is killed then and there (pyoxigraph
cannot cancel a query; a process can be ended) and replaced.  There are at
most ``--workers`` of them; when all are busy, new queries wait, within their
own time limit.  The workers and the server open the store again when its
files change, so pages ingested or removed by another process are served
within about a second (:mod:`.worker`).

Limits on requests and CORS: :mod:`.limits`.  Large Graph Store reads are
streamed: :mod:`.streaming`.
"""

from __future__ import annotations

from .app import check_port, create_app, run
from .context import Settings
from .iris import iri_to_uri, uri_to_iri
from .negotiation import negotiate, parse_accept
from .problem import Problem

__all__ = ["Settings", "create_app", "run", "check_port", "Problem", "negotiate", "parse_accept", "uri_to_iri", "iri_to_uri"]
