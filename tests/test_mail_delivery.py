"""Delivering the outbox by SMTP (drafting/notifications/worker.py), against a real SMTP server.

Mails are queued as the app queues them (outbox.notify in a request) and delivered with the
worker's own functions; the same tests run on SQLite and in the PostgreSQL pass.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import delete, select

from drafting.extensions import db
from drafting.models import Document, OutboxMail, User
from drafting.models.base import utcnow
from drafting.notifications import outbox, worker
from tests.conftest import EMAILS, World, database_url, live_env, make_app
from tests.served import ROOT, LiveServer, free_port
from tests.smtp import SmtpServer


@pytest.fixture
def smtp():
    server = SmtpServer()
    yield server
    server.stop()


def empty_outbox(app) -> None:
    """Start from an empty outbox (the demo's own events queued mails while it was seeded)."""
    with app.app_context():
        db.session.execute(delete(OutboxMail))
        db.session.commit()


@pytest.fixture
def mail_app(database, smtp):
    app = make_app(database, **smtp.settings())
    empty_outbox(app)
    return app


def user(role: str) -> User:
    return db.session.scalar(select(User).where(User.email == EMAILS[role]))


def queue(app, role: str = "commenter", message: str = "Someone replied to your comment.",
          category: str = "discussion", commit: bool = True) -> int | None:
    """Notify a person as a request of the app does; return the mail row's id (None: no mail)."""
    with app.test_request_context():
        document = db.session.scalar(select(Document).where(Document.kind == "declaration"))
        outbox.notify(user(role), document, category, message, f"/documents/{document.id}#thread-1")
        db.session.flush()
        row = db.session.scalar(select(OutboxMail).order_by(OutboxMail.id.desc()).limit(1))
        mail_id = row.id if row is not None and row.text_body and message in row.text_body else None
        if commit:
            db.session.commit()
        else:
            db.session.rollback()
        return mail_id


def row(app, mail_id: int) -> OutboxMail:
    with app.app_context():
        found = db.session.get(OutboxMail, mail_id)
        db.session.expunge(found)
        return found


def deliver(app, **kwargs) -> dict:
    with app.app_context():
        try:
            return dict(worker.deliver_due(**kwargs))
        finally:
            db.session.remove()


def test_a_queued_mail_is_delivered_once_with_both_parts_and_the_unsubscribe_headers(mail_app, smtp):
    mail_id = queue(mail_app, "commenter", "Tereza replied to your comment on clause 2.")
    assert row(mail_app, mail_id).status == "queued"

    assert deliver(mail_app)["sent"] == 1
    assert deliver(mail_app).get("sent", 0) == 0  # a second round finds nothing: never twice

    assert smtp.inbox.recipients() == [EMAILS["commenter"]]
    [message] = smtp.inbox.messages()
    assert "Lieve Vandamme" in message["To"] and EMAILS["commenter"] in message["To"]
    assert message["From"] == mail_app.config["MAIL_DEFAULT_SENDER"]
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Tereza replied to your comment on clause 2." in plain and "Tereza replied" in html
    sent = row(mail_app, mail_id)
    assert sent.status == "sent" and sent.sent_at is not None and sent.attempts == 1
    assert sent.unsubscribe_url and "/unsubscribe/" in sent.unsubscribe_url
    assert message["List-Unsubscribe"].strip() == f"<{sent.unsubscribe_url}>"  # folded: it is long
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert sent.url in plain


def test_a_mail_without_an_unsubscribe_link_has_no_list_unsubscribe_headers(mail_app, smtp):
    with mail_app.test_request_context():
        outbox.queue_mail(None, "invitation", "You are invited", "You are invited to a document.",
                          url="/invitations/secret", to_email="new.person@example.org")
        db.session.commit()
    assert deliver(mail_app)["sent"] == 1
    [message] = smtp.inbox.messages()
    assert smtp.inbox.recipients() == ["new.person@example.org"]
    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None


def test_a_mail_that_cannot_be_built_fails_and_the_others_still_go(mail_app, smtp):
    with mail_app.test_request_context():
        bad = outbox.queue_mail(None, "invitation", "Injected", "A header injection attempt.",
                                to_email="victim@example.org\nBcc: everyone@example.org")
        good = outbox.queue_mail(None, "invitation", "Welcome", "You are invited.", to_email="fine@example.org")
        db.session.commit()
        bad_id, good_id = bad.id, good.id
    counts = deliver(mail_app)
    assert counts["failed"] == 1 and counts["sent"] == 1
    assert smtp.inbox.recipients() == ["fine@example.org"]
    assert row(mail_app, bad_id).status == "failed" and "Not sent" in row(mail_app, bad_id).last_error
    assert row(mail_app, good_id).status == "sent"


def test_a_change_that_rolled_back_sends_nothing(mail_app, smtp):
    queue(mail_app, "commenter", "This change is rolled back.", commit=False)
    assert deliver(mail_app).get("sent", 0) == 0
    assert smtp.inbox.envelopes == []
    with mail_app.app_context():
        assert db.session.scalar(select(OutboxMail.id)) is None


def test_a_refused_mail_is_retried_with_backoff_and_then_failed(mail_app, smtp):
    mail_id = queue(mail_app, "commenter", "A mail the server keeps refusing.")
    smtp.inbox.refuse = "451 4.3.0 Try again later"
    before = utcnow()
    assert deliver(mail_app)["retry"] == 1
    first = row(mail_app, mail_id)
    assert first.status == "queued" and first.attempts == 1 and "451" in first.last_error
    assert first.claimed_by is None
    assert timedelta(seconds=29) <= first.next_attempt_at - before <= timedelta(seconds=32)
    assert deliver(mail_app) == {}  # not due yet

    # Later rounds: each try waits twice as long, up to an hour, and the eighth is the last.
    waits = []
    for attempt in range(2, worker.MAX_ATTEMPTS + 1):
        previous = row(mail_app, mail_id)
        deliver(mail_app, now=previous.next_attempt_at)
        current = row(mail_app, mail_id)
        assert current.attempts == attempt
        if attempt < worker.MAX_ATTEMPTS:
            assert current.status == "queued"
            waits.append(round((current.next_attempt_at - utcnow()).total_seconds() / 30))
    assert waits == [2, 4, 8, 16, 32, 64]  # 1, 2, 4, 8, 16, 32 minutes (capped at 1 h)
    assert worker.backoff(20) == timedelta(hours=1)
    final = row(mail_app, mail_id)
    assert final.status == "failed" and final.attempts == worker.MAX_ATTEMPTS
    assert smtp.inbox.refused == worker.MAX_ATTEMPTS and smtp.inbox.envelopes == []
    assert deliver(mail_app, now=utcnow() + timedelta(days=1)) == {}  # failed stays failed


def test_a_permanent_refusal_fails_at_once(mail_app, smtp):
    mail_id = queue(mail_app, "commenter", "A mail to a mailbox that does not exist.")
    smtp.inbox.refuse = "554 5.1.1 No such mailbox"
    assert deliver(mail_app)["failed"] == 1
    failed = row(mail_app, mail_id)
    assert failed.status == "failed" and failed.attempts == 1 and "554" in failed.last_error


def test_the_smtp_server_down_means_a_retry_later(database):
    app = make_app(database, MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())  # nobody listens there
    empty_outbox(app)
    mail_id = queue(app, "commenter", "Nobody listens on that port.")
    assert deliver(app)["retry"] == 1
    waiting = row(app, mail_id)
    assert waiting.status == "queued" and waiting.attempts == 1 and "Connection" in waiting.last_error


def test_a_mail_left_sending_past_the_lease_becomes_uncertain_and_is_not_sent_again(mail_app, smtp):
    mail_id = queue(mail_app, "commenter", "The worker sending this one died.")
    with mail_app.app_context():
        stuck = db.session.get(OutboxMail, mail_id)
        stuck.status, stuck.claimed_by = "sending", "dead-host:1:1"
        stuck.claimed_at = utcnow() - worker.LEASE - timedelta(seconds=1)
        db.session.commit()
    fresh = queue(mail_app, "commenter", "A mail still being sent by a live worker.")
    with mail_app.app_context():
        busy = db.session.get(OutboxMail, fresh)
        busy.status, busy.claimed_by, busy.claimed_at = "sending", "live-host:2:2", utcnow()
        db.session.commit()

    counts = worker.run_round(mail_app)
    assert counts["uncertain"] == 1
    uncertain = row(mail_app, mail_id)
    assert uncertain.status == "uncertain" and "may or may not" in uncertain.last_error
    assert row(mail_app, fresh).status == "sending"  # within its lease: left alone
    worker.run_round(mail_app, now=utcnow() + timedelta(minutes=1))
    assert row(mail_app, mail_id).status == "uncertain"
    assert smtp.inbox.envelopes == []


def test_without_mail_server_nothing_is_sent_and_mails_stay_queued(database, smtp):
    app = make_app(database, MAIL_SERVER=None)
    empty_outbox(app)
    mail_id = queue(app, "commenter", "Kept in the outbox.")
    assert worker.run_round(app).get("sent", 0) == 0
    kept = row(app, mail_id)
    assert kept.status == "queued" and kept.claimed_by is None and kept.attempts == 0
    assert smtp.inbox.envelopes == []


def test_a_person_deactivated_after_the_mail_was_queued_gets_nothing(mail_app, smtp):
    mail_id = queue(mail_app, "commenter", "Queued before the account was deactivated.")
    with mail_app.app_context():
        user("commenter").deactivated_at = utcnow()
        db.session.commit()
    assert deliver(mail_app).get("sent", 0) == 0
    skipped = row(mail_app, mail_id)
    assert skipped.status == "failed" and "deactivated" in skipped.last_error
    assert smtp.inbox.envelopes == []


def test_several_mails_to_several_people_each_arrive_once(mail_app, smtp):
    for role in ("commenter", "signatory", "observer", "editor"):
        queue(mail_app, role, f"A note for the {role}.")
    assert deliver(mail_app)["sent"] == 4
    assert sorted(smtp.inbox.recipients()) == sorted(EMAILS[r] for r in ("commenter", "signatory", "observer",
                                                                          "editor"))
    with mail_app.app_context():
        assert set(db.session.scalars(select(OutboxMail.status))) == {"sent"}


# ---- the daily digest ---------------------------------------------------------------------------

def test_held_mails_go_out_once_a_day_in_one_digest(mail_app, smtp):
    with mail_app.test_request_context():
        outbox.set_mode(user("commenter"), "discussion", "digest")
        db.session.commit()
    first = queue(mail_app, "commenter", "First reply, for the digest.")
    second = queue(mail_app, "commenter", "Second reply, for the digest.")
    assert row(mail_app, first).status == "held" and row(mail_app, second).status == "held"
    assert deliver(mail_app) == {}  # held rows are not sent on their own

    hour = mail_app.config["MAIL_DIGEST_HOUR"]
    tomorrow = (utcnow() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    with mail_app.app_context():
        assert worker.schedule(tomorrow.replace(hour=hour - 1))["digests"] == 0  # before the hour
        assert worker.schedule(tomorrow.replace(hour=hour))["digests"] == 1
        assert worker.schedule(tomorrow.replace(hour=hour + 3))["digests"] == 0  # once a day
        digest = db.session.scalar(select(OutboxMail).where(OutboxMail.category == "digest"))
        parts = list(db.session.scalars(select(OutboxMail).where(OutboxMail.id.in_((first, second)))))
        assert [p.status for p in parts] == ["digested", "digested"]
        assert {p.digest_id for p in parts} == {digest.id} and digest.status == "queued"
        links = [p.url for p in parts]
    assert deliver(mail_app, now=tomorrow.replace(hour=hour))["sent"] == 1
    [message] = smtp.inbox.messages()
    assert smtp.inbox.recipients() == [EMAILS["commenter"]]
    assert "2 notifications" in message["Subject"]
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for text in ("First reply, for the digest.", "Second reply, for the digest."):
        assert text in plain and text in html
    for link in links:
        assert link in plain and link.replace("&", "&amp;") in html
    # One category in the digest: its one-click unsubscribe applies.
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_digest_is_not_capped_and_skips_deactivated_people(mail_app, smtp):
    with mail_app.test_request_context():
        for role in ("commenter", "signatory"):
            outbox.set_mode(user(role), "discussion", "digest")
        db.session.commit()
    queue(mail_app, "commenter", "For the digest of someone who leaves.")
    queue(mail_app, "signatory", "For the digest of someone who stays.")
    with mail_app.app_context():
        user("commenter").deactivated_at = utcnow()
        db.session.commit()
    at = (utcnow() + timedelta(days=1)).replace(hour=mail_app.config["MAIL_DIGEST_HOUR"])
    mail_app.config["MAIL_HOURLY_CAP"] = 0  # the cap never holds a digest back
    with mail_app.app_context():
        assert worker.schedule(at)["digests"] == 1
    assert deliver(mail_app, now=at)["sent"] == 1
    assert smtp.inbox.recipients() == [EMAILS["signatory"]]
    with mail_app.app_context():
        left = db.session.scalar(select(OutboxMail).where(OutboxMail.to_email == EMAILS["commenter"]))
        assert left.status == "failed" and "deactivated" in left.last_error


def test_a_digest_of_several_categories_has_a_one_click_unsubscribe_for_them(mail_app, smtp):
    with mail_app.test_request_context():
        for category in ("discussion", "amendments"):
            outbox.set_mode(user("commenter"), category, "digest")
        db.session.commit()
    queue(mail_app, "commenter", "A reply, for the digest.")
    queue(mail_app, "commenter", "An amendment decided, for the digest.", category="amendments")
    at = (utcnow() + timedelta(days=1)).replace(hour=mail_app.config["MAIL_DIGEST_HOUR"])
    with mail_app.app_context():
        assert worker.schedule(at)["digests"] == 1
    assert deliver(mail_app, now=at)["sent"] == 1
    [message] = smtp.inbox.messages()
    link = message["List-Unsubscribe"].strip().removeprefix("<").removesuffix(">")
    assert link.startswith("http://localhost/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in message.get_body(("plain",)).get_content()

    client = mail_app.test_client()
    path = link.removeprefix("http://localhost")
    page = client.get(path).get_data(as_text=True)
    assert "Stop the e-mails of your daily digest?" in page
    assert "A reply in a discussion you started" in page and "An amendment you proposed" in page
    # The mail client's one-click POST turns off the categories the digest held, and only those.
    done = client.post(path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert done.status_code == 200
    assert "no longer receives these e-mails from drafting: Discussions, Your amendments." in done.get_data(as_text=True)
    with mail_app.app_context():
        commenter = user("commenter")
        assert {c: outbox.mode_of(commenter, c) for c in ("discussion", "amendments", "consultation", "signing")} \
            == {"discussion": "off", "amendments": "off", "consultation": "immediate", "signing": "immediate"}


# ---- the hourly cap -----------------------------------------------------------------------------

def test_past_the_hourly_cap_mails_wait_for_the_digest(mail_app, smtp):
    """MAIL_HOURLY_CAP immediate mails per person per hour; more are held and go out in the next digest."""
    cap, more = 3, 2
    mail_app.config["MAIL_HOURLY_CAP"] = cap
    world = World(mail_app)
    client = mail_app.test_client()
    plan = world.document("action_plan")
    commenter, signatory = ({"Authorization": f"Bearer {world.token(role)}"} for role in ("commenter", "signatory"))
    thread = client.post(f"/api/v1/clauses/{plan['clause_ids'][2]}/threads", headers=commenter,
                         json={"body": "Who pays for the registry?"}).get_json()
    for number in range(cap + more):  # each reply tells the thread's author, the commenter
        answer = client.post(f"/api/v1/threads/{thread['id']}/comments", headers=signatory,
                             json={"body": f"Answer number {number + 1}."})
        assert answer.status_code == 201
    with mail_app.app_context():
        rows = list(db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)))
        assert {row.to_email for row in rows} == {EMAILS["commenter"]}
        assert [row.status for row in rows] == ["queued"] * cap + ["held"] * more
        held = [row.id for row in rows[cap:]]
    assert deliver(mail_app)["sent"] == cap  # the held ones are not sent on their own
    assert deliver(mail_app) == {}

    at = (utcnow() + timedelta(days=1)).replace(hour=mail_app.config["MAIL_DIGEST_HOUR"])
    with mail_app.app_context():
        assert worker.schedule(at)["digests"] == 1
        digest = db.session.scalar(select(OutboxMail).where(OutboxMail.category == "digest"))
        parts = list(db.session.scalars(select(OutboxMail).where(OutboxMail.digest_id == digest.id)
                                        .order_by(OutboxMail.id)))
        assert [p.id for p in parts] == held and {p.status for p in parts} == {"digested"}
    assert deliver(mail_app, now=at)["sent"] == 1  # the digest itself is never capped
    messages = smtp.inbox.messages()
    assert len(messages) == cap + 1 and f"{more} notifications" in messages[-1]["Subject"]
    plain = messages[-1].get_body(("plain",)).get_content()
    assert "“Answer number 4.”" not in plain  # the digest lists subjects, each with its link
    assert plain.count("Reply from Katalin Szűcs") == more


# ---- served: the app delivers by itself ----------------------------------------------------------

def test_the_served_app_delivers_a_mail_within_ten_seconds_of_the_event(database, smtp):
    app = make_app(database)
    empty_outbox(app)
    world = World(app)
    with app.app_context():
        declaration = db.session.scalar(select(Document).where(Document.kind == "declaration"))
        declaration_id = declaration.id
        members = {m.user.email for m in declaration.memberships if m.user.is_active}
    server = LiveServer(database, env={**live_env(), **smtp.env(), "NOTIFICATIONS_WORKER": "1"})
    try:
        deadline = (utcnow() + timedelta(days=14)).isoformat(timespec="seconds") + "Z"
        started = utcnow()
        moved = requests.post(server.url(f"/api/v1/documents/{declaration_id}/phase"),
                              headers={"Authorization": f"Bearer {world.token('admin')}"},
                              json={"phase": "consultation", "deadline": deadline}, timeout=10)
        assert moved.status_code == 200, moved.text
        assert smtp.inbox.wait_for(1, timeout=10), "no mail within 10 s of the event"
        assert set(smtp.inbox.recipients()) <= members
        with app.app_context():  # the worker records "sent" just after the SMTP server took the mail
            for _ in range(50):
                sent = list(db.session.scalars(select(OutboxMail).where(OutboxMail.status == "sent")))
                if len(sent) == db.session.query(OutboxMail).count():
                    break
                db.session.rollback()
                time.sleep(0.1)
            delays = [(m.sent_at - max(started, m.created_at)).total_seconds() for m in sent]
            assert sent and all(delay < 10 for delay in delays), delays
    finally:
        server.stop()


def test_the_served_app_delivers_from_its_start_without_any_request(database, smtp):
    """After a restart with no traffic, mail queued before it still goes out: the delivery thread
    starts when gunicorn has loaded the app (gunicorn.conf.py), not with a first request. And
    without PUBLIC_URL, the reminders that worker writes link to the address gunicorn binds."""
    app = make_app(database)
    empty_outbox(app)
    mail_id = queue(app, "commenter", "Queued before the server started.")
    with app.app_context():
        plan = db.session.scalar(select(Document).where(Document.kind == "action_plan"))
        # The served worker writes the 72-hour reminders to the clusters that have not contributed.
        plan.contributions_deadline = utcnow() + timedelta(hours=48)
        db.session.commit()
        plan_id = plan.id
        waiting = len(worker.reminder_recipients(plan, "contributions"))
    assert waiting > 0
    # Served as LiveServer serves it, but not probed: not a single request reaches the app.
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url(database), "SECRET_KEY": "browser-tests",
           "DRAFTING_ENV": "testing", **live_env(), **smtp.env(), "NOTIFICATIONS_WORKER": "1"}
    env.pop("PUBLIC_URL", None)
    server = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-w", "1", "--threads", "4",
                               "--no-control-socket", "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert smtp.inbox.wait_for(1 + waiting, timeout=60), "nothing delivered without a request"
        assert EMAILS["commenter"] in smtp.inbox.recipients()
        with app.app_context():
            for _ in range(50):  # "sent" is recorded just after the SMTP server took the mail
                db.session.rollback()
                if db.session.get(OutboxMail, mail_id).status == "sent":
                    break
                time.sleep(0.1)
            assert db.session.get(OutboxMail, mail_id).status == "sent"
            links = {row.url for row in db.session.scalars(select(OutboxMail).where(
                OutboxMail.dedupe_key.like(f"reminder:{plan_id}:%")))}
        assert links == {f"http://127.0.0.1:{port}/documents/{plan_id}/contributions"}
        assert len(smtp.inbox.envelopes) == 1 + waiting  # each once
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stdout.close()
