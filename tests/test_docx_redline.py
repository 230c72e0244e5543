"""DOCX export of the changes between two versions as Word's own tracked changes (issue 17, item 4).

Every check reads the downloaded file back: word/document.xml with lxml (w:ins, w:del, their
authors and dates, the words they hold, paragraph marks), accepting and rejecting every change
the way Word does, word/comments.xml and the comments' anchors, and python-docx reopening it.
LibreOffice is not installed on this machine (nor by `make test`: too big), so nothing converts it headless here.
"""

from __future__ import annotations

import copy
import io
import re
import zipfile
from html.parser import HTMLParser

import docx
import pytest
from lxml import etree

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W}
DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
TEREZA = "Tereza Novotná (Vltava Digital Health Cluster)"  # the editor
INES = "Inês Carvalho (Atlantic Health Innovation Cluster)"  # editor2: another person, another cluster

# Two clauses set before the named version is taken, so the words each edit changes are known.
BASE_A = ("Клъстерите от България споделят добри практики с партньорите си.\n\n"
          "A magyar klaszterek erősítik az együttműködést.\n\n"
          "Os parceiros de Portugal publicam a declaração em conjunto.")
LATER_A = ("Клъстерите от България споделят най добри практики с партньорите си.\n\n"
           "A magyar klaszterek erősítik az együttműködést.\n\n"
           "Os parceiros de Portugal publicam a versão final em conjunto.")
BASE_B = "Svenska kluster i Mälardalen delar data öppet och säkert."
LATER_B = "Svenska kluster i Mälardalen och Skåne delar data öppet och säkert."
ADDED = "Hållbar åtgärd för ő och ű: ação conjunta, съвместно действие."


def w(tag: str) -> str:
    return f"{{{W}}}{tag}"


# ---- reading the file back ---------------------------------------------------------------------

def parts(data: bytes) -> dict[str, etree._Element]:
    """document.xml and comments.xml, parsed (lxml refuses XML that is not well-formed)."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    found = {"document": etree.fromstring(archive.read("word/document.xml"))}
    if "word/comments.xml" in archive.namelist():
        found["comments"] = etree.fromstring(archive.read("word/comments.xml"))
    return found


def style_of(paragraph: etree._Element) -> str:
    style = paragraph.find("w:pPr/w:pStyle", NS)
    return style.get(w("val")) if style is not None else "Normal"


def mark_of(paragraph: etree._Element, kind: str) -> etree._Element | None:
    """The paragraph mark's w:ins or w:del (w:pPr/w:rPr/w:ins|w:del), if it is tracked."""
    return paragraph.find(f"w:pPr/w:rPr/w:{kind}", NS)


def text_of(element: etree._Element, deleted: bool = False) -> str:
    """The text of runs as python-docx reads it: w:t (or w:delText), tabs and line breaks."""
    wanted = w("delText") if deleted else w("t")
    parts_ = []
    for node in element.iter(wanted, w("tab"), w("br")):
        parts_.append(node.text or "" if node.tag == wanted else "\t" if node.tag == w("tab") else "\n")
    return "".join(parts_)


def resolve(root: etree._Element, keep: str) -> etree._Element:
    """Accept (keep="ins") or reject (keep="del") every tracked change, as Word does.

    The other kind's runs go; the kept kind's wrappers are unwrapped (a kept deletion's w:delText
    is text again); a paragraph whose mark goes joins the paragraph after it, which keeps its own
    properties.
    """
    drop = "del" if keep == "ins" else "ins"
    root = copy.deepcopy(root)
    for element in root.xpath(f"//w:{drop}[not(parent::w:rPr)]", namespaces=NS):
        element.getparent().remove(element)
    for element in root.xpath(f"//w:{keep}[not(parent::w:rPr)]", namespaces=NS):
        parent, at = element.getparent(), element.getparent().index(element)
        for offset, child in enumerate(list(element)):
            parent.insert(at + offset, child)
        parent.remove(element)
    for text in root.iter(w("delText")):
        text.tag = w("t")
    body = root.find("w:body", NS)
    paragraphs = list(body.iterchildren(w("p")))
    for paragraph, following in zip(paragraphs, paragraphs[1:], strict=False):
        if mark_of(paragraph, drop) is not None:  # its mark goes: its content joins the next paragraph
            contents = [child for child in paragraph if child.tag != w("pPr")]
            properties = following.find("w:pPr", NS)
            at = 1 if properties is not None else 0
            for offset, child in enumerate(contents):
                following.insert(at + offset, child)
            body.remove(paragraph)
    for marker in root.xpath(f"//w:pPr/w:rPr/w:{keep}", namespaces=NS):
        marker.getparent().remove(marker)
    assert not root.xpath("//w:ins | //w:del | //w:delText", namespaces=NS)
    return root


def check_structure(root: etree._Element, comments: etree._Element | None) -> None:
    """What WordprocessingML requires of tracked changes and comment ranges (ECMA-376 part 1, 17.13)."""
    for change in root.xpath("//w:ins[not(parent::w:rPr)] | //w:del[not(parent::w:rPr)]", namespaces=NS):
        assert change.getparent().tag == w("p") and [child.tag for child in change] == [w("r")]
    assert not root.xpath("//w:del//w:t | //w:ins//w:delText", namespaces=NS)
    assert not root.xpath("//w:delText[not(ancestor::w:del)]", namespaces=NS)
    for marker in root.xpath("//w:pPr/w:rPr/*", namespaces=NS):  # a tracked paragraph mark
        assert marker.tag in (w("ins"), w("del")) and len(marker) == 0
        assert marker.getparent().getparent()[-1] is marker.getparent()  # w:rPr last in w:pPr (no sectPr here)
    ids = [comment.get(w("id")) for comment in comments.findall("w:comment", NS)] if comments is not None else []
    for kind in ("commentRangeStart", "commentRangeEnd", "commentReference"):
        assert sorted(e.get(w("id")) for e in root.iter(w(kind))) == sorted(ids)
    revisions = {e.get(w("id")) for e in root.xpath("//w:ins | //w:del", namespaces=NS)}
    assert not revisions & set(ids)


def clauses_of(root: etree._Element) -> list[tuple[str, str]]:
    """(heading paragraph, body) pairs up to the record, as tests/test_exchange.docx_clauses reads them."""
    clauses, current = [], None
    for paragraph in root.find("w:body", NS).iterchildren(w("p")):
        style = style_of(paragraph)
        if style == "DraftingRecord":
            break
        if style == "Heading1":
            current = [text_of(paragraph), []]
            clauses.append(current)
        elif current is not None:
            current[1].append(text_of(paragraph))
    return [(heading, "\n\n".join(body)) for heading, body in clauses]


def expected(clauses: list[dict]) -> list[tuple[str, str]]:
    return [(f"{c['number']}." + (f" {c['heading']}" if c["heading"] else ""), c["text"]) for c in clauses]


def clause_paragraphs(root: etree._Element, heading_text: str, deleted: bool = False) -> list[etree._Element]:
    """The heading paragraph whose text (or deleted text) is heading_text, and the body paragraphs after it."""
    paragraphs = list(root.find("w:body", NS).iterchildren(w("p")))
    for n, paragraph in enumerate(paragraphs):
        if style_of(paragraph) == "Heading1" and text_of(paragraph, deleted) == heading_text:
            body = []
            for following in paragraphs[n + 1:]:
                if style_of(following) in ("Heading1", "DraftingRecord"):
                    break
                body.append(following)
            return [paragraph, *body]
    raise AssertionError(f"no clause headed {heading_text!r}")


def changes(elements: list[etree._Element], kind: str) -> list[etree._Element]:
    """The run-level w:ins or w:del elements in these paragraphs (not paragraph marks)."""
    return [e for p in elements for e in p.iter(w(kind)) if e.getparent().tag != w("rPr")]


def anchored_text(accepted: etree._Element, comment_id: str) -> str:
    """The text of the accepted reading between a comment's range start and end."""
    inside, out = False, []
    for paragraph in accepted.find("w:body", NS).iterchildren(w("p")):
        if inside:
            out.append("\n\n")
        for node in paragraph.iter(w("commentRangeStart"), w("commentRangeEnd"), w("t"), w("tab"), w("br")):
            if node.tag == w("commentRangeStart") and node.get(w("id")) == comment_id:
                inside = True
            elif node.tag == w("commentRangeEnd") and node.get(w("id")) == comment_id:
                return "".join(out)
            elif inside and node.tag in (w("t"), w("tab"), w("br")):
                out.append(text_of_node(node))
    raise AssertionError(f"comment {comment_id} has no range end")


def text_of_node(node: etree._Element) -> str:
    return node.text or "" if node.tag == w("t") else "\t" if node.tag == w("tab") else "\n"


# ---- the scenario --------------------------------------------------------------------------------

def document_clauses(api, document_id: int) -> list[dict]:
    return api.as_("observer").get(f"/documents/{document_id}").get_json()["clauses"]


def save(api, role: str, clause_id: int, text: str) -> dict:
    current = api.as_(role).get(f"/clauses/{clause_id}/revisions").get_json()[-1]
    response = api.as_(role).patch(f"/clauses/{clause_id}", json={"text": text, "base_version": current["version"]})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def take_snapshot(client, auth, api, document_id: int, name: str) -> dict:
    """Take a named version through the page, as an editor does; return it as the API lists it."""
    auth.login("editor")
    assert client.post(f"/documents/{document_id}/versions", data={"name": name}).status_code == 302
    auth.logout()
    return api.as_("editor").get(f"/documents/{document_id}/snapshots").get_json()[0]


def last_revision(api, clause_id: int) -> dict:
    return api.as_("observer").get(f"/clauses/{clause_id}/revisions").get_json()[-1]


@pytest.fixture
def changed(client, auth, api, declaration):
    """A named version, then edits by two people of two clusters, an added and a deleted clause, threads."""
    doc_id, ids = declaration["id"], declaration["clause_ids"]
    save(api, "editor", ids[1], BASE_A)
    save(api, "editor", ids[2], BASE_B)
    before = document_clauses(api, doc_id)
    snapshot = take_snapshot(client, auth, api, doc_id, "Първи проект: åäö ő ű ã ç")
    # A thread quoting a passage the next edit removes, so it can only be anchored to the whole clause.
    gone = api.as_("editor").post(f"/clauses/{ids[1]}/threads",
                                  json={"body": "<p>Declaração ou versão?</p>", "quote": "declaração"})
    assert gone.status_code == 201
    save(api, "editor2", ids[1], LATER_A)
    save(api, "editor", ids[2], LATER_B)
    added = api.as_("editor2").post(f"/documents/{doc_id}/clauses",
                                    json={"text": ADDED, "heading": "Ново действие", "after": ids[3]})
    assert added.status_code == 201
    assert api.as_("editor").delete(f"/clauses/{ids[5]}").status_code == 204
    thread = api.as_("editor").post(f"/clauses/{ids[2]}/threads",
                                    json={"body": "<p>Ska Skåne vara med? Ótimo, ő ű.</p>",
                                          "quote": "Mälardalen och Skåne"})
    assert thread.status_code == 201
    reply = api.as_("editor2").post(f"/threads/{thread.get_json()['id']}/comments",
                                    json={"body": "<p>Sim, com certeza: ação.</p>"})
    assert reply.status_code == 201
    return {"id": doc_id, "ids": ids, "snapshot": snapshot, "before": before, "after": document_clauses(api, doc_id),
            "added_id": added.get_json()["id"], "thread": thread.get_json(), "gone": gone.get_json()}


def download_both(client, auth, api, doc_id: int, query: str) -> list[bytes]:
    """The same export from the page route (logged in) and from the API (a token)."""
    auth.login("observer")
    page = client.get(f"/documents/{doc_id}/export?{query}")
    auth.logout()
    from_api = api.as_("observer").get(f"/documents/{doc_id}/export?{query}")
    for response in (page, from_api):
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        assert response.mimetype == DOCX_TYPE
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;") and "-changes-" in disposition and disposition.endswith('.docx"')
    return [page.data, from_api.data]


# ---- tests ---------------------------------------------------------------------------------------------

def test_tracked_changes_from_a_named_version_to_the_current_text(client, auth, api, changed):
    doc_id, ids = changed["id"], changed["ids"]
    for data in download_both(client, auth, api, doc_id, f"format=docx&from={changed['snapshot']['id']}"):
        found = parts(data)
        root = found["document"]
        # Every tracked change has an id (unique), an author and an ISO 8601 UTC date.
        tracked = root.xpath("//w:ins | //w:del", namespaces=NS)
        assert tracked
        assert len({e.get(w("id")) for e in tracked}) == len(tracked)
        assert all(e.get(w("author")) and DATE.match(e.get(w("date"))) for e in tracked)
        check_structure(root, found["comments"])

        # Accepting every change gives exactly the current text; rejecting every change the named version.
        assert clauses_of(resolve(root, keep="ins")) == expected(changed["after"])
        assert clauses_of(resolve(root, keep="del")) == expected(changed["before"])

        # Clause 2 (Bulgarian, Hungarian, Portuguese), edited by Inês: exactly the changed words, word by word.
        revision = last_revision(api, ids[1])
        clause = clause_paragraphs(root, "2. Purpose of this declaration")
        inserted, deleted = changes(clause, "ins"), changes(clause, "del")
        assert [text_of(e) for e in inserted] == ["най ", "versão final"]
        assert [text_of(e, deleted=True) for e in deleted] == ["declaração"]
        assert {(e.get(w("author")), e.get(w("date"))) for e in inserted + deleted} == \
            {(INES, revision["created_at"])}
        changed_words = " ".join(text_of(e) + text_of(e, deleted=True) for e in inserted + deleted)
        kept = " ".join(text_of(r) for p in clause[1:] for r in p.iterchildren(w("r")))
        for word in ("Клъстерите", "добри", "практики", "erősítik", "együttműködést", "publicam", "conjunto"):
            assert word not in changed_words and word in kept
        assert [mark_of(p, "ins") is None and mark_of(p, "del") is None for p in clause] == [True] * 4

        # Clause 3 (Swedish), edited by Tereza.
        revision = last_revision(api, ids[2])
        clause = clause_paragraphs(root, "3.")
        inserted = changes(clause, "ins")  # cut where the comment's range ends: "och Skåne" + " "
        assert "".join(text_of(e) for e in inserted) == "och Skåne "
        assert {(e.get(w("author")), e.get(w("date"))) for e in inserted} == {(TEREZA, revision["created_at"])}
        assert changes(clause, "del") == []

        # The added clause: inserted paragraphs (runs in w:ins, paragraph marks inserted), by Inês.
        revision = last_revision(api, changed["added_id"])
        heading, body = clause_paragraphs(root, "5. Ново действие")
        for paragraph, text in ((heading, "5. Ново действие"), (body, ADDED)):
            mark = mark_of(paragraph, "ins")
            assert mark is not None and mark.get(w("author")) == INES and mark.get(w("date")) == revision["created_at"]
            assert [text_of(e) for e in changes([paragraph], "ins")] == [text]
            assert not list(paragraph.iterchildren(w("r")))  # nothing outside the insertion

        # The deleted clause (6 in the named version): deleted paragraphs, credited to who deleted it.
        deleted_clause = next(c for c in changed["before"] if c["id"] == ids[5])
        heading, *body = clause_paragraphs(root, "6.", deleted=True)
        assert "\n\n".join(text_of(p, deleted=True) for p in body) == deleted_clause["text"]
        assert all(text_of(e, deleted=True) for e in changes(body, "del"))
        for paragraph in (heading, *body):
            mark = mark_of(paragraph, "del")
            assert mark is not None and mark.get(w("author")) == TEREZA
            assert mark.get(w("date")) >= changed["snapshot"]["created_at"]
            assert not list(paragraph.iterchildren(w("r"))) and text_of(paragraph) == ""

        # Clause 5 of the named version is clause 6 now: its number changed, by no one person.
        heading = clause_paragraphs(root, "6.")[0]
        assert [(text_of(e, deleted=True), e.get(w("author"))) for e in changes([heading], "del")] == [("5", "drafting")]
        assert [(text_of(e), e.get(w("author"))) for e in changes([heading], "ins")] == [("6", "drafting")]

        # Unchanged clauses carry no tracked change at all.
        assert not changes(clause_paragraphs(root, "1. Preamble"), "ins") + changes(
            clause_paragraphs(root, "1. Preamble"), "del")

        # The open threads are comments: one anchored to its quoted passage, with its reply; the
        # other, whose passage the edit removed, to the whole clause.
        comments = found["comments"].findall("w:comment", NS)
        by_text = {text_of(c): c for c in comments}
        assert len(comments) == 2
        quoted = next(c for text, c in by_text.items() if "Ska Skåne vara med?" in text)
        assert quoted.get(w("author")) == TEREZA and quoted.get(w("initials")) == "TN"
        assert DATE.match(quoted.get(w("date")))
        assert f"Reply from {INES}" in text_of(quoted) and "Sim, com certeza: ação." in text_of(quoted)
        accepted = resolve(root, keep="ins")
        assert anchored_text(accepted, quoted.get(w("id"))) == "Mälardalen och Skåne"
        outdated = next(c for text, c in by_text.items() if "Declaração ou versão?" in text)
        assert "“declaração” (no longer in this version of the clause)" in text_of(outdated)
        assert anchored_text(accepted, outdated.get(w("id"))) == LATER_A
        assert len(root.xpath("//w:commentReference", namespaces=NS)) == 2

        # python-docx opens it again: the styles, the comments, the record at the end.
        word = docx.Document(io.BytesIO(data))
        assert word.paragraphs[0].style.name == "Title"
        assert [c.author for c in word.comments] == [TEREZA, TEREZA]
        record = [p.text for p in word.paragraphs if p.style.name == "Drafting Record"]
        assert record == ["Record of this comparison"]
        assert changed["snapshot"]["content_hash"] in "\n".join(p.text for p in word.paragraphs)
        assert "drafting-export" not in word.core_properties.keywords  # not an exact export to import back


def test_a_tracked_changes_file_imports_as_its_text_with_every_change_accepted(client, auth, api, changed):
    from tests.test_exchange import upload

    data = api.as_("observer").get(f"/documents/{changed['id']}/export?format=docx&from={changed['snapshot']['id']}").data
    preview = upload(api, "changes.docx", data, preview="true")
    assert preview.status_code == 200, preview.get_json()
    body = preview.get_json()
    # Inserted words kept, deleted ones gone, a deleted clause (its paragraph marks deleted) gone
    # with them, an added clause there: the current text, clause for clause.
    assert [(c["heading"], c["text"]) for c in body["clauses"]] == \
        [(c["heading"], c["text"]) for c in changed["after"]]
    assert any("tracked change" in note and "every change accepted" in note for note in body["notes"])


def test_changes_between_two_named_versions_either_way_with_a_moved_clause(client, auth, api, declaration):
    doc_id, ids = declaration["id"], declaration["clause_ids"]
    first = take_snapshot(client, auth, api, doc_id, "Consultation draft")
    first_text = document_clauses(api, doc_id)
    save(api, "editor2", ids[0], "We, the undersigned clusters from Sverige and Magyarország, adopt this text.")
    auth.login("editor")
    order = [c["id"] for c in first_text]
    order.insert(1, order.pop(order.index(ids[9])))  # clause 10 becomes clause 2
    assert client.post(f"/documents/{doc_id}/order", data={"order": order}).status_code == 302
    auth.logout()
    second = take_snapshot(client, auth, api, doc_id, "Final text")
    second_text = document_clauses(api, doc_id)
    save(api, "editor", ids[1], "Changed after the second named version.")  # not between the two

    forward = parts(download_both(client, auth, api, doc_id,
                                  f"format=docx&from={first['id']}&to={second['id']}")[1])["document"]
    assert clauses_of(resolve(forward, keep="ins")) == expected(second_text)
    assert clauses_of(resolve(forward, keep="del")) == expected(first_text)
    check_structure(forward, None)
    # The moved clause: deleted where it was, inserted where it is, credited to who reordered.
    moved = next(c for c in second_text if c["id"] == ids[9])
    inserted = clause_paragraphs(forward, f"2. {moved['heading']}" if moved["heading"] else "2.")
    assert all(mark_of(p, "ins") is not None and mark_of(p, "ins").get(w("author")) == TEREZA for p in inserted)
    removed = clause_paragraphs(forward, "10.", deleted=True)
    assert all(mark_of(p, "del") is not None and mark_of(p, "del").get(w("author")) == TEREZA for p in removed)
    assert INES in {e.get(w("author")) for e in forward.xpath("//w:ins | //w:del", namespaces=NS)}

    backward = parts(api.as_("observer").get(
        f"/documents/{doc_id}/export?format=docx&from={second['id']}&to={first['id']}").data)["document"]
    assert clauses_of(resolve(backward, keep="ins")) == expected(first_text)
    assert clauses_of(resolve(backward, keep="del")) == expected(second_text)

    # A version against itself: no tracked change, just the text.
    same = parts(api.as_("observer").get(
        f"/documents/{doc_id}/export?format=docx&from={second['id']}&to={second['id']}").data)["document"]
    assert not same.xpath("//w:ins | //w:del", namespaces=NS)
    assert clauses_of(same) == expected(second_text)


def test_paragraph_breaks_added_and_removed_read_back_exactly(client, auth, api, declaration):
    doc_id, ids = declaration["id"], declaration["clause_ids"]
    save(api, "editor", ids[0], "Első bekezdés.\n\nSecond paragraph\twith a tab.\nA line break.")
    snapshot = take_snapshot(client, auth, api, doc_id, "Breaks")
    before = document_clauses(api, doc_id)
    save(api, "editor2", ids[0], "Első bekezdés.\nSecond paragraph\twith a tab.\n\nA line break, now a paragraph.\n\n\n")
    data = api.as_("observer").get(f"/documents/{doc_id}/export?format=docx&from={snapshot['id']}").data
    root = parts(data)["document"]
    assert clauses_of(resolve(root, keep="ins")) == expected(document_clauses(api, doc_id))
    assert clauses_of(resolve(root, keep="del")) == expected(before)
    assert root.xpath("//w:pPr/w:rPr/w:del", namespaces=NS) and root.xpath("//w:pPr/w:rPr/w:ins", namespaces=NS)
    check_structure(root, None)


# ---- refusals ----------------------------------------------------------------------------------------

def test_bad_versions_and_formats_are_refused_never_a_500(client, auth, api, declaration, world):
    doc_id = declaration["id"]
    snap = take_snapshot(client, auth, api, doc_id, "Draft")["id"]
    foreign = api.as_("editor").post(f"/documents/{world.document('action_plan')['id']}/snapshots",
                                     json={"name": "Plan"}).get_json()["id"]
    cases = {
        f"format=docx&from={snap}&to=current": 200,
        "format=docx&from=abc": 422,
        "format=docx&from=": 422,
        "format=docx&from=999999": 404,
        "format=docx&from=99999999999999999999": 422,  # beyond any id: no number here (get_snapshot)
        f"format=docx&from={foreign}": 404,
        f"format=docx&from={snap}&to=abc": 422,
        f"format=docx&from={snap}&to=": 422,
        f"format=docx&from={snap}&to=999999": 404,
        f"format=docx&from={snap}&to={foreign}": 404,
        f"format=docx&to={snap}": 422,  # to without from
        f"format=md&from={snap}": 422,
        f"format=html&from={snap}": 422,
        f"from={snap}": None,  # the default format: html on the pages, md in the API
        "format=docx": 200,  # without from: the plain export as before
    }
    auth.login("observer")
    for query, status in cases.items():
        page = client.get(f"/documents/{doc_id}/export?{query}")
        assert page.status_code == (status or 422), (query, page.status_code)
    page = client.get(f"/documents/{doc_id}/export?format=pdf&from={snap}")
    assert page.status_code == 422 and "Word only" in page.get_data(as_text=True)
    auth.logout()
    for query, status in cases.items():
        answer = api.as_("observer").get(f"/documents/{doc_id}/export?{query}")
        assert answer.status_code == (status or 422), (query, answer.status_code)
        if answer.status_code != 200:
            assert answer.get_json()["error"]["message"]
    refused = api.as_("observer").get(f"/documents/{doc_id}/export?format=md&from={snap}").get_json()
    assert "Word only" in refused["error"]["message"] and "format=docx" in refused["error"]["message"]
    plain = docx.Document(io.BytesIO(api.as_("observer").get(f"/documents/{doc_id}/export?format=docx").data))
    assert "drafting-export" in plain.core_properties.keywords
    # Strangers see nothing; an undeclared parameter is still refused by the API.
    assert api.as_("outsider").get(f"/documents/{doc_id}/export?format=docx&from={snap}").status_code == 404
    assert api.as_("observer").get(f"/documents/{doc_id}/export?format=docx&since={snap}").status_code == 422


# ---- the page ------------------------------------------------------------------------------------------

class Forms(HTMLParser):
    """The forms of a page: action, method, fields (name -> options or value) and labels."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.labels: set[str] = set()
        self.select: list | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action"), "method": attrs.get("method"), "fields": {},
                               "ids": {}})
        elif tag == "label" and attrs.get("for"):
            self.labels.add(attrs["for"])
        elif tag == "input" and self.forms:
            self.forms[-1]["fields"][attrs.get("name")] = attrs.get("value")
        elif tag == "select" and self.forms:
            self.select = []
            self.forms[-1]["fields"][attrs["name"]] = self.select
            self.forms[-1]["ids"][attrs["name"]] = attrs.get("id")
        elif tag == "option" and self.select is not None:
            self.select.append(attrs.get("value"))

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None


def test_the_versions_page_offers_the_tracked_changes_download(client, auth, api, declaration):
    doc_id = declaration["id"]
    first = take_snapshot(client, auth, api, doc_id, "Първи")
    second = take_snapshot(client, auth, api, doc_id, "Második")
    auth.login("commenter")  # every member may export
    page = client.get(f"/documents/{doc_id}/versions").get_data(as_text=True)
    assert "Download the changes as Word (tracked changes)" in page
    reader = Forms()
    reader.feed(page)
    form = next(f for f in reader.forms if f["action"] == f"/documents/{doc_id}/export")
    assert form["method"] == "get" and form["fields"]["format"] == "docx"
    assert form["fields"]["from"] == [str(second["id"]), str(first["id"])]
    assert form["fields"]["to"] == ["current", str(second["id"]), str(first["id"])]
    assert {form["ids"]["from"], form["ids"]["to"]} <= reader.labels  # every field has its label
    assert "style=" not in page.split("Download the changes as Word", 1)[1].split("</section>", 1)[0]
    download = client.get(form["action"], query_string={"format": "docx", "from": first["id"], "to": "current"})
    assert download.status_code == 200 and download.mimetype == DOCX_TYPE
    assert docx.Document(io.BytesIO(download.data)).paragraphs[0].style.name == "Title"
