"""Server time and size of the document page for 500 clauses carrying 2,000 comments.

Target (issue 7): the page under 150 ms of server time.
"""

from __future__ import annotations

import gzip
import random
import tempfile
import time
from pathlib import Path

from .common import machine, machine_markdown, percentile

TITLE = "Document page: 500 clauses, 2,000 comments"
NAME = "page"

WORDS = ("health data access bodies research permit clusters hospitals registries interoperability "
         "consent secondary use citizens trust innovation sandbox reimbursement evidence patients "
         "capacity coordination the of and to in for with by on").split()


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def build(workdir: Path):
    """A migrated database with the demo world plus a 500-clause plan carrying 2,000 comments."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from drafting import create_app
    from drafting.config import TestConfig
    from drafting.demo.seed import seed_demo
    from drafting.extensions import db
    from drafting.models import (
        Clause,
        ClauseRevision,
        Comment,
        Document,
        Membership,
        Participation,
        Thread,
        User,
    )
    from drafting.models.base import utcnow

    rng = random.Random(5)
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{workdir / 'page.db'}", WTF_CSRF_ENABLED=False)
    with app.app_context():
        upgrade()
        seed_demo()
        template = db.session.scalar(select(Document).where(Document.kind == "action_plan"))
        members = list(db.session.scalars(select(Membership).where(Membership.document_id == template.id)))
        document = Document(title="A 500-clause action plan", kind="action_plan", phase="consultation",
                            deadline=template.deadline)
        db.session.add(document)
        db.session.flush()
        for m in members:
            db.session.add(Membership(document_id=document.id, user_id=m.user_id, role=m.role))
        for p in db.session.scalars(select(Participation).where(Participation.document_id == template.id)):
            db.session.add(Participation(document_id=document.id, organisation_id=p.organisation_id))
        editor = db.session.scalar(select(User).where(User.email == "editor@drafting.example"))
        commenters = [m.user_id for m in members if m.role in ("commenter", "signatory")]
        now = utcnow()
        clauses = []
        for position in range(1, 501):
            text = "\n\n".join(" ".join(_sentence(rng, rng.randint(8, 18)) for _ in range(rng.randint(1, 3)))
                               for _ in range(rng.randint(1, 3)))
            clause = Clause(document_id=document.id, position=position, heading=f"Action {position}",
                            text=text, version=1, created_at=now, updated_at=now, updated_by_id=editor.id)
            db.session.add(clause)
            clauses.append(clause)
        db.session.flush()
        for clause in clauses:
            db.session.add(ClauseRevision(clause_id=clause.id, version=1, heading=clause.heading, text=clause.text,
                                          author_id=editor.id, organisation_id=editor.organisation_id,
                                          origin="edit", created_at=now))
        users = {u.id: u for u in db.session.scalars(select(User))}
        comments = 0
        while comments < 2000:  # 500 threads of four comments, on 250 clauses, a tenth resolved
            clause = rng.choice(clauses[:250])
            author = users[rng.choice(commenters)]
            words = clause.text.split()
            quote = " ".join(words[:4]) if rng.random() < 0.5 else None
            thread = Thread(clause_id=clause.id, author_id=author.id, quote=quote, clause_version=1,
                            status="resolved" if rng.random() < 0.1 else "open")
            db.session.add(thread)
            for _ in range(4):
                writer = users[rng.choice(commenters + [editor.id])]
                thread.comments.append(Comment(author_id=writer.id, organisation_id=writer.organisation_id,
                                               body=f"<p>{_sentence(rng, rng.randint(10, 30))}</p>"))
                comments += 1
        db.session.commit()
        return app, document.id


def measure(app, document_id: int, repeats: int) -> tuple[list[float], int, int, int]:
    """Time GET of the page through the WSGI app (server time), count its SQL statements."""
    from sqlalchemy import event

    from drafting.extensions import db

    client = app.test_client()
    client.post("/login", data={"email": "editor@drafting.example", "password": "drafting-demo"})
    url = f"/documents/{document_id}"
    body = client.get(url).data  # warm up (templates compiled, caches filled)
    statements = 0

    def count(*_args, **_kwargs):
        nonlocal statements
        statements += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    client.get(url)
    event.remove(engine, "before_cursor_execute", count)
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200
    return samples, len(body), len(gzip.compress(body)), statements


def add_arguments(parser) -> None:
    parser.add_argument("--page-repeats", type=int, default=15, help="timed page loads")


def run(options) -> str:
    facts = machine()
    workdir = Path(tempfile.mkdtemp(prefix="bench-page-"))
    app, document_id = build(workdir)
    samples, size, gzipped, statements = measure(app, document_id, options.page_repeats)
    p50, p95 = percentile(samples, 50), percentile(samples, 95)
    verdict = "met" if p95 < 150 else "**missed**"
    table = "\n".join([
        "| measurement | value |", "|---|---|",
        f"| server time p50 | {p50:.0f} ms |", f"| server time p95 | {p95:.0f} ms (target < 150 ms: {verdict}) |",
        f"| server time max | {max(samples):.0f} ms |", f"| SQL statements per page | {statements} |",
        f"| page size | {size / 1024:.0f} KiB ({gzipped / 1024:.0f} KiB gzipped) |",
    ])
    print(table)
    return f"""{machine_markdown(facts)}
- Command: `{options.command}`

Method: a fresh SQLite database with the demo world and a 500-clause action plan in
consultation (1-3 paragraphs a clause) carrying 500 threads of four comments (2,000
comments) on 250 of its clauses, half of them anchored to a quoted passage. The editor's
page is loaded {options.page_repeats} times through the WSGI app after one warm-up (server time:
routing, queries, rendering; no network), and the SQL statements of one load are counted.

{table}
"""
