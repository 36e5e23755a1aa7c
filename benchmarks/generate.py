"""Write N relation pages in the real format, deterministic from a seed.

Pages share entities, sources and facts the way the product's pages do;
they use every card kind, all ten fact types (and an unknown one now and
then), stances, the three date forms, authors with and without person and
organisation, title lines, pending cards, domain chips, BOMs and CRLF.
``--faults`` injects the data-quality problems validation must report;
``--reexports`` exports some pages a second time the way the product's exports
differ (facts in another order and under another of their sources, stances,
score drift).

    python benchmarks/generate.py 1000 corpus/ --seed 1 [--faults 0.1] [--reexports 0.2]
"""

from __future__ import annotations

import argparse
import math
import os
import random
from pathlib import Path

TYPES = ["claim", "account", "measurement", "formula", "quote", "procedure", "reference", "code", "image", "perspective"]
STANCES = [None, None, None, "supports", "challenges", "neutral"]
SYLLABLES = "ka lo mi ra ven tor dal sen bri qua nel fos gar hul ist jon kem lum mor nis pel rus sol tam ur vil wex yor zan".split()
WORDS = """policy trade growth border agreement report minister cooperation defence energy market supply
export import investment climate water security research study analysis region council treaty budget
strategy reform production capacity network industry partner alliance summit forecast price demand""".split()
ORGS = ["Institute for Policy Studies", "Global Trade Council", "Reuters", "The Economist", "Ministry of Finance",
        "European Council on Foreign Relations", "World Bank", "Harbour Research Group"]
PEOPLE = ["Jane Smith", "Kwame Mensah", "Ana Ruiz", "Li Wei", "Sara Cohen", "Tom Baker"]
DOMAINS = ["reuters.com", "ecfr.eu", "economist.com", "worldbank.org", "gov.example.org", "news.example.net",
           "research.example.edu", "lemonde.fr", "elpais.com", "benelux.int"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def strength(score: float) -> str:
    if score >= 0.5:
        return "strongly supporting"
    if score >= 0.1:
        return "supporting"
    if score > -0.1:
        return "neutral"
    if score > -0.5:
        return "opposing"
    return "strongly opposing"


class World:
    """The shared pools pages draw from."""

    def __init__(self, n_pages: int, rng: random.Random):
        self.rng = rng
        n_entities = max(10, n_pages // 3)
        self.entities = sorted({self._name() for _ in range(n_entities * 2)})[:n_entities]
        n_sources = max(10, n_pages // 2)
        self.sources = [self._source(i) for i in range(n_sources)]
        # A fact can come from several sources (the product keeps them all, and a page lists it under one).
        self.facts: list[tuple[list[int], str, str]] = []  # (source indexes, type, text)
        self.by_source: dict[int, list[int]] = {}
        for _ in range(max(50, n_pages * 4)):
            sources = rng.sample(range(n_sources), 1 if rng.random() < 0.7 else rng.randint(2, 3))
            for s in sources:
                self.by_source.setdefault(s, []).append(len(self.facts))
            self.facts.append((sources, rng.choice(TYPES) if rng.random() > 0.01 else "rumor", self._sentence()))
        self.with_facts = sorted(self.by_source)
        self.pairs: set[frozenset[str]] = set()

    def pair(self) -> tuple[str, str]:
        """Two entities no earlier page has paired: a page is its two entities."""
        while True:
            a, b = self.rng.sample(self.entities, 2)
            if frozenset((a, b)) not in self.pairs:
                self.pairs.add(frozenset((a, b)))
                return a, b

    def _name(self) -> str:
        r = self.rng
        word = lambda: "".join(r.choice(SYLLABLES) for _ in range(r.randint(2, 3))).capitalize()  # noqa: E731
        return word() if r.random() < 0.6 else f"{word()} {word()}"

    def _sentence(self) -> str:
        r = self.rng
        words = [r.choice(WORDS) for _ in range(r.randint(12, 30))]
        start = r.random()
        if start < 0.1:
            words[0] = str(r.randint(2, 999))
        text = " ".join(words)
        text = text[0].upper() + text[1:] + "."
        if start > 0.95:
            text = f"“{text}” the report said."
        return text

    def _source(self, i: int) -> tuple[str, str | None, str | None, str | None, str | None]:
        r = self.rng
        title = " ".join(r.choice(WORDS) for _ in range(r.randint(3, 8))).capitalize() + f" {i}"
        domain = r.choice(DOMAINS)
        person = r.choice(PEOPLE) if r.random() < 0.4 else None
        org = r.choice(ORGS) if r.random() < 0.7 else None
        date = r.choice([
            None,
            f"20{r.randint(10, 25)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
            f"{r.choice(MONTHS)} {r.randint(1, 28)}, 20{r.randint(10, 25)}",
            f"{r.randint(2, 11)} days ago",
        ])
        if r.random() < 0.02:
            return ("Unknown source", None, None, None, None)
        return (title, domain, person, org, date)


def page_spec(world: World, rng: random.Random, faults: float) -> dict:
    """What a page says, before the export's own choices (order, first source, stance, score drift)."""
    a, b = world.pair()
    chosen: list[int] = []
    for s in rng.sample(world.with_facts, rng.randint(1, 5)):
        pool = world.by_source[s]
        chosen.extend(i for i in rng.sample(pool, min(len(pool), rng.randint(1, 6))) if i not in chosen)
    facts = chosen[:15]
    fault = rng.random() < faults
    n_cards = rng.choice([1, 1, 1, 2, 3])
    kinds = ["related"] + (rng.sample(["cross_type", "contradicts", "draws_from"], n_cards - 1) if n_cards > 1 else [])
    cards = []
    for k, kind in enumerate(kinds):
        supporting = len(facts) if k == 0 else rng.randint(0, min(3, len(facts)))
        pending = k > 0 and supporting > 0 and rng.random() < 0.5
        cites = sorted(rng.sample(range(1, len(facts) + 1), min(len(facts), rng.randint(1, 4))))
        words = (rng.choice(WORDS), rng.choice(WORDS))
        cards.append({"kind": kind, "supporting": supporting, "pending": pending, "cites": cites, "words": words})
    return {
        "a": a, "b": b, "facts": facts, "cards": cards, "title": rng.random() < 0.3,
        "fault": rng.choice(["facts_heading", "citation", "source_count", "score", "token", "strength"]) if fault else "",
        "chips": rng.random() < 0.2, "crlf": rng.random() < 0.05, "bom": rng.random() < 0.05,
        "stances": [rng.choice(STANCES) or "" for _ in facts],
    }


def render_page(world: World, spec: dict, rng: random.Random, reexport: bool = False) -> str:
    """The text of a page; a re-export lists the facts in another order and under another of their
    sources, shows another stance now and then, and its scores drift, as the product's exports do."""
    a, b, fault_kind = spec["a"], spec["b"], spec["fault"]
    facts = list(spec["facts"])
    stances = dict(zip(facts, spec["stances"]))
    first = {f: world.facts[f][0][0] for f in facts}
    if reexport:
        rng.shuffle(facts)  # the product's queries have no ORDER BY
        first = {f: rng.choice(world.facts[f][0]) for f in facts}
        for f in rng.sample(facts, max(1, len(facts) // 5)):
            stances[f] = rng.choice(STANCES) or ""
    # group by first source, largest group first (stable)
    order: list[int] = []
    groups: dict[int, list[int]] = {}
    for f in facts:
        s = first[f]
        if s not in groups:
            order.append(s)
            groups[s] = []
        groups[s].append(f)
    ordered = sorted(order, key=lambda s: -len(groups[s]))
    page_facts = [f for s in ordered for f in groups[s]]

    lines: list[str] = []
    if spec["title"]:
        lines.append(f"{a} ↔ {b}")
    lines.append(f"Relations ({len(spec['cards'])})")
    for k, card in enumerate(spec["cards"]):
        kind, supporting = card["kind"], card["supporting"]
        score = math.log2(supporting + 1)
        if kind == "contradicts":
            score = -score / 4
        if fault_kind == "score" and k == 0:
            score += 0.5
        if reexport:
            score += rng.choice([-0.05, -0.02, 0.01, 0.03])  # merged nodes average their weights
        label = strength(score)
        if fault_kind == "strength" and k == 0:
            label = "supporting" if label != "supporting" else "neutral"
        header = f"{kind} {score:.2f} — {label}"
        if supporting:
            header += f" {supporting} fact" + ("s" if supporting != 1 else "")
        lines.append(header)
        if card["pending"]:
            lines.append("Justification not yet generated — showing supporting facts")
            lines.extend(world.facts[f][2] for f in page_facts[:supporting])
            continue
        if supporting == 0:
            continue
        cites = list(card["cites"])
        if fault_kind == "citation" and k == 0:
            cites.append(len(page_facts) + 4)
        refs = ", ".join(f"[{c}]" for c in cites)
        w1, w2 = card["words"]
        summary = f"{a} and the {b} are linked through {w1} and {w2}, as described in {refs}."
        if fault_kind == "token" and k == 0:
            summary += " {fact:4, fact:5}"
        lines.append(summary)
    declared = len(page_facts) + (2 if fault_kind == "facts_heading" else 0)
    lines.append(f"Facts ({declared})")
    lines.append("Sources")
    if spec["chips"]:
        for s in ordered[:3]:
            d = world.sources[s][1]
            if d:
                lines.append(f"{d} {len(groups[s])}")
    for g, s in enumerate(ordered):
        title, domain, person, org, date = world.sources[s]
        n = len(groups[s]) + (1 if fault_kind == "source_count" and g == 0 else 0)
        parts = [title] + ([domain] if domain else [])
        author = " · ".join(x for x in (person, org) if x)
        if author:
            parts.append(author)
        if date:
            parts.append(date)
        parts.append(f"{n} fact" + ("s" if n != 1 else ""))
        lines.append(" ".join(parts))
        for f in groups[s]:
            _, ftype, text = world.facts[f]
            lines.append(f"{ftype}{stances[f]}{text}")
    text = ("\r\n" if spec["crlf"] else "\n").join(lines)
    return "\ufeff" + text if spec["bom"] else text


def page_text(world: World, index: int, rng: random.Random, faults: float) -> str:
    return render_page(world, page_spec(world, rng, faults), rng)


def generate(n: int, out: Path, seed: int = 1, faults: float = 0.0, reexports: float = 0.0) -> list[Path]:
    """Write n pages into ``out`` (in sub-folders of 1,000); return their paths.

    ``reexports``: the share of pages exported a second time, into ``out/reexports/`` under
    another file name and with a later modification time.
    """
    rng = random.Random(seed)
    world = World(n, rng)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    again = []
    for i in range(n):
        folder = out / f"{i // 1000:04d}"
        folder.mkdir(exist_ok=True)
        path = folder / f"page-{i:06d}.txt"
        spec = page_spec(world, rng, faults)
        path.write_text(render_page(world, spec, rng), encoding="utf-8", newline="")
        paths.append(path)
        if rng.random() < reexports:
            again.append((i, spec))
    if again:
        folder = out / "reexports"
        folder.mkdir(exist_ok=True)
        for i, spec in again:
            path = folder / f"export-2-of-{i:06d}.txt"
            path.write_text(render_page(world, spec, rng, reexport=True), encoding="utf-8", newline="")
            stamp = paths[i].stat().st_mtime + 3600
            os.utime(path, (stamp, stamp))
            paths.append(path)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, help="number of pages")
    ap.add_argument("out", type=Path, help="folder to write into")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--faults", type=float, default=0.0, help="share of pages with an injected data-quality fault")
    ap.add_argument("--reexports", type=float, default=0.0,
                    help="share of pages exported twice, the way the product's exports differ")
    args = ap.parse_args()
    generate(args.n, args.out, args.seed, args.faults, args.reexports)


if __name__ == "__main__":
    main()
