"""The interface in the consortium's languages, in a browser (issue 18, item 5): pages follow the
browser's language, survive the longest translations at phone width, stay axe clean; and the
side-by-side translation page is edited live."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import run_axe

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
# Hungarian, Portuguese and Bulgarian (Cyrillic) run longest; each page at 360 px wide.
PAGES = ["/documents", "/documents/1", "/documents/2", "/documents/1/translations", "/documents/1/translations/hu",
         "/settings/language", "/documents/2/signoff", "/documents/1/versions"]


def wider_than_the_window(page) -> list[str]:
    return page.evaluate("""() => {
        const w = window.innerWidth, out = [];
        if (document.documentElement.scrollWidth > w) for (const el of document.querySelectorAll('body *')) {
            const r = el.getBoundingClientRect();
            if (r.width && r.right > w + 1) out.push(el.tagName.toLowerCase() + '.' + el.className + ' ' + Math.round(r.right));
        }
        return out.slice(0, 5);
    }""")


@pytest.mark.parametrize("lang", ["hu", "pt", "bg"])
def test_pages_speak_the_browsers_language_at_phone_width_and_stay_accessible(new_page, live_server, lang):
    page = new_page("editor", viewport=PHONE, locale=lang)
    english = {"/documents": "Documents", "/settings/language": "Language and time zone"}
    for path in PAGES:
        page.goto(live_server.url(path))
        assert page.get_attribute("html", "lang") == lang, path
        assert wider_than_the_window(page) == [], (lang, path)
        if path in english:
            assert english[path] not in page.locator("h1").first.inner_text(), (lang, path)
        if path in ("/documents/1", "/documents/1/translations/hu", "/settings/language"):
            assert run_axe(page) == [], (lang, path)
    # The translation meter draws its progress (the demo's Hungarian: 32 of 33 clauses
    # translated); a style attribute would be refused by the Content-Security-Policy.
    page.goto(live_server.url("/documents/1/translations"))
    meter = page.locator("#language-hu .translation-meter")
    done, whole = meter.locator(".meter-done").bounding_box(), meter.bounding_box()
    assert 0.9 * whole["width"] < done["width"] < whole["width"], (done, whole)
    # The scripts speak it too: the live badge of the document page.
    page.goto(live_server.url("/documents/1"))
    badge = page.locator("#connection")
    expect(badge).to_have_attribute("data-state", "online")
    assert badge.inner_text().strip() not in ("Live", "Connecting…", "")


def test_a_chosen_language_wins_over_the_browsers(new_page, live_server):
    page = new_page("observer", locale="sv")
    page.goto(live_server.url("/settings/language"))
    assert page.get_attribute("html", "lang") == "sv"
    page.select_option("#locale", "cs")
    page.select_option("#timezone", "Europe/Prague")
    page.locator("form.stack button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", "cs")
    expect(page.locator(".flash")).to_be_visible()
    page.goto(live_server.url("/documents"))
    assert page.get_attribute("html", "lang") == "cs"


def test_a_translation_is_edited_side_by_side_and_reaches_the_other_reader_live(new_page, live_server):
    editor, reader = new_page("editor"), new_page("observer")
    for page in (editor, reader):
        page.goto(live_server.url("/documents/1/translations/hu?show=stale"))
        expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    row = editor.locator("li.translation-row").first
    expect(row.locator(".translation-changes")).to_be_visible()  # what changed in the English since
    row.get_by_role("link", name="Edit translation").click()
    form = editor.locator("form.translation-form")
    expect(form.locator("textarea")).to_be_focused()
    form.locator("textarea").fill("Az új szöveg, a regionális partnerekkel együtt.")
    form.get_by_role("button", name="Save translation").click()
    expect(editor.locator("li.translation-row.state-translated .clause-status")).to_contain_text("Translation saved")
    # The reader's row changes without a reload: translated, with the new text.
    reader_row = reader.locator("li.translation-row").first
    expect(reader_row).to_have_class(re.compile(r"\bstate-translated\b"))
    expect(reader_row).to_contain_text("Az új szöveg, a regionális partnerekkel együtt.")
    assert run_axe(editor) == []


def test_the_translation_meter_keeps_its_progress_in_forced_colours(new_page, live_server):
    # Windows' high-contrast themes replace the page's colours with a few system ones; the
    # meter then draws in those (done: Highlight, stale: GrayText, the rest: Canvas inside a
    # CanvasText edge), so its parts still differ from one another and from the page.
    page = new_page("admin")
    page.emulate_media(forced_colors="active")
    page.goto(live_server.url("/documents/1/translations"))
    colours = page.locator("#language-hu .translation-meter").evaluate("""meter => {
        const system = name => {
            const probe = document.createElement('span');
            probe.style.color = name;  // a property set from script: the CSP allows it
            document.body.append(probe);
            const value = getComputedStyle(probe).color;
            probe.remove();
            return value;
        };
        const style = getComputedStyle(meter);
        return {
            track: style.backgroundColor, edge: style.borderTopColor, edge_style: style.borderTopStyle,
            done: getComputedStyle(meter.querySelector('.meter-done')).fill,
            stale: getComputedStyle(meter.querySelector('.meter-stale')).fill,
            Highlight: system('Highlight'), GrayText: system('GrayText'),
            Canvas: system('Canvas'), CanvasText: system('CanvasText')};
    }""")
    assert colours["done"] == colours["Highlight"], colours
    assert colours["stale"] == colours["GrayText"], colours
    assert colours["track"] == colours["Canvas"], colours
    assert colours["edge"] == colours["CanvasText"] and colours["edge_style"] == "solid", colours
    assert len({colours["Highlight"], colours["GrayText"], colours["Canvas"]}) == 3, colours
