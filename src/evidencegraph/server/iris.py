"""IRIs and the server's own paths: ``/id/…`` and ``/doc/…`` under the base."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote_to_bytes

from ..vocab import NAMESPACE, ONTOLOGY

_PCT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def uri_to_iri(raw: str) -> str:
    """Decode percent-encoded UTF-8 runs that are non-ASCII characters (RFC 3987, 3.2).

    >>> uri_to_iri("C%C3%B4te_d%E2%80%99Ivoire%5Fx%20")
    'Côte_d’Ivoire%5Fx%20'
    """

    def fix(m: re.Match[str]) -> str:
        text = m.group(0)
        out, i = [], 0
        data = unquote_to_bytes(text)
        # decode greedily, keeping ASCII bytes percent-encoded
        pieces = re.findall(r"%[0-9A-Fa-f]{2}", text)
        while i < len(data):
            b = data[i]
            if b < 0x80:
                out.append(pieces[i])
                i += 1
                continue
            width = 2 if b >> 5 == 0b110 else 3 if b >> 4 == 0b1110 else 4 if b >> 3 == 0b11110 else 0
            try:
                if not width:
                    raise UnicodeDecodeError("utf-8", data, i, i + 1, "bad lead byte")
                out.append(data[i : i + width].decode("utf-8"))
                i += width
            except UnicodeDecodeError:
                out.append(pieces[i])
                i += 1
        return "".join(out)

    return _PCT_RUN.sub(fix, raw)


def iri_to_uri(iri: str) -> str:
    """Percent-encode the non-ASCII characters of an IRI (for links and Location).

    >>> iri_to_uri("/doc/entity/Côte_d’Ivoire")
    '/doc/entity/C%C3%B4te_d%E2%80%99Ivoire'
    """
    return "".join(quote(ch, safe="") if ord(ch) > 0x7F else ch for ch in iri)


class Paths:
    """Map between the IRIs the data uses and the server's own paths."""

    def __init__(self, base: str):
        self.base = base

    def local(self, iri: str) -> str | None:
        """The server path that documents an IRI, or None when it is not ours."""
        if iri.startswith(self.base) and len(iri) > len(self.base):
            return iri_to_uri("/doc/" + iri[len(self.base) :])
        if iri.startswith(NAMESPACE):
            return "/ontology#" + iri[len(NAMESPACE) :]
        if iri == ONTOLOGY:
            return "/ontology"
        return None

    def iri(self, rest: str) -> str:
        """``/id/{rest}`` or ``/doc/{rest}`` (rest as sent, percent-encoded) -> the IRI."""
        return self.base + uri_to_iri(rest)
