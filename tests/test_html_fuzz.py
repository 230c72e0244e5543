"""No input gives a 500 (issue 16, item 3): a property-based fuzz pass over every form field and
query parameter of the HTML routes, on both databases.

The routes are every route of `app.url_map` but the JSON API's (tests/test_api_fuzz.py fuzzes it from
its OpenAPI description); a test checks that none is left out. The fields each view reads are found in its source and the source of the functions of the
app it calls (`request.form.get("…")`, `args.getlist("…")`, `_form_int("…")`, `request.files`…), and
a few names no view reads are sent besides. URL variables name real objects of the seeded world
(made by the authorization matrix's `Ctx`) or ids no row has (0, 2**31, 2**63). Values: empty, very
long, every Unicode category (combining marks, bidi overrides, emoji), digits `int()` reads
differently from `str.isdigit()`, huge and negative numbers, floats, dates with odd offsets, `%`
sequences, repeated keys, and control characters (refused with 422 before any view runs), sent as
a form, as multipart or as raw bytes, with and without `HX-Request`, by the editor, the admin and
whoever else the route is for.

Every answer must be one a client can act on: never a 5xx. Besides the random pass, each route is
sent a control character in every field's value and name, by query, form and multipart (422).
"""

from __future__ import annotations

import inspect
import io
import re
import textwrap
from functools import cache
from urllib.parse import quote, unquote

import pytest
from flask import url_for
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from drafting.models.base import MAX_ID
from tests.phases import adopt, walk
from tests.test_authorization_matrix import EXPECT, IGNORED_METHODS, Ctx, as_variants, use_session

ALLOWED = {200, 201, 204, 302, 303, 400, 401, 403, 404, 405, 409, 410, 413, 415, 422, 423, 429}
EXAMPLES = 15                                   # per route and method: about 1,650 requests a run
HOSTILE_IDS = (0, MAX_ID + 1, 2**63)            # the int converter takes no sign: -1 is no URL of the app
UNKNOWN_FIELDS = ("x", "id", "__proto__", "text[]", "a b", "é", "next", "fragment", "csrf_token")
# What the central guard refuses (drafting.refused_text): C0 controls but tab and line breaks, DEL;
# in a query, line breaks too.
REFUSED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
REFUSED_IN_QUERY = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


# ---- the routes and the fields they read ----------------------------------------------------------

def html_pairs() -> list[tuple[str, str]]:
    return sorted(key for key in EXPECT if not key[0].startswith("api."))


_FIELD_CALL = re.compile(r"""\b(?:form|args|values|files|_form_int|_arg)\s*(?:\.(?:get|getlist)\s*)?[(\[]\s*["']([^"']+)["']""")
_HELPER_CALL = re.compile(r"""\(\s*(?:request\.)?(?:form|args)\s*,\s*["']([^"']+)["']""")  # _id(args, "clause")
_DYNAMIC_LINE = re.compile(r"request\.(?:form|args|values)\.(?:get|getlist)\(\s*[a-z_]")
_LITERAL = re.compile(r"""["']([A-Za-z_][\w\-]{0,40})["']""")


def _called_functions(function, seen: set) -> list:
    """The app's functions a function calls by name (module globals), depth first, each once."""
    found = []
    for name in re.findall(r"\b([A-Za-z_]\w*)\s*\(", inspect.getsource(function)):
        target = function.__globals__.get(name)
        target = inspect.unwrap(target) if callable(target) else None
        if (inspect.isfunction(target) and target.__module__.startswith("drafting.")
                and target not in seen):
            seen.add(target)
            found.append(target)
            found.extend(_called_functions(target, seen))
    return found


@cache
def fields_read(view) -> list[str]:
    """The names of the form fields, query parameters and files a view (and what it calls) reads."""
    view = inspect.unwrap(view)
    names: set[str] = set()
    for function in [view, *_called_functions(view, {view})]:
        source = textwrap.dedent(inspect.getsource(function))
        names.update(_FIELD_CALL.findall(source))
        names.update(_HELPER_CALL.findall(source))
        for line in source.splitlines():
            if _DYNAMIC_LINE.search(line):  # request.form.get(name) for name in ("sealed", "title", …)
                names.update(_LITERAL.findall(line))
    if view.__module__ == "drafting.notifications.routes" and view.__name__ == "preferences":
        from drafting.notifications.outbox import CATEGORIES  # request.form.get(c.key, …) per category

        names.update(c.key for c in CATEGORIES.values() if c.optional)
    return sorted(names)


def fields_of(app, endpoint: str) -> list[str]:
    return fields_read(app.view_functions[endpoint])


# ---- values ---------------------------------------------------------------------------------------

NUMBERS = ["0", "1", "2", "-1", "+1", "007", " 12 ", "1_000", "1.5", "-0.0", "1e3", "NaN", "inf", "0x1f",
           "²", "٣", "١٢", "𝟙𝟚", "Ⅻ", "½", "١" * 25, str(MAX_ID), str(MAX_ID + 1), str(2**63 - 1), str(2**63),
           str(2**64), "-" + str(2**63), "9" * 30, "9" * 5000]
MOMENTS = ["2027-03-31 17:00", "2027-03-31T17:00", "2027-03-31T17:00+14:00", "2027-03-31T17:00-23:59",
           "2027-03-31T17:00+24:00", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00+23:59", "2027-02-30 10:00",
           "2027-03-31T17:00Z", "2027-03-31 17:00:00.123456789", "20270331T1700", "1999-12-31 23:59",
           "2999-12-31 23:59", "3000-01-01 00:00", "２０２７-03-31 17:00", "yesterday",
           "Europe/Lisbon", "America", "posix/UTC", "../../etc/passwd", "Etc/GMT+14", "UTC", "Asia/Kolkata"]
ODD_TEXT = ["", " ", "%", "%%", "%00", "%zz", "%s%s%n", "100%", "{}", "{{ 7*7 }}", "<script>alert(1)</script>",
            "<p>", "</p><p>", "' OR 1=1 --", "\\", "null", "true", "[]", "yes", "never", "current", "html", "md",
            "docx", "clauses", "accepted", "declaration", "action_plan", "observer", "signing", "adopted",
            "/documents", "//evil.example", "https://evil.example/", "/\\evil", "javascript:alert(1)",
            "up", "down", "thread", "research", "best_practice", "bottleneck", "noted", "partly_accepted",
            "immediately", "digest", "off", "commenter", "editor", "signatory", "final_review", "consultation",
            "\u202eevil\u202c", "\u2066x\u2069", "\u200b", "\ufeff", "👩‍👩‍👧‍👦", "🏳️‍🌈", "e\u0301\u0301\u0301",
            "Z̴̡͕̓a̶l̷g̸o", "\U0010ffff", "\ufffe", "\uffff", "ǅİßﬃ", "\u0085", "\u2028", "\u2029", "\t", "\n", "\r\n",
            "a\tb\nc", "\u00a0", "\u3000", "👍" * 300]
CONTROL = ["\x00", "a\x01b", "\x1b[31mred", "\x7f", "\x1e", "\x1f", "a\x0bb", "\x0c", "x\x00y"]
RAW_QUERIES = ["%ff%fe", "a=%", "=&&=", "a[]=1&a[]=2", "%C0%AF", "x=%0d%0a", "x=%09", "next=%2F%2Fevil.example"]
LONG = [c * (100_000 // len(c)) for c in ("x", "٣", "é", "👍", "e\u0301", "<p>", "a ", "9")]

# No surrogates (a client cannot encode them as UTF-8) and no C0 controls (their own branch below).
unicode_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40)
any_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
marks = st.text(st.characters(categories=("Mn", "Mc", "Me", "Cf", "Zl", "Zp", "Co")), min_size=1, max_size=8)


def values(seeds: list[str], controls: bool) -> st.SearchStrategy[str]:
    """One value of a field: hostile (with control characters or not), or a real one (an id of the
    seeded world, the route's valid value)."""
    branches = [st.sampled_from(NUMBERS), st.sampled_from(MOMENTS), st.sampled_from(ODD_TEXT), unicode_text,
                marks, st.integers(min_value=-(2**70), max_value=2**70).map(str),
                st.floats(allow_nan=True, allow_infinity=True).map(repr), st.sampled_from(LONG)]
    if controls:
        branches += [st.sampled_from(CONTROL), any_text]
    if seeds:
        branches += [st.sampled_from(seeds)] * 2
    return st.one_of(*branches)


def files() -> st.SearchStrategy:
    from tests.test_authorization_matrix import MARKDOWN

    content = st.one_of(st.just(MARKDOWN), st.binary(max_size=200), st.just(b""),
                        st.just(b"PK\x03\x04" + b"\x00" * 60), st.just(b"<html><body><p>x</p>" * 2000),
                        st.just(("# T\n\n" + "## H\n\np\n\n" * 3000).encode()),
                        st.just("# Ünïcødé\n\n## ٣\n\n\u202eevil\n".encode()))
    name = st.sampled_from(["matrix.md", "x.docx", "x.html", "x.txt", "", "..", "../../x.md", "a\x00.md",
                            "é.MD", "x.md.exe", "x" * 300 + ".md", "noext"])
    return st.tuples(content, name).map(lambda pair: (io.BytesIO(pair[0]), pair[1]))


# ---- one route ------------------------------------------------------------------------------------

def chosen_rule(endpoint: str, method: str):
    """The variant of the matrix's entry that lets most of our callers through (reaching deepest)."""
    rules = as_variants(EXPECT[(endpoint, method)])
    return max(rules, key=lambda rule: sum(rule.expect[r] < 400 for r in ("editor", "admin", "commenter",
                                                                           "signatory")))


def callers(rule) -> list[str]:
    """The editor and the admin; whoever the route is for, more often."""
    allowed = [r for r in ("editor", "admin", "commenter", "signatory") if rule.expect[r] < 400]
    return ["editor", "admin", *allowed, *allowed]


def seed_strings(ctx: Ctx, endpoint: str, method: str, query_seed: dict) -> dict[str, list[str]]:
    """Real values per field: the matrix's valid bodies (of every variant) and query."""
    seeds: dict[str, list[str]] = {}
    for rule in as_variants(EXPECT[(endpoint, method)]):
        for name, value in {**(rule.body(ctx) if rule.body else {}), **query_seed}.items():
            items = value if isinstance(value, list) else [value]
            seeds.setdefault(name, [])
            seeds[name] += [str(v) for v in items if isinstance(v, (str, int)) and str(v) not in seeds[name]]
    return seeds


def short(text: str) -> str:
    return repr(text) if len(text) <= 80 else f"{text[:60]!r}…({len(text)} chars)"


def shown(fields: list[tuple[str, str]]) -> str:
    return "[" + ", ".join(f"{short(k)}={short(v)}" for k, v in fields) + "]"


def refused_anywhere(query: list[tuple[str, str]], form: list[tuple[str, str]], raw: str | None) -> bool:
    in_query = any(REFUSED_IN_QUERY.search(k) or REFUSED_IN_QUERY.search(v) for k, v in query)
    in_query = in_query or (raw is not None and bool(REFUSED_IN_QUERY.search(unquote(raw))))
    return in_query or any(REFUSED.search(k) or REFUSED.search(v) for k, v in form)


@pytest.mark.parametrize(("endpoint", "method"), html_pairs(), ids=[f"{e}-{m}" for e, m in html_pairs()])
def test_no_input_gives_a_server_error(app, client, api, endpoint, method):
    rule = chosen_rule(endpoint, method)
    ctx = Ctx(app, rule.document)
    args = rule.args(ctx)
    url_rule = next(r for r in app.url_map.iter_rules(endpoint) if method in r.methods)
    variables = {name: value for name, value in args.items() if name in url_rule.arguments}
    query_seed = {name: value for name, value in args.items() if name not in url_rule.arguments}
    seeds = seed_strings(ctx, endpoint, method, query_seed)
    if rule.phase == "adopted":
        adopt(app, api, ctx.doc)
    elif rule.phase is not None:
        walk(api, ctx.doc, rule.phase)
    known = sorted(set(fields_of(app, endpoint)) | set(seeds))
    ids = [str(ctx.doc), *map(str, ctx.clause_ids[:3]), str(ctx.users["editor2"])]
    is_post = method == "POST"

    def url_value(real) -> st.SearchStrategy:
        if isinstance(real, int):
            return st.sampled_from(HOSTILE_IDS)
        return st.one_of(st.sampled_from(["x", "0", "%", "a" * 5000, "..", real + "x", real[:-1]]), unicode_text,
                         st.sampled_from(CONTROL))

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck),
              verbosity=Verbosity.quiet)  # the assertion says what was sent, value by value
    @given(st.data())
    def fuzz(data):
        role = data.draw(st.sampled_from(callers(rule)), label="caller")
        htmx = data.draw(st.booleans(), label="HX-Request")
        # Mostly the real objects; one time in four an id no row has (or a mangled secret).
        hostile_path = data.draw(st.integers(0, 3), label="hostile URL") == 3
        path_values = {name: data.draw(url_value(real), label=name) if hostile_path else real
                       for name, real in variables.items()}
        controls = data.draw(st.integers(0, 3), label="control characters") == 3
        if data.draw(st.booleans(), label="one field hostile"):
            # The route's valid values but one field's, so the request gets past the first check.
            target = data.draw(st.sampled_from(known + ["x", "id"]), label="hostile field")
            fields = [(name, value) for name in known
                      for value in (data.draw(st.lists(values(ids, controls), max_size=3), label=name)
                                    if name == target else seeds.get(name, [])[:1])]
        else:
            names = known + data.draw(st.lists(st.sampled_from(UNKNOWN_FIELDS), max_size=2, unique=True))
            fields = [(name, value) for name in names
                      for value in data.draw(st.lists(values(seeds.get(name, []) + ids, controls), max_size=3),
                                             label=name)]
        # Each field goes in the query, or (a POST) in the body; a GET sends all in the query. The
        # route's query parameters stay in the query, its body fields mostly in the body.
        in_body = [is_post and (name not in query_seed) and data.draw(st.sampled_from([True, True, False]))
                   for name, _ in fields]
        query = [field for field, body in zip(fields, in_body, strict=True) if not body]
        form = [field for field, body in zip(fields, in_body, strict=True) if body]
        raw_query = data.draw(st.one_of(st.none(), st.none(), st.sampled_from(RAW_QUERIES)), label="raw query")
        encoding = data.draw(st.sampled_from(["form", "form", "form", "multipart", "raw"]), label="encoding") \
            if is_post else None
        upload = data.draw(files(), label="file") if is_post and "file" in known else None

        with app.test_request_context():
            url = url_for(endpoint, **{n: v for n, v in path_values.items() if isinstance(v, int)},
                          **{n: "__" + n + "__" for n, v in path_values.items() if isinstance(v, str)})
        for name, value in path_values.items():
            if isinstance(value, str):
                url = url.replace(f"__{name}__", quote(value, safe="") or "%20")
        kwargs: dict = {"headers": {"HX-Request": "true"} if htmx else {}}
        if raw_query is not None:
            kwargs["query_string"] = "&".join([raw_query, *(f"{quote(k)}={quote(v)}" for k, v in query)])
        else:
            kwargs["query_string"] = MultiDict(query)
        body_text = None
        if encoding == "raw":
            body_text = data.draw(st.one_of(any_text, st.just("text=%ff%fe&order=%E2%82"),
                                            st.just("&".join(f"{k}={v}" for k, v in form))), label="raw body")
            kwargs["data"] = body_text.encode("utf-8", "surrogatepass") + data.draw(st.binary(max_size=8))
            kwargs["content_type"] = "application/x-www-form-urlencoded"
        elif encoding is not None:
            payload = MultiDict(form)
            if upload is not None:
                payload.add("file", FileStorage(*upload))
            if encoding == "multipart" or upload:
                # Encoded here, in memory: the test client spools a large body to a file it never closes.
                boundary, kwargs["data"] = encode_multipart(payload)
                kwargs["content_type"] = f"multipart/form-data; boundary={boundary}"
            else:
                kwargs["data"] = payload
                kwargs["content_type"] = "application/x-www-form-urlencoded"
        sent = (f"{role} {method} {short(url)} ({encoding}, htmx={htmx}), query: {shown(query)} "
                f"{short(raw_query or '')}, body: {shown(form) if encoding != 'raw' else short(body_text)}"
                + (f", file {upload[1]!r}" if upload else ""))
        use_session(client, role)
        try:
            response = client.open(url, method=method, **kwargs)
        except Exception as error:  # a testing app raises what would have been a 500
            raise AssertionError(f"{error.__class__.__name__}: {error} for {sent}") from error
        assert response.status_code in ALLOWED, \
            f"{response.status_code} for {sent}:\n{response.get_data(as_text=True)[:500]}"
        if refused_anywhere(query, form if encoding != "raw" else [], raw_query) and response.status_code != 413:
            assert response.status_code == 422, f"{response.status_code}, not 422, for control characters: {sent}"

    refuse_control_characters(app, client, endpoint, method, variables, known, seeds, callers(rule)[-1])
    fuzz()


def refuse_control_characters(app, client, endpoint, method, variables, known, seeds, role) -> None:
    """Every way text enters this route refuses control characters with 422: each field's value
    and name, in the query, a form or a multipart form, on the real objects (not left to chance)."""
    with app.test_request_context():
        url = url_for(endpoint, **variables)
    use_session(client, role)
    fields = [(name, (seeds.get(name) or ["1"])[0]) for name in known] or [("x", "1")]
    encodings = ["query", "form", "multipart"] if method == "POST" else ["query"]
    for character in ("\x00", "\x01", "\x1b", "\x7f"):
        for where in ("value", "name"):
            sent = [(f"{name}{character}" if where == "name" else name, f"a{character}b" if where == "value" else v)
                    for name, v in fields]
            for encoding in encodings:
                if encoding == "query":
                    response = client.open(url, method=method, query_string=MultiDict(sent))
                elif encoding == "form":
                    response = client.open(url, method=method, data=MultiDict(sent))
                else:
                    boundary, body = encode_multipart(MultiDict(sent))
                    response = client.open(url, method=method, data=body,
                                           content_type=f"multipart/form-data; boundary={boundary}")
                assert response.status_code == 422, \
                    f"{response.status_code}, not 422, for {character!r} in each field's {where} ({encoding}): {url}"
    if method == "GET" or "next" in known:
        response = client.open(url, method=method, query_string={"next": "/documents\r\nSet-Cookie: x=1"})
        assert response.status_code == 422, f"{response.status_code}, not 422, for a line break in the query: {url}"


# ---- the fuzz reads what the views read -----------------------------------------------------------

def test_every_html_route_is_fuzzed(app):
    routes = {(rule.endpoint, method) for rule in app.url_map.iter_rules()
              if rule.endpoint != "static" and not rule.endpoint.startswith("api.")
              for method in rule.methods - IGNORED_METHODS}
    assert routes == set(html_pairs())


@pytest.mark.parametrize(("endpoint", "expected"), [
    ("clauses.save", {"text", "heading", "base_version"}),
    ("clauses.reorder", {"order"}),
    ("clauses.create", {"after", "text", "heading"}),
    ("consultation.submit", {"kind", "topic", "title", "body", "proposal", "clause_ids"}),
    ("consultation.update_contribution", {"clause_ids", "proposal"}),
    ("consultation.contributions", {"topic", "kind", "organisation", "clause"}),
    ("audit_trail.page", {"organisation", "category", "clause", "before"}),
    ("exchange.preview", {"file"}),
    ("exchange.save", {"sealed", "title", "kind"}),
    ("signoff.move", {"phase", "deadline", "timezone", "override", "override_reason", "reason"}),
    ("history.diff", {"from", "to", "view"}),
    ("people.make_token", {"name", "expires_in_days"}),
    ("notifications.preferences", {"discussion"}),
])
def test_the_fields_a_view_reads_are_found(app, endpoint, expected):
    assert expected <= set(fields_of(app, endpoint))


# ---- what the fuzz found ------------------------------------------------------------------------

@pytest.mark.parametrize(("character", "message"), [("\x00", "NUL character"), ("\x1b", "control characters"),
                                                    ("\x7f", "control characters")])
def test_control_characters_in_a_multipart_form_are_refused(app, client, auth, world, character, message):
    """A form sent as multipart/form-data passed the central guard: a NUL in a new document's title
    was a 500 on PostgreSQL (psycopg.DataError: text cannot contain NUL), and on SQLite it and the
    other control characters were stored. Field names and file names are text too."""
    from drafting.extensions import db
    from drafting.models import Document

    with app.app_context():
        documents = db.session.query(Document).count()
    auth.login("admin")
    response = client.post("/documents", data={"title": f"Joint{character} Declaration", "kind": "declaration"},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    response = client.post("/documents", data={"title": "Joint Declaration", f"ki{character}nd": "declaration"},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    with app.app_context():
        assert db.session.query(Document).count() == documents
    auth.logout()
    auth.login("editor")
    response = client.post("/documents/import", data={"file": (io.BytesIO(b"# Title\n"), f"a{character}.md")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_the_bytes_of_an_uploaded_file_are_the_importers_business(client, auth):
    """The guard reads a multipart form's text fields, never a file's contents: a tab, a form feed
    or a NUL in an uploaded Markdown file is not refused as if it were typed text."""
    auth.login("editor")
    markdown = b"# Joint Declaration on Byte Checks\n\n## Scope\n\nColumns\tand\x0cpages.\n"
    response = client.post("/documents/import", data={"file": (io.BytesIO(markdown), "bytes.md"), "note": "tab\tok"},
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert "control characters" not in page and "NUL character" not in page
    assert response.status_code == 200, page[:300]
