"""The conflict view (issue 15, item 3): both versions against their base, the overlapping words marked."""

from __future__ import annotations

import re
import time
from html import unescape

import pytest

from drafting.text.conflict import (
    combined_heading,
    combined_text,
    conflict_view,
    find_conflict,
    side_html,
    utf16_offsets,
)
from drafting.text.merge import MINE, THEIRS, merge_texts
from tests.conftest import HX

BASE = "The clusters publish an annual report on the data space before the end of March each year."


def seen(html: str, leave_out: str) -> str:
    """The text of rendered HTML without one kind of mark ("del" gives the side, "ins" the base) and cues.

    Removed words are followed by a space before the words that replace them; it goes with them.
    """
    html = re.sub(r'<span class="visually-hidden">[^<]*</span>', "", html)
    if leave_out == "del":
        html = re.sub(r"<del>[^<]*</del>(?:\s*(?=<ins>))?", "", html)
    else:
        html = re.sub(r"(?<=</del>)\s*<ins>[^<]*</ins>|<ins>[^<]*</ins>", "", html)
    return unescape(re.sub(r"<[^>]+>", "", html))


def marked(html: str) -> list[str]:
    """The visible text of each overlapping region, in order."""
    return [" ".join(seen(region, "del").split()) for region in re.findall(r'<mark class="conflict"[^>]*>(.*?)</mark>', html, re.S)]


# ---- the pure module -------------------------------------------------------------------------

def test_the_same_words_changed_differently_are_marked_in_both_versions():
    theirs = BASE.replace("annual report", "yearly summary")
    mine = BASE.replace("annual report", "audited annual report")
    conflict = find_conflict(BASE, mine, theirs)
    assert len(conflict.overlaps) == 1
    assert marked(side_html(conflict, THEIRS)) == ["yearly summary"]
    # In your version the words they changed are highlighted too: that is where the two meet.
    assert marked(side_html(conflict, MINE)) == ["audited annual report"]
    # In their version, the words they replaced are struck out inside the highlight.
    assert "<del>" in re.search(r'<mark class="conflict".*?</mark>', side_html(conflict, THEIRS), re.S).group(0)


def test_changes_of_different_words_are_marked_calmly_and_combined():
    theirs = BASE.replace("annual report", "yearly summary")
    mine = BASE.replace("end of March", "end of April")
    conflict = find_conflict(BASE, mine, theirs)
    assert conflict.overlaps == []
    for side in (MINE, THEIRS):
        html = side_html(conflict, side)
        assert "<mark" not in html and "<ins>" in html and "<del>" in html
    combined, spans = combined_text(conflict)
    assert combined == merge_texts(BASE, mine, theirs).text and spans == []


def test_words_that_only_spaces_separate_overlap_as_the_merge_says():
    # Neighbouring words, nothing but a space between the edits: the merge refuses, so they are marked.
    theirs = BASE.replace("annual report", "annual summary")
    mine = BASE.replace("an annual", "a yearly")
    assert not merge_texts(BASE, mine, theirs).clean
    conflict = find_conflict(BASE, mine, theirs)
    assert len(conflict.overlaps) == 1
    assert marked(side_html(conflict, THEIRS)) == ["an annual summary"]
    assert marked(side_html(conflict, MINE)) == ["a yearly report"]


@pytest.mark.parametrize("mine, theirs", [
    (BASE.replace("annual", "yearly"), BASE.replace("annual", "biennial")),          # one word
    (BASE.replace("annual", "yearly"), BASE.replace("report", "summary")),           # adjacent words
    (BASE.replace("annual", "yearly"), BASE.replace("on the data", "on our data")),  # a word apart
    (BASE.replace("annual", "yearly"), BASE.replace("annual", "yearly")),            # the same change
    (BASE.replace("publish an", "publish"), BASE.replace("annual", "audited")),      # a deletion beside
    (BASE + " Twice.", BASE + " Once."),                                             # both add at the end
    ("Intro. " + BASE, BASE.replace("The clusters", "Our clusters")),               # insertion before
])
def test_what_is_marked_as_overlapping_is_what_the_merge_refuses(mine, theirs):
    conflict = find_conflict(BASE, mine, theirs)
    assert bool(conflict.overlaps) == (not merge_texts(BASE, mine, theirs).clean)
    # Each rendering is its own text (changes underlined) and, without the additions, the base (but for
    # the kind of space kept between removed words and those replacing them).
    for side, text in ((MINE, mine), (THEIRS, theirs)):
        html = side_html(conflict, side)
        assert seen(html, "del") == text
        assert seen(html, "ins").split() == BASE.split()
    if not conflict.overlaps:
        assert combined_text(conflict)[0] == merge_texts(BASE, mine, theirs).text


def test_combined_keeps_every_other_change_and_your_words_where_both_changed():
    theirs = BASE.replace("annual report", "yearly summary").replace("each year", "every year")
    mine = BASE.replace("annual report", "audited annual report").replace("The clusters", "All clusters")
    conflict = find_conflict(BASE, mine, theirs)
    combined, spans = combined_text(conflict)
    assert combined == ("All clusters publish an audited annual report on the data space before the end of "
                        "March every year.")
    assert [combined[start:end] for start, end in spans] == ["audited annual report"]


def test_hostile_text_is_escaped_everywhere():
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)> <mark class="conflict">'
    base = f"Intro {evil} and the rest."
    theirs = base.replace("Intro", "Preface <b>bold</b>")
    mine = base.replace("Intro", "Opening &amp; <script>steal()</script>").replace("rest", "rest <!--")
    conflict = find_conflict(base, mine, theirs)
    assert conflict.overlaps
    for side in (MINE, THEIRS):
        html = side_html(conflict, side)
        tags = set(re.findall(r"<\s*/?\s*([a-zA-Z!]+)", html))
        assert tags <= {"mark", "del", "ins", "span"}, tags
        assert "&lt;script&gt;" in html and "onerror=alert(1)&gt;" in html and "<!--" not in html
        assert seen(html, "del") == (mine if side == MINE else theirs)
    view = conflict_view(base, mine, theirs)
    assert "<script" not in view.mine_html + view.theirs_html


def test_emoji_and_combining_marks_stay_whole_and_offsets_count_as_a_browser_does():
    base = "Cafe\u0301 menus: 👍🏽 for the 👨‍👩‍👧 team, agreed."
    theirs = base.replace("👍🏽", "👎🏿").replace("agreed", "approved")
    mine = base.replace("👍🏽", "🎉").replace("Cafe\u0301", "Cafe\u0301s")
    conflict = find_conflict(base, mine, theirs)
    assert marked(side_html(conflict, THEIRS)) == ["👎🏿"] and marked(side_html(conflict, MINE)) == ["🎉"]
    html = side_html(conflict, MINE)
    assert "Cafe\u0301s" in seen(html, "del")
    assert re.findall("(.)\u0301", html) == ["e", "e"]  # the accent stays on its letter, never split off by a tag
    assert "\ud83d" not in html  # no lone surrogates
    combined, spans = combined_text(conflict)
    assert combined == "Cafe\u0301s menus: 🎉 for the 👨‍👩‍👧 team, approved."
    start, end = utf16_offsets(combined, list(spans[0]))
    units = combined.encode("utf-16-le")
    assert units[2 * start:2 * end].decode("utf-16-le") == "🎉"
    view = conflict_view(base, mine, theirs)
    assert view.first_overlap == (start, end) and view.overlaps == 1 and view.combined == combined


def test_hidden_characters_are_shown_as_badges():
    mine = BASE.replace("annual", "ann\u202eual")
    theirs = BASE.replace("annual", "yearly")
    html = side_html(find_conflict(BASE, mine, theirs), MINE)
    assert "\u202e" not in html and "RIGHT-TO-LEFT OVERRIDE" in html


def test_headings_combine_like_a_merge_yours_where_both_changed():
    assert combined_heading("A", "A", "B") == "B"
    assert combined_heading("A", "C", "A") == "C"
    assert combined_heading("A", "C", "B") == "C"
    assert combined_heading(None, None, "B") == "B"


def test_long_texts_are_bounded_and_still_exact():
    words = [f"word{k % 97}x{k}" for k in range(6_000)]
    base = " ".join(words)[:50_000]
    mine = base.replace("x1", "y1")  # hundreds of scattered edits on each side
    theirs = base.replace("x1", "z1").replace("word5x", "WORD5x")
    began = time.perf_counter()
    conflict = find_conflict(base, mine, theirs)
    view = conflict_view(base, mine, theirs)
    assert time.perf_counter() - began < 5
    assert conflict.overlaps and view.overlaps
    assert seen(side_html(conflict, MINE), "del") == mine
    assert seen(side_html(conflict, THEIRS), "del") == theirs
    assert seen(side_html(conflict, THEIRS), "ins").split() == base.split()


def test_wholly_different_texts_are_one_overlapping_region():
    conflict = find_conflict("Alpha beta gamma.", "Completely new words here.", "Something else entirely.")
    assert len(conflict.overlaps) == 1
    assert combined_text(conflict)[0] == "Completely new words here."


# ---- over HTTP -------------------------------------------------------------------------------

def make_clause(api, document_id: int, text: str = BASE, heading: str | None = "Reporting") -> dict:
    answer = api.as_("editor").post(f"/documents/{document_id}/clauses", json={"text": text, "heading": heading})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def sections(page: str) -> tuple[str, str]:
    theirs, mine = re.findall(r"<section.*?</section>", page, re.S)
    return theirs, mine


def test_a_stale_htmx_save_shows_both_versions_marked_the_base_and_the_choices(api, auth, client, world):
    document = world.document("declaration")
    clause = make_clause(api, document["id"])
    theirs = BASE.replace("annual report", "yearly summary").replace("each year", "every year")
    assert api.as_("editor2").patch(f"/clauses/{clause['id']}", json={"text": theirs, "base_version": 1}).status_code == 200
    auth.login("editor")
    mine = BASE.replace("annual report", "audited <b>annual</b> report")
    answer = client.post(f"/clauses/{clause['id']}", data={"text": mine, "heading": "Reporting", "base_version": "1"},
                         headers=HX)
    assert answer.status_code == 409
    page = answer.get_data(as_text=True)
    their_part, my_part = sections(page)
    assert "Their version" in their_part and "version 2" in their_part and world.user("editor2").name in their_part
    assert "Your version" in my_part
    assert marked(their_part) == ["yearly summary"] and marked(my_part) == ["audited <b>annual</b> report"]
    assert seen(their_part.split("</h3>", 1)[1], "del").split("Heading: Reporting")[-1].strip() == theirs
    assert "<b>" not in page and "&lt;b&gt;annual&lt;/b&gt;" in page  # escaped, never mark-up
    # The base, one click away.
    base = re.search(r'<details class="conflict-base">(.*?)</details>', page, re.S).group(1)
    assert "version you both started from (version 1)" in base and BASE in base
    # Three real buttons (shown by conflict.js), the texts they put in the box, and the no-JS fallback.
    for name in ("Use theirs", "Use mine", "Edit combined"):
        assert re.search(rf'<button type="button" data-conflict-use="\w+">{name}</button>', page)
    combined = re.search(r'<template data-conflict-text="combined"[^>]*>(.*?)</template>', page, re.S).group(1)
    assert unescape(combined) == BASE.replace("annual report", "audited <b>annual</b> report").replace(
        "each year", "every year")
    yours = re.search(r'<template data-conflict-text="mine"[^>]*>(.*?)</template>', page, re.S).group(1)
    assert unescape(yours) == mine
    assert unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S).group(1)) == mine
    assert "Keep the current text" in page and 'name="base_version" value="2"' in page
    assert "<html" not in page and page.lstrip().startswith("<li ")  # a fragment for htmx
    # Without htmx (no JavaScript) the same view comes as a whole page, styled, its buttons left hidden.
    whole = client.post(f"/clauses/{clause['id']}", data={"text": mine, "heading": "Reporting", "base_version": "1"})
    assert whole.status_code == 409
    whole_page = whole.get_data(as_text=True)
    assert whole_page.lstrip().lower().startswith("<!doctype html>") and "conflict.css" in whole_page
    assert "<title>Conflict on clause" in whole_page and re.search(r"<div class=\"conflict-choices\"[^>]* hidden", whole_page)

    # "Use mine", then save: the next version is my text.
    saved = client.post(f"/clauses/{clause['id']}", data={"text": mine, "heading": "Reporting", "base_version": "2"},
                        headers=HX)
    assert saved.status_code == 200 and "Saved as version 3" in saved.get_data(as_text=True)


def test_a_heading_only_clash_says_so(api, auth, client, world):
    document = world.document("declaration")
    clause = make_clause(api, document["id"])
    assert api.as_("editor2").patch(f"/clauses/{clause['id']}",
                                    json={"text": BASE, "heading": "Annual reporting", "base_version": 1}).status_code == 200
    auth.login("editor")
    mine = BASE.replace("each year", "every year")
    answer = client.post(f"/clauses/{clause['id']}", data={"text": mine, "heading": "Reports", "base_version": "1"},
                         headers=HX)
    assert answer.status_code == 409
    page = answer.get_data(as_text=True)
    assert "You both changed the heading." in page and '<mark class="conflict"' not in page
    combined = re.search(r'<template data-conflict-text="combined" data-heading="([^"]*)"[^>]*>(.*?)</template>',
                         page, re.S)
    assert combined.group(1) == "Reports" and unescape(combined.group(2)) == mine


def test_a_clash_of_kinds_and_action_fields_is_shown_and_resolved_in_the_form(api, auth, client, world):
    document = world.document("declaration")
    clause = make_clause(api, document["id"])
    # Someone makes the clause a recital meanwhile; you make it an annex, the text untouched.
    assert api.as_("editor2").patch(f"/clauses/{clause['id']}",
                                    json={"text": BASE, "kind": "recital", "base_version": 1}).status_code == 200
    auth.login("editor")
    answer = client.post(f"/clauses/{clause['id']}", data={"text": BASE, "kind": "annex", "base_version": "1"},
                         headers=HX)
    assert answer.status_code == 409
    page = answer.get_data(as_text=True)
    assert "You both changed the kind of the clause." in page and '<mark class="conflict"' not in page
    assert re.search(r'class="conflict-heading clash"><span class="muted">Kind:</span> Recital</p>', page)
    assert re.search(r'class="conflict-heading clash"><span class="muted">Kind:</span> Annex</p>', page)
    # The form carries your kind, so saving the resolved text keeps the choice made there.
    kind_select = re.search(rf'<select id="conflict-{clause["id"]}-kind" name="kind".*?</select>', page, re.S).group(0)
    assert re.search(r'<option value="annex" selected>', kind_select)
    resolved = client.post(f"/clauses/{clause['id']}", data={"text": BASE, "kind": "annex", "base_version": "2"},
                           headers=HX)
    assert resolved.status_code == 200
    saved = api.as_("editor").get(f"/documents/{document['id']}").get_json()["clauses"]
    assert [c["kind"] for c in saved if c["id"] == clause["id"]] == ["annex"]


def test_the_api_conflict_gives_the_base_version_and_text(api, client, world):
    document = world.document("declaration")
    clause = make_clause(api, document["id"])
    theirs = BASE.replace("annual report", "yearly summary")
    assert api.as_("editor2").patch(f"/clauses/{clause['id']}", json={"text": theirs, "base_version": 1}).status_code == 200
    answer = api.as_("editor").patch(f"/clauses/{clause['id']}",
                                     json={"text": BASE.replace("annual", "audited"), "base_version": 1})
    assert answer.status_code == 409
    body = answer.get_json()
    assert body["base_version"] == 1 and body["base_text"] == BASE
    assert body["current"]["text"] == theirs and body["changed_by"] == [world.user("editor2").name]
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Error"]["properties"]
    assert {"base_version", "base_text", "changed_by"} <= set(schema)


def test_a_long_run_of_spaces_is_quick():
    base = "Alpha" + " " * 49_000 + "omega."
    began = time.perf_counter()
    view = conflict_view(base, base.replace("Alpha", "Beta"), base.replace("Alpha", "Gamma"))
    assert time.perf_counter() - began < 2
    assert view.overlaps == 1 and view.combined.startswith("Beta ")


def test_when_the_work_budget_runs_out_the_regions_widen_but_stay_exact():
    words = [f"word{k % 97}x{k}" for k in range(2_000)]
    base = " ".join(words)
    mine, theirs = base.replace("x1", "y1"), base.replace("x5", "z5")
    full, cut = find_conflict(base, mine, theirs), find_conflict(base, mine, theirs, work=500)
    assert not full.coarse and not full.overlaps
    assert cut.coarse and len(cut.regions) < len(full.regions)
    for side, text in ((MINE, mine), (THEIRS, theirs)):
        assert seen(side_html(cut, side), "del") == text
