"""Hidden and direction-changing characters are shown visibly wherever clause text is shown."""

from __future__ import annotations

import pytest

from drafting.text.reveal import find_invisible, reveal
from tests.conftest import HX

RLO = "\u202e"
TROJAN = f"The clusters commit {RLO}%04 ot%02 morf{chr(0x202c)} of funding."


@pytest.mark.parametrize("char, code", [
    ("\u202e", "U+202E"), ("\u2066", "U+2066"), ("\u200b", "U+200B"), ("\ufeff", "U+FEFF"),
    ("\u200f", "U+200F"), ("\u00ad", "U+00AD"), ("\U000e0041", "U+E0041"),
])
def test_each_hidden_character_is_found_and_badged(char, code):
    text = f"a{char}b"
    assert [found[1] for found in find_invisible(text)] == [code]
    html = str(reveal(text))
    assert "hidden-char" in html and code in html
    assert char not in html  # replaced by its badge, so it cannot reorder or hide anything


def test_plain_text_and_emoji_joiners_are_left_alone():
    assert find_invisible("Plain words, Grüße, Ελληνικά.") == []
    assert find_invisible("Team work 👩\u200d💻 in Persian می\u200cخواهم") == []
    assert [f[1] for f in find_invisible("pay\u200d10")] == ["U+200D"]  # a joiner between ASCII has no use


def test_reveal_escapes_html_and_keeps_markup_it_is_given():
    assert str(reveal("<b>x</b>\u202e")).startswith("&lt;b&gt;x&lt;/b&gt;")
    from markupsafe import Markup

    assert str(reveal(Markup("<ins>x\u200b</ins>"))).startswith("<ins>x<span class=\"hidden-char\"")


def test_trojan_source_text_is_visible_in_page_fragment_diff_and_editor(client, auth, api, world):
    declaration = world.document("declaration")
    clause_id = declaration["clause_ids"][0]
    saved = api.as_("editor").patch(f"/clauses/{clause_id}", json={"text": TROJAN, "base_version": 1})
    assert saved.status_code == 200 and saved.get_json()["clause"]["text"] == TROJAN  # stored exactly as typed
    auth.login("editor")
    views = {
        "page": client.get(f"/documents/{declaration['id']}").get_data(as_text=True),
        "fragment": client.get(f"/clauses/{clause_id}", headers=HX).get_data(as_text=True),
        "diff": client.get(f"/clauses/{clause_id}/diff?from=1&to=2", headers=HX).get_data(as_text=True),
        "side by side": client.get(f"/clauses/{clause_id}/diff?from=1&to=2&view=side", headers=HX)
        .get_data(as_text=True),
    }
    for name, html in views.items():
        assert "⟦RLO⟧" in html and "RIGHT-TO-LEFT OVERRIDE" in html, name
        assert "⟦PDF⟧" in html, name
    editor = client.get(f"/clauses/{clause_id}/edit", headers=HX).get_data(as_text=True)
    assert "2 hidden or direction-changing characters" in editor
    assert "U+202E right-to-left override" in editor


def test_hidden_characters_are_visible_on_the_sign_off_page(client, auth, api, world):
    from tests.phases import walk

    declaration = world.document("declaration")
    clause_id = declaration["clause_ids"][0]
    assert api.as_("editor").patch(f"/clauses/{clause_id}", json={"text": TROJAN, "base_version": 1}).status_code == 200
    walk(api, declaration["id"], "signing")
    auth.login("signatory")
    page = client.get(f"/documents/{declaration['id']}/signoff").get_data(as_text=True)
    assert "⟦RLO⟧" in page and RLO not in page
