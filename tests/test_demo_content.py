"""The demo's data (drafting/demo/content.py) hold together before anything is seeded."""

from __future__ import annotations

from typing import Any

from drafting.demo.content import (
    AMENDMENTS,
    CONTRIBUTIONS,
    DEMO_PASSWORD,
    DOCUMENTS,
    ORGANISATIONS,
    SECRETARIAT,
    THREADS,
    USERS,
)


def test_the_demo_data_are_complete_and_consistent() -> None:  # noqa: C901 - a flat list of assertions
    """The demo world newcomers meet: seven clusters of seven countries, the roles, documents,
    threads, amendments and contributions are complete and consistent with each other."""
    roles_allowed = {"editor", "commenter", "signatory", "observer", None}
    countries = {"BG", "BE", "CZ", "HU", "PT", "ES", "SE"}

    assert isinstance(DEMO_PASSWORD, str) and DEMO_PASSWORD == "drafting-demo"

    # Organisations
    org_names = [o["name"] for o in ORGANISATIONS]
    assert len(org_names) == len(set(org_names)) == 8, org_names
    secretariats = [o for o in ORGANISATIONS if not o["participant"]]
    assert len(secretariats) == 1 and secretariats[0]["name"] == "Baltic Health Network Secretariat"
    assert secretariats[0]["country"] == "DE"
    participants = [o for o in ORGANISATIONS if o["participant"]]
    assert len(participants) == 7 and {o["country"] for o in participants} == countries
    participant_names = {o["name"] for o in participants}
    orgs = {o["name"]: o for o in ORGANISATIONS}

    # Users
    emails = [u["email"] for u in USERS]
    assert len(emails) == len(set(emails)), "duplicate e-mail"
    users = {u["email"]: u for u in USERS}
    domains: dict[str, str] = {}
    for u in USERS:
        assert set(u) == {"email", "name", "org", "admin", "roles"}, u
        assert u["org"] in orgs, u
        assert set(u["roles"]) == {"declaration", "action_plan"}, u
        assert all(r in roles_allowed for r in u["roles"].values()), u
        local, _, domain = u["email"].partition("@")
        assert domain.endswith(".example"), u["email"]
        if domain != "drafting.example":
            first, _, last = local.partition(".")
            assert first and last and u["email"] == u["email"].lower(), u["email"]
            assert domains.setdefault(u["org"], domain) == domain, u["email"]
    assert len(set(domains.values())) == len(domains), "clusters share a domain"

    admins = [u for u in USERS if u["admin"]]
    assert [u["email"] for u in admins] == ["admin@drafting.example"]
    assert admins[0]["org"] == SECRETARIAT
    assert all(r is None for r in admins[0]["roles"].values())

    def with_role(role: str) -> list[dict[str, Any]]:
        found = [u for u in USERS if role in u["roles"].values()]
        for u in found:
            assert u["roles"] == {"declaration": role, "action_plan": role}, u
        return found

    editors = with_role("editor")
    assert len(editors) == 3 and editors[0]["email"] == "editor@drafting.example"
    assert len({u["org"] for u in editors}) == 3 and {u["org"] for u in editors} <= participant_names
    for role, fixed in (("commenter", "commenter@drafting.example"), ("signatory", "signatory@drafting.example")):
        people = with_role(role)
        assert sorted(u["org"] for u in people) == sorted(participant_names), role
        assert fixed in {u["email"] for u in people}, fixed
    observers = with_role("observer")
    assert [u["email"] for u in observers] == ["observer@drafting.example"]
    assert observers[0]["org"] == SECRETARIAT

    # Documents
    docs = {d["key"]: d for d in DOCUMENTS}
    assert list(docs) == ["declaration", "action_plan"]
    decl, plan = docs["declaration"], docs["action_plan"]
    assert decl["kind"] == "declaration" and decl["phase"] == "drafting"
    assert plan["kind"] == "action_plan" and plan["phase"] == "consultation" and plan["deadline_days"] == 21
    assert 25 <= len(decl["clauses"]) <= 35, len(decl["clauses"])
    assert 20 <= len(plan["clauses"]) <= 30, len(plan["clauses"])

    def plain(text: str, where: str) -> None:
        assert text and text == text.strip(), where
        assert "\n\n\n" not in text and "\r" not in text and "\t" not in text, where
        for bad in ("<", ">", "**", "__", "# ", "`", "  "):
            assert bad not in text, (where, bad)
        lowered = text.lower().replace("programme", "")
        for american in ("organiz", "harmoniz", "prioritiz", "center", "program", "analyze", "behavior"):
            assert american not in lowered, (where, american)

    for d in DOCUMENTS:
        assert d["title"] and d["title"] == " ".join(d["title"].split())
        for i, c in enumerate(d["clauses"]):
            assert set(c) == {"heading", "text"}, (d["key"], i)
            where = f"{d['key']}[{i}]"
            plain(c["text"], where)
            if c["heading"] is not None:
                assert c["heading"] == " ".join(c["heading"].split()) and len(c["heading"]) <= 300, where
                plain(c["heading"], where)

    # Declaration structure: preamble, recitals, four groups in order, closing clause
    groups = ["Research", "Patient care", "Digital solutions", "Fast-track approval of digital solutions"]
    seq: list[str] = []
    for c in decl["clauses"]:
        h = c["heading"] or ""
        group = next((g for g in groups if h.startswith(g + " — ")), None)
        seq.append(group or "")
        if group is None:
            assert " — " not in h, h
    first = [seq.index(g) for g in groups]
    last = [len(seq) - 1 - seq[::-1].index(g) for g in groups]
    assert first == sorted(first), "groups out of order"
    for g, a, b in zip(groups, first, last, strict=False):
        assert all(s == g for s in seq[a:b + 1]), f"group {g} is not contiguous"
        assert b - a + 1 >= 3, g
    assert first[0] >= 8, "preamble and recitals expected before the commitments"
    assert last[-1] < len(seq) - 1, "a closing clause is expected"
    recitals = [c["text"].split()[0] for c in decl["clauses"][: first[0]]]
    for word in ("Recalling", "Noting", "Considering"):
        assert word in recitals, word
    assert decl["clauses"][0]["heading"] == "Preamble"

    # Action plan structure
    strands: set[str] = set()
    action_count = 0
    for i, c in enumerate(plan["clauses"]):
        h = c["heading"] or ""
        if not h.startswith("Action "):
            assert "Responsible clusters:" not in c["text"], i
            continue
        action_count += 1
        number, _, title = h[len("Action "):].partition(" — ")
        strand, _, sub = number.partition(".")
        assert strand.isdigit() and sub.isdigit() and title, h
        strands.add(strand)
        lines = c["text"].split("\n")
        resp = [ln for ln in lines if ln.startswith("Responsible clusters: ")]
        assert len(resp) == 1, h
        named = resp[0][len("Responsible clusters: "):].split("; ")
        assert 2 <= len(named) <= 3 and set(named) <= participant_names and len(set(named)) == len(named), h
        assert sum(ln.startswith("Timeframe: 20") for ln in lines) == 1, h
        assert sum(ln.startswith("Funding sources: ") for ln in lines) == 1, h
    assert 4 <= len(strands) <= 5 and action_count >= 12, (strands, action_count)
    plan_text = " ".join(c["text"] for c in plan["clauses"])
    for country in ("Czech Republic", "Sweden", "Spain", "Belgium"):
        assert country in plan_text, country
    for adj in ("Czech", "Swedish", "Spanish", "Belgian"):
        assert adj + " " in plan_text or adj + " (" in plan_text, adj
    for org in participant_names:
        assert org in plan_text, f"{org} leads no action"

    def member(email: str, doc: str) -> dict[str, Any]:
        assert email in users, email
        u = users[email]
        assert u["admin"] or u["roles"][doc] in {"editor", "commenter"}, (email, doc)
        return u

    # Threads
    assert 4 <= len(THREADS) <= 6
    thread_orgs = set()
    for t in THREADS:
        d = docs[t["document"]]
        assert 0 <= t["clause_index"] < len(d["clauses"]), t
        author = member(t["author"], t["document"])
        thread_orgs.add(author["org"])
        if t["quote"] is not None:
            assert t["quote"] and t["quote"] in d["clauses"][t["clause_index"]]["text"], t["quote"]
        plain(t["body"], "thread")
        for r in t["replies"]:
            member(r["author"], t["document"])
            plain(r["body"], "reply")
        assert t["disposition"] in {"accepted", "partly_accepted", "not_accepted", "noted"}, t
        assert t["disposition"] == "accepted" or t["reason"], t
        plain(t["reason"], "disposition reason")
    assert len(thread_orgs) >= 4, thread_orgs

    # Amendments
    assert 2 <= len(AMENDMENTS) <= 3
    for a in AMENDMENTS:
        d = docs[a["document"]]
        assert 0 <= a["clause_index"] < len(d["clauses"]), a
        member(a["author"], a["document"])
        original = d["clauses"][a["clause_index"]]["text"]
        plain(a["text"], "amendment")
        plain(a["rationale"], "rationale")
        assert a["text"] != original and a["text"][:60] == original[:60], "amendment should be a modest edit"
        assert abs(len(a["text"]) - len(original)) < 0.3 * len(original)
        assert a["decision"] in {"accept", "reject"} and (a["decision"] == "accept" or a["reason"]), a

    # Contributions
    assert 6 <= len(CONTRIBUTIONS) <= 10
    topics = {"research", "patient_care", "digital_solutions", "fast_track"}
    for c in CONTRIBUTIONS:
        assert c["document"] in docs and c["org"] in participant_names, c
        assert c["author"] in users and users[c["author"]]["org"] == c["org"], c
        assert c["kind"] in {"best_practice", "bottleneck"} and c["topic"] in topics, c
        for field in ("title", "body"):
            plain(c[field], "contribution " + field)
        if c["kind"] == "bottleneck":
            plain(c["proposal"], "proposal")
        else:
            assert c["proposal"] == "", c["title"]
    assert {c["topic"] for c in CONTRIBUTIONS} == topics
    assert {c["kind"] for c in CONTRIBUTIONS} == {"best_practice", "bottleneck"}
    assert len({c["org"] for c in CONTRIBUTIONS}) >= 5
