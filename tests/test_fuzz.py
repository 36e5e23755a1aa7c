"""Mangled pages give a PageError or a page, never another exception (no IndexError, no traceback)."""

from __future__ import annotations

import random

import pytest

from evidencegraph.errors import PageError
from evidencegraph.mapping import page_triples
from evidencegraph.page import parse_bytes

from conftest import PAGES

SOURCES = [p.read_bytes() for p in sorted(PAGES.glob("*.txt"))]


def mangle(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(6)
        i = rng.randrange(len(lines)) if lines else 0
        if op == 0 and lines:
            del lines[i]
        elif op == 1 and lines:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif op == 2 and lines:
            cut = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:cut]
        elif op == 3:
            lines.insert(i, bytes(rng.randrange(256) for _ in range(rng.randint(0, 12))))
        elif op == 4:
            lines = lines[: rng.randint(0, len(lines))]
        elif op == 5 and lines:
            lines[i] = lines[i].replace(b" ", b"", 1)
    return b"\n".join(lines)


@pytest.mark.parametrize("seed", range(40))
def test_mangled_pages(seed):
    rng = random.Random(seed)
    for _ in range(25):
        data = mangle(rng.choice(SOURCES), rng)
        try:
            page = parse_bytes(data, "fuzz.txt", "A", "B") if rng.random() < 0.3 else parse_bytes(data, "fuzz.txt")
        except PageError as e:
            assert e.path == "fuzz.txt" and e.line is not None and e.line >= 1 and e.message
            continue
        page_triples(page)  # a page that parses also maps
