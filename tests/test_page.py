"""The parser, against hand-written expectations for every variation of the format."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evidencegraph.errors import PageError
from evidencegraph.page import guess_entities, parse_bytes, parse_file, parse_page

from conftest import BROKEN, PAGES


def test_sample_page():
    page = parse_file(str(PAGES / "belgium-european-union.txt"))
    assert page.title is None
    assert (page.subject, page.object, page.entity_method) == ("Belgium", "European Union", "summary")
    assert page.warnings == []
    assert page.declared_relations == 1 and page.declared_facts == 8
    (card,) = page.cards
    assert (card.kind, card.score, card.strength, card.declared_facts) == (
        "related", Decimal("3.17"), "strongly supporting", 8)
    assert [c.marker for c in card.citations] == [1, 2, 3, 4]
    (src,) = page.sources
    assert src.title == "Independence play: Europe's pursuit of strategic autonomy"
    assert (src.domain, src.publisher, src.author, src.published, src.declared_facts) == (
        "ecfr.eu", "European Council on Foreign Relations", None, None, 8)
    assert [f.type for f in page.facts] == ["claim", "perspective", "perspective", "perspective",
                                            "claim", "claim", "claim", "perspective"]
    assert page.facts[0].text.startswith("Belgium identifies harmonious")
    assert [f.position for f in page.facts] == list(range(1, 9))


def test_title_line_cards_chips_authors_dates_stances():
    page = parse_file(str(PAGES / "title-two-cards.txt"))
    assert page.title == ("Ghana", "Côte d’Ivoire")
    assert (page.subject, page.object, page.entity_method) == ("Ghana", "Côte d’Ivoire", "title")
    assert [(c.kind, c.score_text, c.declared_facts) for c in page.cards] == [
        ("related", "2.32", 4), ("cross_type", "1.00", 1)]
    assert [(c.domain, c.count) for c in page.chips] == [("reuters.com", 2), ("ghanaweb.com", 1)]
    s1, s2, s3 = page.sources
    assert (s1.title, s1.domain, s1.author, s1.publisher, s1.published) == (
        "Cocoa giants align prices", "reuters.com", "Jane Smith", "Reuters", "2024-03-01")
    assert (s2.title, s2.author, s2.publisher, s2.published) == (
        "Border trade report", None, "Kwame Mensah", "Mar 1, 2024")  # a lone part: the organisation
    assert (s3.domain, s3.author, s3.publisher, s3.published) == (
        "africa.example.org", None, "West Africa Institute", "2 days ago")
    assert [(f.type, f.stance, f.text[:10]) for f in page.facts] == [
        ("claim", "supports", "Ghana and "),
        ("measurement", "neutral", "60% of the"),
        ("account", "challenges", "“Smuggling"),
        ("perspective", None, "Économiste"),
    ]
    assert [f.group for f in page.facts] == [0, 0, 1, 2]


def test_pending_card_negative_score_no_count_unknown_source_uri_title():
    page = parse_file(str(PAGES / "pending-unknown.txt"))
    c1, c2, c3 = page.cards
    assert (c1.kind, c1.score, c1.strength, c1.pending, c1.summary) == (
        "contradicts", Decimal("-0.58"), "strongly opposing", True, None)
    assert c1.listed == ("The Netherlands denies that Germany paid for the dikes.", "Germany says it did not pay.")
    assert (c2.kind, c2.declared_facts, c2.summary, c2.pending) == ("draws_from", None, None, False)
    assert c3.tokens == ["{fact:4, fact:5}"]
    s1, s2 = page.sources
    assert (s1.title, s1.domain) == ("https://example.net/story/42", "example.net")
    assert (s2.title, s2.domain, s2.author, s2.publisher) == ("Unknown source", None, None, None)
    assert page.facts[2].type == "definition"
    assert (page.subject, page.object) == ("Netherlands", "Germany")


def test_all_fact_types_and_unusual_text_starts():
    page = parse_file(str(PAGES / "all-types.txt"))
    assert [f.type for f in page.facts] == ["claim", "account", "measurement", "formula", "quote", "procedure",
                                            "reference", "code", "image", "perspective", "rumor"]
    assert page.facts[0].text == "1,200 firms trade across the border."
    assert page.facts[4].text == '"We are partners," the minister said.'
    assert page.facts[9].text == "Émile argues the border barely matters."
    assert (page.facts[10].stance, page.facts[10].text) == ("supports", "Apple phones are cheaper in Belgium.")
    assert page.sources[0].published == "2023-11-05T10:00:00Z"
    assert page.sources[1].published == "3 weeks ago"
    assert (page.subject, page.object) == ("Netherlands", "Belgium")


def test_bom_crlf_trailing_spaces_no_final_newline():
    raw = (PAGES / "crlf-bom.txt").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and not raw.endswith(b"\n")
    page = parse_bytes(raw, "crlf-bom.txt")
    assert page.title == ("Belgium", "France")
    assert page.facts[0].text == "Belgium borders France to the south."
    assert page.cards[0].summary == "Belgium borders France [1]."


def test_quality_problems_are_kept_not_raised():
    page = parse_file(str(PAGES / "quality.txt"))
    assert page.declared_facts == 7 and len(page.facts) == 5
    assert [c.marker for c in page.cards[0].citations] == [1, 2, 9]
    assert page.cards[0].tokens == ["{fact:abc-123}"]
    assert page.sources[0].declared_facts == 4


@pytest.mark.parametrize("name, line, words", [
    ("empty.txt", 1, "empty"),
    ("truncated.txt", 4, "truncated"),
    ("binary.txt", 2, "not UTF-8"),
    ("garbled.txt", 6, "cannot read"),
])
def test_broken_pages_name_file_and_line(name, line, words):
    with pytest.raises(PageError) as info:
        parse_file(str(BROKEN / name))
    err = info.value
    assert err.line == line and words in err.message
    assert str(err).startswith(f"{BROKEN / name}:{line}: ")


def test_missing_file_is_a_page_error():
    with pytest.raises(PageError, match="cannot read the file"):
        parse_file(str(BROKEN / "no-such-page.txt"))


@pytest.mark.parametrize("text, expected", [
    ("Belgium is a member state of the European Union.", ["Belgium", "European Union"]),
    ("Trade between the Netherlands and Côte d’Ivoire grew.", ["Netherlands", "Côte d’Ivoire"]),
    ("The Bank of England and the Federal Reserve met.", ["Bank of England", "Federal Reserve"]),
    ("According to [1], Japan’s exports to South Korea rose.", ["Japan", "South Korea"]),
])
def test_entity_guess(text, expected):
    assert guess_entities(text, "Belgium Japan")[0][:2] == expected


def test_sentence_initial_common_word_is_weak():
    names, weak = guess_entities("Trade grew between the Netherlands and Côte d’Ivoire.", "")
    assert names[0] == "Trade" and weak


def test_explicit_entities_win():
    page = parse_file(str(PAGES / "belgium-european-union.txt"), "Kingdom of Belgium", "EU")
    assert (page.subject, page.object, page.entity_method) == ("Kingdom of Belgium", "EU", "given")


def test_weak_guess_warns():
    text = ("Relations (1)\nrelated 1.00 — strongly supporting 1 fact\nKenya and the United States signed [1].\n"
            "Facts (1)\nSources\nT example.org 1 fact\nclaimA pact was signed.\n")
    page = parse_page(text, "k.txt")
    assert (page.subject, page.object) == ("Kenya", "United States")
    assert len(page.warnings) == 1 and "weak guess" in page.warnings[0] and "k.entities.json" in page.warnings[0]


def test_no_entities_is_an_error_with_a_hint():
    text = "Relations (1)\nrelated 1.00 — strongly supporting 1 fact\nno names here [1].\nFacts (1)\nSources\nT example.org 1 fact\nclaimx.\n"
    with pytest.raises(PageError, match="--subject/--object"):
        parse_page(text, "x.txt")
