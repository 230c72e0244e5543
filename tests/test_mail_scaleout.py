"""Two delivery processes on one PostgreSQL database: every mail arrives exactly once.

Runs in the PostgreSQL pass of `make test` (DRAFTING_TEST_BACKEND=postgres), like
test_scaleout.py: on SQLite one worker is the rule (docs/deploy.md, "Mail").
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from drafting.extensions import db
from drafting.models import Document, OutboxMail, User
from drafting.notifications import outbox
from tests.conftest import make_app
from tests.served import ROOT
from tests.smtp import SmtpServer

MAILS = 200


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.inbox.delay = 0.01  # each mail takes a little while, so the two processes overlap
    yield server
    server.stop()


def test_two_worker_processes_deliver_each_mail_exactly_once(database, smtp):
    assert isinstance(database, str) and database.startswith("postgresql"), "PostgreSQL pass only"
    app = make_app(database, MAIL_HOURLY_CAP=MAILS)  # no mail folded into a digest here
    with app.test_request_context():
        db.session.execute(delete(OutboxMail))
        users = list(db.session.scalars(select(User).where(User.deactivated_at.is_(None)).order_by(User.id)))
        document = db.session.scalar(select(Document).where(Document.kind == "declaration"))
        for number in range(MAILS):
            outbox.notify(users[number % len(users)], document, "discussion", f"Mail number {number}.",
                          f"/documents/{document.id}")
        db.session.commit()
        assert db.session.query(OutboxMail).filter(OutboxMail.status == "queued").count() == MAILS

    flask = str(Path(sys.executable).with_name("flask"))
    env = {**os.environ, "DATABASE_URL": database, "SECRET_KEY": "mail-tests", "DRAFTING_ENV": "testing",
           **smtp.env()}
    workers = [subprocess.Popen([flask, "--app", "wsgi", "notifications", "work", "--once"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
    outputs = [w.communicate(timeout=120)[0].decode() for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs

    subjects = Counter(m["Subject"] for m in smtp.inbox.messages())
    assert len(subjects) == MAILS and set(subjects.values()) == {1}, subjects.most_common(3)
    with app.app_context():
        rows = list(db.session.scalars(select(OutboxMail)))
        assert {r.status for r in rows} == {"sent"} and {r.attempts for r in rows} == {1}
        pids = {r.claimed_by.split(":")[1] for r in rows}
    assert pids == {str(w.pid) for w in workers}, "both processes delivered a share"
