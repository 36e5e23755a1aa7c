"""Start-up stays light: `query` and `--help` do not import what they do not use."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import PAGES

HEAVY = ("rdflib", "pyshacl", "evidencegraph.page", "evidencegraph.mapping", "evidencegraph.shapes",
         "evidencegraph.pipeline", "evidencegraph.ingestion", "evidencegraph.fastshacl", "evidencegraph.shaclindex",
         "evidencegraph.nativerules", "evidencegraph.sourceline")

PROBE = """
import json, sys
from evidencegraph.cli import main
heavy = json.loads(sys.argv[2])
sys.argv = ["evidencegraph"] + json.loads(sys.argv[1])
try:
    main()
except SystemExit:
    pass
loaded = sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in heavy))
print("LOADED " + json.dumps(loaded))
"""


def loaded_by(*args: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(args)), json.dumps(HEAVY)],
                         capture_output=True, text=True, timeout=120)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("LOADED ")]
    assert lines, out.stdout + out.stderr
    line = lines[-1]
    return json.loads(line[len("LOADED "):])


def test_help_is_light():
    assert loaded_by("--help") == []


def test_query_is_light(tmp_path):
    from click.testing import CliRunner

    from evidencegraph.cli import cli

    store = tmp_path / "s"
    CliRunner().invoke(cli, ["ingest", str(PAGES / "belgium-european-union.txt"), "--store", str(store)])
    assert loaded_by("query", "ASK { ?s ?p ?o }", "--store", str(store)) == []
    assert loaded_by("query", "--question", "top-entities", "--store", str(store), "-f", "json") == []
