"""The interface in the consortium's languages (Flask-Babel), in each person's time zone.

A page's language is the person's own choice (their language setting), else the best match of
the browser's Accept-Language among LANGUAGES, else English. Dates and times are shown in the
person's time zone (their setting; UTC until they choose one), formatted by the language's
conventions (CLDR, through Babel). The catalogues live in drafting/translations/<lang>/LC_MESSAGES/
messages.po; `make translations` compiles them (make run and make test do it first). Messages are
extracted from drafting/**.py, templates/**.html and the strings static/app.js and its siblings
show (JS_MESSAGES below, served to each page as /i18n/<lang>.js): babel.cfg.

Strings built at import time (constants) use `lazy_gettext`; a notification or e-mail written for
someone else is rendered in that person's language (`for_user`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytz
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from flask import Flask, Response, abort, g, has_request_context, request, url_for
from flask.globals import _cv_app
from flask_babel import (
    Babel,
    _get_current_context,
    force_locale,
    get_locale,
    get_translations,
    gettext,
    to_user_timezone,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user

# The consortium's languages, each named in itself (as a language menu shows them).
LANGUAGES = {
    "en": "English",
    "bg": "Български",
    "cs": "Čeština",
    "es": "Español",
    "fr": "Français",
    "hu": "Magyar",
    "nl": "Nederlands",
    "pt": "Português",
    "sv": "Svenska",
}
DEFAULT_LANGUAGE = "en"
DEFAULT_TIMEZONE = "UTC"
CATALOGUES = Path(__file__).resolve().parent / "translations"

babel = Babel()


def clean_language(value: object) -> str | None:
    """A language code of LANGUAGES, or None."""
    return value if isinstance(value, str) and value in LANGUAGES else None


def _person():
    """Who the request is for: the logged-in person, or the API token's owner."""
    if current_user and getattr(current_user, "is_authenticated", False):
        return current_user
    return g.get("api_user")


def select_locale() -> str:
    """The person's language setting, else the browser's best match, else English."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    user = _person()
    chosen = getattr(user, "locale", None) if user is not None else None
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES), DEFAULT_LANGUAGE) or DEFAULT_LANGUAGE


def select_timezone() -> str:
    if not has_request_context():
        return DEFAULT_TIMEZONE
    user = _person()
    return getattr(user, "timezone", None) or DEFAULT_TIMEZONE


@contextmanager
def for_user(user) -> Iterator[None]:
    """Render for `user` (a mail, a notification): in their language (else English) and their time
    zone (else UTC), whoever's request or worker this runs in."""
    ctx = _get_current_context()
    zone = pytz.timezone(getattr(user, "timezone", None) or DEFAULT_TIMEZONE)
    before = getattr(ctx, "babel_tzinfo", None) if ctx is not None else None
    with force_locale(getattr(user, "locale", None) or DEFAULT_LANGUAGE):
        if ctx is None:
            yield
            return
        ctx.babel_tzinfo = zone
        try:
            yield
        finally:
            ctx.babel_tzinfo = before


def language() -> str:
    """The language of the current request (a code of LANGUAGES)."""
    return str(get_locale() or DEFAULT_LANGUAGE)


def formatting_locale() -> str:
    """The locale dates and numbers follow: the interface language; English the European way."""
    code = language()
    return "en_GB" if code == "en" else code


def when(moment: datetime | None) -> str:
    """A moment (stored as naive UTC) in the person's time zone, the way their language writes it,
    with the zone's abbreviation: "30 Nov 2026, 09:40 UTC", "2026. nov. 30., 10:40 CET"."""
    if not moment:
        return ""
    local = to_user_timezone(moment)
    where = formatting_locale()
    return f"{format_date(local, 'medium', locale=where)}, {format_time(local, 'short', locale=where)} {local.tzname()}"


def day(moment: datetime | None) -> str:
    """A date alone, in the person's time zone and language: "30 Nov 2026"."""
    return format_date(to_user_timezone(moment), "medium", locale=formatting_locale()) if moment else ""


def number(value: int | float) -> str:
    """A number the way the person's language writes it (1,400 / 1 400 / 1.400)."""
    return format_decimal(value, locale=formatting_locale())


def language_name(code: str) -> str:
    return LANGUAGES.get(code, code)


def timezones() -> list[str]:
    """The time zones a person may choose: Europe's first, then the rest of the IANA database."""
    from zoneinfo import available_timezones

    zones = sorted(zone for zone in available_timezones() if "/" in zone and not zone.startswith(("Etc/", "SystemV/")))
    return ["UTC", *[z for z in zones if z.startswith("Europe/")], *[z for z in zones if not z.startswith("Europe/")]]


def N_(message: str) -> str:
    """Mark a string for the catalogues without translating it here (it is looked up later)."""
    return message


# The strings the scripts (static/*.js) show, by their English text: each page carries their
# translations (/i18n/<lang>.js, `messages_script`), the scripts look them up with `draftingT("...")`. A test checks
# that every `t("...")` in the scripts is listed here.
JS_MESSAGES: tuple[str, ...] = (
    # static/app.js
    N_("The request failed (%(status)s)."),
    N_("Could not reach the server. You seem to be offline; nothing was changed."),
    N_("Offline: your text is kept here; save when the connection returns."),
    N_("%(name)s saved version %(version)s while you were editing. When you save, your changes are merged with theirs; if you both changed the same words you will be asked to choose."),
    N_("Someone"),
    N_("This clause was deleted by someone else. Copy your text if you still need it."),
    N_("%(name)s deleted this clause while you were editing it. Copy your text if you still need it."),
    N_("Could not refresh the clauses; reload the page."),
    N_("%(organisation)s has withdrawn from this document; adoption no longer waits for it."),
    N_("The document moved to the drafting phase. Your open form keeps its text; copy it if you need it, then reload the page."),
    N_("The document moved to the consultation phase. Your open form keeps its text; copy it if you need it, then reload the page."),
    N_("The document moved to the final review phase. Your open form keeps its text; copy it if you need it, then reload the page."),
    N_("The document moved to the signing phase. Your open form keeps its text; copy it if you need it, then reload the page."),
    N_("The document moved to the adopted phase. Your open form keeps its text; copy it if you need it, then reload the page."),
    N_("The document moved to the drafting phase. Reloading…"),
    N_("The document moved to the consultation phase. Reloading…"),
    N_("The document moved to the final review phase. Reloading…"),
    N_("The document moved to the signing phase. Reloading…"),
    N_("The document moved to the adopted phase. Reloading…"),
    N_("The document moved to the %(phase)s phase. Your open form keeps its text; copy it if you need it, then reload the page."),
    N_("The document moved to the %(phase)s phase. Reloading…"),
    N_("is editing %(clause)s"),
    N_("is editing a clause"),
    N_("%(name)s, %(organisation)s, is editing this clause."),
    N_("Not connected: %(reason)s"),
    N_("Not connected: refused"),
    N_("Live: changes appear as they happen"),
    N_("Offline: changes are paused until the connection returns"),
    N_("Offline: trying to reconnect…"),
    N_("Comment on the selected words"),
    N_("Quoted in a comment"),
    N_("Could not refresh the discussion; reload the page."),
    N_("You have a new notification."),
    N_("Showing only the %(count)s clauses with open threads."),
    N_("Showing all clauses."),
    # the consultation countdown: "1 day", "3 days 4 hours" (a larger unit, then a smaller one)
    N_("1 day"),
    N_("%(n)s days"),
    N_("1 hour"),
    N_("%(n)s hours"),
    N_("1 minute"),
    N_("%(n)s minutes"),
    N_("%(days)s %(hours)s"),
    N_("%(hours)s %(minutes)s"),
    N_("less than a minute"),
    N_("no time: the deadline has passed"),
    N_("The consultation deadline has passed. Reload the page to see it closed."),
    N_("This text contains 1 hidden or direction-changing character: %(codes)s. They are shown as ⟦…⟧ badges in the document."),
    N_("This text contains %(count)s hidden or direction-changing characters: %(codes)s. They are shown as ⟦…⟧ badges in the document."),
    N_("Sign-off changed for %(organisation)s."),
    N_("Members to mention"),
    # static/drafts.js
    N_("You have unsaved text from %(when)s for this clause."),
    N_("You have unsaved text from %(when)s for a new clause."),
    N_("You have unsaved text from %(when)s for this comment."),
    N_("You have unsaved text from %(when)s for this reply."),
    N_("You have unsaved text from %(when)s for this amendment."),
    N_("You have unsaved text from %(when)s for this contribution."),
    N_("You have unsaved text from %(when)s for this form."),
    N_("Restore it"),
    N_("Discard it"),
    N_("The unsaved text was discarded."),
    N_("Restored your unsaved text from %(when)s. Saving merges it with any changes made since version %(version)s."),
    N_("Restored your unsaved text from %(when)s."),
    N_("This form cannot be opened here any more; the text is still kept."),
    N_("Discard your changes?"),
    N_("Keep editing"),
    N_("Discard changes"),
    N_("What you typed in this form will be lost. Press Keep editing to go on writing."),
    N_("You have unsaved text in an open form. Logging out removes it from this browser."),
    N_("You have unsaved text in %(count)s open forms. Logging out removes it from this browser."),
    N_("Session ended: not live. Log in again to see others' changes and save yours."),
    N_("Your session has ended. Nothing you typed is lost: log in again in a new tab, then come back here and press Retry."),
    N_("Log in again in a new tab"),
    N_("Retry"),
    N_("Checking your session…"),
    N_("You are not logged in yet. Log in in the new tab (link above), then press Retry again."),
    N_("This browser is now logged in as someone else. Log in again as yourself, then press Retry; your text is kept."),
    N_("You are logged in again. Press Save again to send your text."),
    N_("Could not reach the server. Check your connection, then press Retry again; your text is kept."),
    N_("Press Save again to send your text."),
    # static/conflict.js
    N_("Your version is in the text box: save it, or edit it first."),
    N_("The combined text is in the text box. Then save."),
    N_("The combined text is in the text box; the first place you both changed is selected: your words, check them. Then save."),
    # static/outline.js
    N_("Live"),
    N_("Offline"),
    N_("Connecting…"),
    N_("Clause %(number)s"),
    N_("No clause matches “%(query)s”."),
    N_("%(shown)s of %(total)s clauses match “%(query)s”."),
    N_("There is no clause %(number)s; the document has %(count)s."),
    N_("More actions (on a wide screen, the arrow keys move between a clause's actions)"),
    N_("The arrow keys reach this clause's other actions."),
    # static/review.js
    N_("That is %(date)s in %(zone)s (%(utc)s UTC)."),
    N_("No open amendments: nothing is proposed."),
    N_("1 proposed change marked in the text."),
    N_("%(count)s proposed changes marked in the text."),
    N_("Could not load the proposed changes; try again."),
    N_("Hide proposed changes"),
    N_("Show proposed changes"),
    N_("Added by %(who)s at %(time)s."),
    N_("Changed by %(who)s at %(time)s (now version %(version)s)."),
    N_("See what changed"),
    N_("Mark as seen"),
    N_("Mark as seen: the change to this clause"),
    # ... deletions, moves and restores by someone else, with their name
    N_("“%(clause)s”"),
    N_("%(who)s deleted “%(clause)s”."),
    N_("%(who)s deleted a clause."),
    N_("%(who)s restored “%(clause)s”."),
    N_("%(who)s restored a deleted clause."),
    N_("%(who)s moved “%(clause)s”."),
    N_("%(who)s changed the order of the clauses: %(clauses)s moved."),
    N_("%(who)s changed the order of the clauses."),
    # static/people.js
    N_("Copied."),
    # static/translations.js
    N_("Someone else saved a new version of this translation: saving yours merges them, or shows both if you changed the same words."),
    N_("The authentic text of this clause changed while you were translating it."),
    N_("Clauses were added, moved or deleted: reload the page to see them."),
)


def js_messages() -> dict[str, str]:
    """The scripts' strings in the request's language, keyed by their English text."""
    return {message: gettext(message) for message in JS_MESSAGES}


def messages_version() -> str:
    """A short fingerprint of the scripts' messages and the compiled catalogues: the scripts'
    translations are cached by browsers for a year under a URL that carries it."""
    digest = hashlib.sha256("\x00".join(JS_MESSAGES).encode())
    for path in sorted(CATALOGUES.glob("*/LC_MESSAGES/messages.mo")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def messages_script(lang: str) -> Response:
    """The scripts' strings in `lang` as a small script (static/i18n.js reads window.draftingMessages)."""
    if lang not in LANGUAGES:
        abort(404)
    with force_locale(lang):
        body = "window.draftingMessages = " + json.dumps(js_messages(), ensure_ascii=False,
                                                         sort_keys=True).replace("</", "<\\/") + ";\n"
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def _context():
    """Where Flask-Babel keeps the locale of the current app context (`g._flask_babel`), if yet."""
    app_context = _cv_app.get(None)
    return getattr(app_context.g, "_flask_babel", None) if app_context is not None else None


def translations():
    """The catalogue of the current locale, looked up once per request and locale.

    A page renders thousands of strings; Flask-Babel's own lookup walks three context proxies and
    formats the locale's name for each (measured: the 500-clause page went from 131 to 307 ms
    when nothing was cached). The locale object a request resolved (or `force_locale` set) is
    kept beside the catalogue it found, so a forced or changed locale is noticed at once."""
    ctx = _context()
    if ctx is not None:
        locale = getattr(ctx, "babel_locale", None)
        kept = getattr(ctx, "drafting_translations", None)
        if kept is not None and locale is not None and kept[0] is locale:
            return kept[1]
    found = get_translations()  # resolves the locale (and makes the context) when not yet done
    ctx = _context()
    if ctx is not None:
        ctx.drafting_translations = (getattr(ctx, "babel_locale", None), found)
    return found


def compile_catalogues(directory: Path) -> list[str]:
    """Compile each catalogue (.po) whose .mo is missing or older, as `make translations` does, so
    that an app started without that step (a deployment that forgot it) still speaks every
    language. Returns the languages compiled; a directory that cannot be written is left as is
    (with a warning in the log: those languages then show English)."""
    compiled = []
    for source in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        target = source.with_suffix(".mo")
        if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
            continue
        lang = source.parent.parent.name
        try:
            with source.open("rb") as handle:
                catalogue = read_po(handle, locale=lang)
            with target.open("wb") as out:
                write_mo(out, catalogue)
        except OSError as error:
            logging.getLogger(__name__).warning("cannot compile the %s catalogue (%s): make translations", lang, error)
            continue
        compiled.append(lang)
    return compiled


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", DEFAULT_TIMEZONE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    for directory in app.config["BABEL_TRANSLATION_DIRECTORIES"].split(";"):
        compile_catalogues(Path(app.root_path) / directory)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.install_gettext_callables(  # Flask-Babel's, with the catalogue looked up once
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True)
    app.add_url_rule("/i18n/<lang>.js", "i18n_messages", messages_script)
    version = messages_version()
    app.jinja_env.filters.update(when=when, day=day, number=number)
    app.jinja_env.globals.update(languages=LANGUAGES, language=language, language_name=language_name,
                                 messages_url=lambda: url_for("i18n_messages", lang=language(), v=version))


__all__ = ["LANGUAGES", "N_", "_l", "babel", "for_user", "init_app", "js_messages", "language", "when"]
