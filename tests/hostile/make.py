"""Write the hostile-input corpus of this folder (run it to make the files again: python tests/hostile/make.py).

Each file is something a page or an RDF file can do to a parser: absurd
numbers, absurd lines, nesting, entity expansion, external entities.
tests/test_hostile.py runs every one in a subprocess with a memory and time
limit, next to a good page, and says which error each must give.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
GOOD = (HERE.parent / "pages" / "belgium-european-union.txt").read_text(encoding="utf-8")
RDF = 'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/"'
DIGITS = "9" * 5000


def page(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


def laughs(levels: int = 9) -> str:
    """The classic "billion laughs": each entity is ten of the one before."""
    ents = ['<!ENTITY lol "lol">', '<!ENTITY lol1 "' + "&lol;" * 10 + '">']
    ents += [f'<!ENTITY lol{i} "' + f"&lol{i - 1};" * 10 + '">' for i in range(2, levels + 1)]
    return ('<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n' + "\n".join(ents) + "\n]>\n"
            f'<rdf:RDF {RDF}><rdf:Description rdf:about="http://example.org/a"><ex:p>&lol{levels};</ex:p>'
            "</rdf:Description></rdf:RDF>\n")


def files() -> dict[str, str]:
    n = 5000
    out = {
        # pages
        "facts-5000-digits.txt": page("Facts (8)", f"Facts ({DIGITS})"),
        "relations-5000-digits.txt": page("Relations (1)", f"Relations ({DIGITS})"),
        "score-5000-digits.txt": page("related 3.17 —", f"related 3.{DIGITS} —"),
        "card-count-5000-digits.txt": page("strongly supporting 8 facts", f"strongly supporting {DIGITS} facts"),
        "citation-5000-digits.txt": page("as noted in [1]", f"as noted in [{DIGITS}]"),
        "source-count-5000-digits.txt": page("Foreign Relations 8 facts", f"Foreign Relations {DIGITS} facts"),
        "chip-count-5000-digits.txt": page("Sources\n", f"Sources\necfr.eu {DIGITS}\n"),
        "long-line.txt": page("as noted in [1]", "as noted in [1] " + "very " * 40_000),
        # quadratic for the chip pattern before its fix: 90,000 characters took 12 s
        "chip-backtracking.txt": page("Sources\n", "Sources\n" + "a.b" * 30_000 + " x\n"),
        "nul-byte.txt": page("Belgium is", "Belgium\x00 is"),
        "only-numbers.txt": "\n".join(DIGITS for _ in range(10)) + "\n",
        # RDF
        "billion-laughs.rdf": laughs(),
        "four-laughs.rdf": laughs(4),  # 30,000 characters, yet 21 s and 6 GB in the parser
        "external-entity.rdf": (
            '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
            f'<rdf:RDF {RDF}><rdf:Description rdf:about="http://example.org/a"><ex:p>&xxe;</ex:p>'
            "</rdf:Description></rdf:RDF>\n"),
        "parameter-entity.rdf": (
            '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [<!ENTITY % p "<!ENTITY x \'y\'>"> %p;]>\n'
            f'<rdf:RDF {RDF}><rdf:Description rdf:about="http://example.org/a"><ex:p>&x;</ex:p>'
            "</rdf:Description></rdf:RDF>\n"),
        "wide-entities.rdf": (
            '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [<!ENTITY big "' + "x" * 1000 + '">]>\n'
            f'<rdf:RDF {RDF}><rdf:Description rdf:about="http://example.org/a"><ex:p>' + "&big;" * 20_000
            + "</ex:p></rdf:Description></rdf:RDF>\n"),
        "deep-elements.rdf": (
            f"<rdf:RDF {RDF}>" + "<rdf:Description><ex:p>" * 20_000 + "</ex:p></rdf:Description>" * 20_000
            + "</rdf:RDF>\n"),
        "deep-5000.jsonld": '{"@id": "http://example.org/a", "http://example.org/p": ' * n + '"x"' + "}" * n + "\n",
        "deep-arrays.jsonld": '{"@id": "http://example.org/a", "http://example.org/p": ' + "[" * 100_000 + '"x"'
        + "]" * 100_000 + "}\n",
        "deep-collections.ttl": "<http://example.org/a> <http://example.org/p> " + "( " * 20_000 + '"x"'
        + " )" * 20_000 + " .\n",
        "integer-5000-digits.ttl": f'<http://example.org/a> <http://example.org/p> "{DIGITS}"'
        "^^<http://www.w3.org/2001/XMLSchema#integer> .\n",
        "score-5000-digits.nq": f'<http://example.org/r> <https://w3id.org/evidencegraph#score> "{DIGITS}.5"'
        "^^<http://www.w3.org/2001/XMLSchema#decimal> <http://example.org/g> .\n",
        "truncated.nq": '<http://example.org/a> <http://example.org/p> "x" <http://example.org/g> .\n<http://exa',
    }
    return out


if __name__ == "__main__":
    for name, text in files().items():
        (HERE / name).write_text(text, encoding="utf-8")
        print(f"{name}: {len(text.encode('utf-8')):,} bytes")
