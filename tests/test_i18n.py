"""The interface in nine languages (issue 18, item 1): complete catalogues, no string left out of
them, the language chosen by the person or their browser, dates and numbers by locale.

The scans here read the templates and scripts as files (what a translator would miss); the rest
goes through HTTP as a browser would.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po
from jinja2 import Environment
from jinja2.ext import i18n as i18n_extension

from drafting.config import ROOT
from drafting.i18n import JS_MESSAGES, LANGUAGES

TEMPLATES = ROOT / "templates"
CATALOGUES = ROOT / "drafting" / "translations"
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None, "N_": None}
# Attributes whose value a person reads or hears.
READ_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt", "hx-confirm", "data-confirm", "aria-roledescription",
                   "aria-valuetext", "data-label", "data-busy", "data-done", "data-message")
# Words that are the same in every language: the product's name, format and standard names.
SAME_EVERYWHERE = {"drafting", "Markdown", "Word", "DOCX", "PDF", "HTML", "JSON", "API", "XML", "Akoma", "Ntoso",
                   "UTC", "SHA", "Ed25519", "OpenAPI", "CSV", "ID", "PNG", "SVG", "JavaScript", "OASIS"}


# ---- scanning templates --------------------------------------------------------------------------

def _visible_words(text: str) -> list[str]:
    text = re.sub(r"&[#\w]+;", " ", text)
    return [w for w in re.findall(r"[^\W\d_][^\W\d_'’.-]+", text) if w not in SAME_EVERYWHERE]


def untranslated(source: str) -> list[str]:
    """The pieces of a template's own text (outside {{ }}, {% %} and {% trans %}) a person would read."""
    env = Environment(extensions=[i18n_extension])
    found: list[str] = []
    in_tag = in_comment = False
    skip_until: str | None = None  # inside <script> or <style>
    trans_depth = 0
    last_names: list[str] = []
    for _line, kind, value in env.lex(source):
        if kind == "whitespace":
            continue
        if kind == "name" and last_names and last_names[-1] == "block_begin":
            if value in ("trans", "pluralize"):
                trans_depth += value == "trans"
            elif value == "endtrans":
                trans_depth -= 1
        last_names = [*last_names[-1:], kind]
        if kind != "data" or trans_depth:
            continue
        i, text = 0, []
        while i < len(value):
            if skip_until:
                end = value.find(skip_until, i)
                if end < 0:
                    break
                i, skip_until = end, None
                continue
            if in_comment:
                end = value.find("-->", i)
                if end < 0:
                    break
                i, in_comment = end + 3, False
                continue
            if in_tag:
                end = value.find(">", i)
                chunk = value[i:] if end < 0 else value[i:end]
                for name, attr in re.findall(r'([\w:-]+)="([^"{]*)', chunk):
                    if name in READ_ATTRIBUTES or name.startswith("data-confirm"):
                        found += _visible_words(attr)
                if end < 0:
                    break
                in_tag, i = False, end + 1
                continue
            if value.startswith("<!--", i):
                in_comment, i = True, i + 4
                continue
            if value[i] == "<":
                match = re.match(r"<(script|style)\b", value[i:])
                if match:
                    skip_until = f"</{match.group(1)}"
                in_tag = True
                i += 1
                continue
            text.append(value[i])
            i += 1
        found += _visible_words("".join(text))
    return found


@pytest.mark.parametrize("path", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html")))
def test_no_template_text_is_left_outside_the_catalogue(path):
    assert untranslated((TEMPLATES / path).read_text(encoding="utf-8")) == []


def test_the_scanner_finds_text_and_attributes_and_spares_what_is_translated():
    assert untranslated('<p title="Close it">Hello {{ name }}</p>') == ["Close", "it", "Hello"]
    assert untranslated('<p title="{{ _("Close") }}">{{ _("Hello") }} · §</p><!-- a note -->') == []
    assert untranslated("{% trans n=1 %}One clause{% pluralize %}{{ n }} clauses{% endtrans %}") == []
    assert untranslated("<script>let words = 'not text';</script><style>.a { color: red }</style>") == []


# ---- the scripts' strings ------------------------------------------------------------------------

# draftingT("...") or draftingT('...') with a literal first argument (static/i18n.js defines draftingT:
# its examples are left out).
SCRIPT_CALL = re.compile(r"""draftingT\(\s*(?:"((?:\\.|[^"\\])*)"|'((?:\\.|[^'\\])*)')""")


def _script_messages() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "static").glob("*.js")):
        if path.name == "i18n.js":
            continue
        for match in SCRIPT_CALL.finditer(path.read_text(encoding="utf-8")):
            literal = match.group(1) if match.group(1) is not None else match.group(2)
            found.setdefault(re.sub(r"\\(.)", r"\1", literal), set()).add(path.name)
    return found


def test_every_string_the_scripts_translate_is_in_the_catalogue_list():
    used = _script_messages()
    assert used, "no draftingT(...) call found in static/*.js"
    missing = {message: sorted(files) for message, files in used.items() if message not in JS_MESSAGES}
    assert missing == {}, "add these to drafting.i18n.JS_MESSAGES"
    unused = [message for message in JS_MESSAGES if message not in used]
    assert unused == [], "no script shows these any more: remove them from drafting.i18n.JS_MESSAGES"
    assert len(set(JS_MESSAGES)) == len(JS_MESSAGES)


def test_the_page_loads_the_scripts_translations_in_its_language(client, auth):
    auth.login("editor")
    page = client.get("/documents", headers={"Accept-Language": "cs"}).get_data(as_text=True)
    url = re.search(r'<script src="(/i18n/cs\.js\?v=[0-9a-f]{12})" defer>', page)
    assert url, "base.html loads the scripts' translations for the page's language"
    script = client.get(url.group(1))
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert "immutable" in script.headers["Cache-Control"]
    body = script.get_data(as_text=True)
    assert body.startswith("window.draftingMessages = ") and "</" not in body
    messages = json.loads(body[len("window.draftingMessages = "):].rstrip().rstrip(";"))
    assert set(messages) == set(JS_MESSAGES) and all(isinstance(v, str) and v for v in messages.values())
    assert client.get("/i18n/xx.js").status_code == 404


# ---- the catalogues ----------------------------------------------------------------------------------

METHODS = [("drafting/**.py", "python"), ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2")]


def extracted() -> dict[str | tuple[str, str], set[str]]:
    """Every message the code and templates mark (msgid, or (singular, plural)), with where it is."""
    found: dict = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), METHODS, keywords=KEYWORDS, comment_tags=(), strip_comment_tags=True):
        key = message if isinstance(message, str) else tuple(message[:2])
        found.setdefault(key, set()).add(filename)
    return found


@pytest.fixture(scope="module")
def messages():
    return extracted()


@pytest.mark.parametrize("lang", [code for code in LANGUAGES if code != "en"])
def test_each_catalogue_translates_every_message_and_nothing_is_fuzzy(messages, lang):
    path = CATALOGUES / lang / "LC_MESSAGES" / "messages.po"
    assert path.exists(), f"no catalogue for {lang}: make catalogues"
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=lang)
    by_id = {message.id if isinstance(message.id, str) else tuple(message.id): message
             for message in catalogue if message.id}
    missing = sorted(str(key) for key in messages if key not in by_id)
    assert missing == [], f"{len(missing)} messages are not in {lang}'s catalogue: make catalogues"
    untranslated = sorted(str(key) for key, message in by_id.items() if key in messages and (
        not message.string or (not isinstance(message.string, str) and not all(message.string))))
    assert untranslated == [], f"{len(untranslated)} messages are not translated into {lang}"
    fuzzy = sorted(str(key) for key, message in by_id.items() if message.fuzzy)
    assert fuzzy == [], f"fuzzy translations in {lang}"
    # Placeholders: a translation has the msgid's %(name)s placeholders (Babel's checkers).
    problems = [(str(message.id), [str(e) for e in errors]) for message, errors in catalogue.check()]
    assert problems == []
    # The plural rule is the language's own (CLDR): Czech has three forms, Bulgarian two.
    assert catalogue.plural_forms == Catalog(locale=lang).plural_forms
    stale = sorted(str(key) for key in by_id if key not in messages)
    assert stale == [], f"{lang}'s catalogue has messages the code no longer marks: make catalogues"


# ---- the language a page speaks ------------------------------------------------------------------

def test_pages_follow_accept_language_then_the_persons_choice(client, auth):
    login = client.get("/login", headers={"Accept-Language": "hu-HU,hu;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="hu">' in login
    assert '<html lang="en">' in client.get("/login", headers={"Accept-Language": "ja, zh"}).get_data(as_text=True)
    assert '<html lang="bg">' in client.get("/login", headers={"Accept-Language": "bg"}).get_data(as_text=True)
    auth.login("editor")
    saved = client.post("/settings/language", data={"locale": "cs", "timezone": "Europe/Prague"})
    assert saved.status_code == 302
    page = client.get("/documents", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert '<html lang="cs">' in page  # the person's choice wins over the browser's
    client.post("/settings/language", data={"locale": "", "timezone": ""})
    assert '<html lang="sv">' in client.get("/documents", headers={"Accept-Language": "sv"}).get_data(as_text=True)


def test_a_bad_language_or_time_zone_is_refused_in_the_page(client, auth):
    auth.login("observer")
    for form in ({"locale": "xx", "timezone": ""}, {"locale": "hu", "timezone": "Mars/Olympus"},
                 {"locale": "<script>", "timezone": "Europe/Budapest"}):
        answer = client.post("/settings/language", data=form)
        assert answer.status_code == 422
        assert 'role="alert"' in answer.get_data(as_text=True) and "<script>" not in answer.get_data(as_text=True)


def test_dates_and_numbers_follow_the_language_and_the_time_zone(app):
    from drafting.i18n import day, number, when

    moment = datetime(2027, 3, 31, 15, 0)  # stored as UTC
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert (when(moment), day(moment), number(20000)) == ("31 Mar 2027, 15:00 UTC", "31 Mar 2027", "20,000")
    with app.test_request_context(headers={"Accept-Language": "hu"}):
        assert when(moment) == "2027. márc. 31., 15:00 UTC" and number(20000) == "20\xa0000"
    with app.test_request_context(headers={"Accept-Language": "de"}):  # not offered: English
        assert when(moment).endswith("UTC") and "Mar" in when(moment)

    class Person:
        locale, timezone = "pt", "Europe/Lisbon"

    from drafting.i18n import for_user
    with app.test_request_context(), for_user(Person()):
        assert when(moment) == "31 de mar. de 2027, 16:00 WEST"


def test_plural_forms_follow_each_language(app):
    from flask_babel import ngettext

    def forms(lang: str, counts: tuple[int, ...]) -> dict[int, str]:
        with app.test_request_context(headers={"Accept-Language": lang}):
            return {n: re.sub(r"\d+", "N", ngettext("%(num)s clause translated", "%(num)s clauses translated", n))
                    for n in counts}

    czech = forms("cs", (1, 3, 5))
    assert len(set(czech.values())) == 3, czech  # Czech: one, few (2-4), other (5+)
    bulgarian = forms("bg", (1, 2, 5))
    assert bulgarian[2] == bulgarian[5] != bulgarian[1], bulgarian
    hungarian = forms("hu", (1, 5))
    assert "N" in hungarian[5] and hungarian[5] != "N clauses translated"


def test_the_api_answers_errors_in_the_clients_language(api, declaration, client):
    token = api.world.token("observer")
    answer = client.get("/api/v1/documents/999999", headers={"Authorization": f"Bearer {token}",
                                                               "Accept-Language": "fr"})
    assert answer.status_code == 404
    english = client.get("/api/v1/documents/999999", headers={"Authorization": f"Bearer {token}"})
    assert answer.get_json()["error"]["message"] != english.get_json()["error"]["message"]
    assert answer.get_json()["error"]["code"] == english.get_json()["error"]["code"]  # codes stay codes


# ---- mail and notifications in the recipient's language ------------------------------------------

def test_each_recipient_is_told_in_their_own_language_and_time_zone(app, api, declaration):
    from sqlalchemy import select

    from drafting.extensions import db
    from drafting.models import Notification, OutboxMail, User
    from tests.conftest import EMAILS

    with app.app_context():
        signatory = db.session.scalar(select(User).where(User.email == EMAILS["signatory"]))
        signatory.locale, signatory.timezone = "hu", "Europe/Budapest"
        db.session.commit()
    opened = api.as_("admin").post(f"/documents/{declaration['id']}/phase",
                                   json={"phase": "consultation", "deadline": "2030-03-31T17:00:00Z"})
    assert opened.status_code == 200
    with app.app_context():
        mails = {m.to_email: m for m in db.session.scalars(select(OutboxMail).where(OutboxMail.category == "consultation"))}
        emails = {u.id: u.email for u in db.session.scalars(select(User))}
        told = {emails[n.user_id]: n.message for n in db.session.scalars(select(Notification))}
    english, hungarian = mails[EMAILS["editor"]], mails[EMAILS["signatory"]]
    assert english.subject.startswith("Consultation open: ") and "31 Mar 2030, 17:00 UTC" in english.text_body
    assert not hungarian.subject.startswith("Consultation open") and "2030. márc. 31., 19:00 CEST" in hungarian.text_body
    assert 'lang="hu"' in hungarian.html_body and 'lang="en"' in english.html_body
    assert "2030. márc. 31., 19:00 CEST" in told[EMAILS["signatory"]]


def test_an_app_started_without_compiled_catalogues_compiles_them(tmp_path, database):
    import shutil

    from tests.conftest import make_app

    for lang in ("hu", "sv"):
        target = tmp_path / lang / "LC_MESSAGES"
        target.mkdir(parents=True)
        shutil.copy(CATALOGUES / lang / "LC_MESSAGES" / "messages.po", target / "messages.po")
    app = make_app(database, BABEL_TRANSLATION_DIRECTORIES=str(tmp_path))
    assert (tmp_path / "hu" / "LC_MESSAGES" / "messages.mo").exists()
    with app.test_request_context(headers={"Accept-Language": "hu"}):
        from flask_babel import gettext
        assert gettext("Documents") not in ("Documents", "")
