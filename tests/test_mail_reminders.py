"""Reminders 72 and 24 hours before a deadline, to clusters that have not yet taken part
(drafting/notifications/worker.py), written by the worker and delivered by SMTP."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from drafting.clauses.operations import create_clause
from drafting.consultation.operations import open_thread, set_contributions_deadline, submit_contribution
from drafting.documents.operations import add_member, add_participant, create_document
from drafting.extensions import db
from drafting.models import Document, Notification, OutboxMail, User
from drafting.models.base import utcnow
from drafting.notifications import outbox, worker
from drafting.signoff.phases import move_phase
from tests.conftest import make_app
from tests.smtp import SmtpServer

# Participating clusters and their members on the document made below.
BG = "radoslav.kolev@thraciamed.example"          # Thracian (BG): has done nothing yet
BE = "commenter@drafting.example"                 # Scheldt (BE): commented
HU = "bence.halmos@danubehealth.example"          # Danube (HU): has done nothing yet
HU_GONE = "signatory@drafting.example"            # Danube (HU) too, but deactivated
CZ = "ondrej.kratochvil@vltavahealth.example"     # Vltava (CZ): contributed
CZ_EDITOR = "editor@drafting.example"             # Vltava (CZ) too, the editor
OBSERVER = "observer@drafting.example"            # the secretariat: not a participant
PT = "rui.mendonca@atlantichealth.example"        # Atlantic (PT): a member, but PT does not participate
PARTICIPANTS = ("Thracian MedTech Cluster", "Scheldt Life Sciences Cluster", "Danube Health Cluster",
                "Vltava Digital Health Cluster", "Meseta BioHealth Cluster")  # Meseta: no members


@pytest.fixture
def smtp():
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def app(database, smtp):
    return make_app(database, **smtp.settings())


def person(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


@pytest.fixture
def document_id(app) -> int:
    """A document in consultation (deadline in 48 hours) where BE commented and CZ contributed."""
    with app.test_request_context():
        admin = db.session.scalar(select(User).where(User.is_admin))
        document = create_document(admin, "Reminder test declaration", "declaration")
        for name in PARTICIPANTS:
            add_participant(admin, document, name)
        add_member(admin, document, CZ_EDITOR, "editor")
        for email in (BG, BE, HU, CZ, PT):
            add_member(admin, document, email, "commenter")
        add_member(admin, document, HU_GONE, "signatory")
        add_member(admin, document, OBSERVER, "observer")
        clause = create_clause(document, person(CZ_EDITOR), "Members share what works.", "Sharing")
        move_phase(admin, document, "consultation", utcnow() + timedelta(hours=48))
        open_thread(clause, person(BE), "<p>We would add the hospitals.</p>")
        submit_contribution(document, person(CZ), "best_practice", "research", "Shared registries",
                            "<p>A registry every member reads.</p>")
        person(HU_GONE).deactivated_at = utcnow()
        db.session.flush()
        # The consultation's opening told everyone already: start from no mail and no entry.
        db.session.execute(delete(OutboxMail))
        db.session.execute(delete(Notification).where(Notification.document_id == document.id))
        db.session.commit()
        return document.id


def reminders(app, document_id: int) -> list[tuple[str, str]]:
    """(email, dedupe key) of every reminder mail written for the document, in order."""
    with app.app_context():
        rows = db.session.scalars(select(OutboxMail).where(OutboxMail.document_id == document_id,
                                                           OutboxMail.dedupe_key.like("reminder:%"))
                                  .order_by(OutboxMail.id))
        return [(row.to_email, row.dedupe_key) for row in rows]


def window(key: str) -> str:
    """The hours of a reminder's key: reminder:{document}:{deadline}:{kind}:{hours}:{user}."""
    return key.rsplit(":", 2)[1]


def deadline_in(key: str) -> str:
    return key.split(":", 2)[2].rsplit(":", 3)[0]


def schedule(app, now=None) -> dict:
    with app.app_context():
        try:
            return worker.schedule(now)
        finally:
            db.session.remove()


def deadline_of(app, document_id: int):
    with app.app_context():
        return db.session.get(Document, document_id).deadline


def test_the_consultation_reminder_reaches_members_of_clusters_that_have_not_taken_part(app, smtp, document_id):
    assert schedule(app)["reminders"] == 2
    written = reminders(app, document_id)
    assert sorted(email for email, _ in written) == sorted([BG, HU])
    deadline = deadline_of(app, document_id)
    with app.app_context():
        bg = person(BG)
        assert (BG, f"reminder:{document_id}:{deadline.isoformat(timespec='seconds')}:consultation:72:{bg.id}") \
            in written
        # In-app too, through outbox.notify, in the "consultation" category.
        entries = list(db.session.scalars(select(Notification).where(Notification.user_id == bg.id,
                                                                     Notification.document_id == document_id)))
        assert len(entries) == 1 and "less than 72 hours" in entries[0].message
        assert {row.category for row in db.session.scalars(select(OutboxMail))} == {"consultation"}

    worker.run_round(app)  # delivered by SMTP to those two only
    assert sorted(smtp.inbox.recipients()) == sorted([BG, HU])
    subjects = [m["Subject"] for m in smtp.inbox.messages()]
    assert all("Reminder" in s and "Reminder test declaration" in s for s in subjects)


def test_reminders_are_written_once_however_often_the_worker_runs(app, smtp, document_id):
    assert schedule(app)["reminders"] == 2
    for _ in range(3):
        assert schedule(app)["reminders"] == 0
    worker.run_round(app)
    worker.run_round(app)
    assert len(reminders(app, document_id)) == 2 and len(smtp.inbox.envelopes) == 2
    with app.app_context():
        assert db.session.query(Notification).filter(Notification.document_id == document_id).count() == 2


def test_the_24_hour_reminder_follows_the_72_hour_one(app, smtp, document_id):
    deadline = deadline_of(app, document_id)
    assert schedule(app, deadline - timedelta(hours=71))["reminders"] == 2
    assert schedule(app, deadline - timedelta(hours=30))["reminders"] == 0
    assert schedule(app, deadline - timedelta(hours=23))["reminders"] == 2
    assert schedule(app, deadline - timedelta(hours=1))["reminders"] == 0
    assert schedule(app, deadline + timedelta(minutes=1))["reminders"] == 0  # closed: nothing more
    assert [window(key) for _, key in reminders(app, document_id)] == ["72", "72", "24", "24"]


def test_a_deadline_set_less_than_a_day_away_gives_only_the_24_hour_reminder(app, document_id):
    with app.app_context():
        db.session.get(Document, document_id).deadline = utcnow() + timedelta(hours=20)
        db.session.commit()
    assert schedule(app)["reminders"] == 2
    assert {window(key) for _, key in reminders(app, document_id)} == {"24"}


def test_a_moved_deadline_gives_new_reminders(app, document_id):
    assert schedule(app)["reminders"] == 2
    with app.app_context():
        document = db.session.get(Document, document_id)
        document.deadline = document.deadline + timedelta(hours=12)
        db.session.commit()
    assert schedule(app)["reminders"] == 2
    assert schedule(app)["reminders"] == 0
    keys = [key for _, key in reminders(app, document_id)]
    assert len(keys) == 4 and len({deadline_in(key) for key in keys}) == 2  # two deadlines


def test_no_reminder_far_from_the_deadline_or_outside_the_consultation(app, document_id):
    with app.app_context():
        document = db.session.get(Document, document_id)
        document.deadline = utcnow() + timedelta(days=5)
        db.session.commit()
    assert schedule(app)["reminders"] == 0
    with app.test_request_context():
        document = db.session.get(Document, document_id)
        admin = db.session.scalar(select(User).where(User.is_admin))
        document.deadline = utcnow() + timedelta(hours=30)
        move_phase(admin, document, "final_review")
        db.session.commit()
    assert schedule(app)["reminders"] == 0


def test_a_cluster_that_proposes_an_amendment_gets_no_more_reminders(app, document_id):
    from drafting.consultation.operations import propose_amendment

    with app.test_request_context():
        document = db.session.get(Document, document_id)
        propose_amendment(document.clauses[0], person(BG), "Members share what works, openly.",
                          "<p>Say openly.</p>")
        db.session.commit()
    assert schedule(app)["reminders"] == 1
    assert [email for email, _ in reminders(app, document_id)] == [HU]


def test_someone_who_turned_consultation_mails_off_is_told_in_the_app_once(app, smtp, document_id):
    with app.app_context():
        outbox.set_mode(person(HU), "consultation", "off")
        db.session.commit()
    assert schedule(app)["reminders"] == 2
    assert schedule(app)["reminders"] == 0
    with app.app_context():
        hu = person(HU)
        entries = db.session.query(Notification).filter(Notification.user_id == hu.id,
                                                         Notification.document_id == document_id).count()
        assert entries == 1
    worker.run_round(app)
    assert smtp.inbox.recipients() == [BG]


def test_the_contributions_reminder_goes_to_clusters_that_have_not_contributed(app, smtp, document_id):
    with app.app_context():
        document = db.session.get(Document, document_id)
        document.deadline = utcnow() + timedelta(days=10)  # the consultation's own: far away
        set_contributions_deadline(document, person(CZ_EDITOR), utcnow() + timedelta(hours=60))
        db.session.commit()
        contributions_deadline = document.contributions_deadline
    assert schedule(app)["reminders"] == 3
    written = reminders(app, document_id)
    # BE commented, but has not contributed: a reminder about contributions is for them too.
    assert sorted(email for email, _ in written) == sorted([BG, BE, HU])
    assert all(f":{contributions_deadline.isoformat(timespec='seconds')}:contributions:72:" in key
               for _, key in written)
    worker.run_round(app)
    assert sorted(smtp.inbox.recipients()) == sorted([BG, BE, HU])
    assert all("/contributions" in m.get_body(("plain",)).get_content() for m in smtp.inbox.messages())
    assert schedule(app)["reminders"] == 0


@pytest.mark.parametrize("settings, base", [
    # PUBLIC_URL unset: the configured default (never http://localhost/, nor any request's Host).
    ({"PUBLIC_URL": None, "DEFAULT_PUBLIC_URL": "http://drafting.internal:8000"}, "http://drafting.internal:8000"),
    # Served under a path: the prefix once.
    ({"PUBLIC_URL": "https://drafting.example.org/committee/"}, "https://drafting.example.org/committee"),
])
def test_reminder_and_digest_links_are_on_the_public_address(app, smtp, document_id, settings, base):
    app.config.update(settings)
    hour = app.config["MAIL_DIGEST_HOUR"]
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    with app.app_context():
        outbox.set_mode(person(HU), "consultation", "digest")  # HU's reminder waits for the digest
        # The deadline 60 hours after today's midnight, whatever the time now: the first round (an
        # hour before today's digest) is within its 72 hours and the digest (tomorrow) more than 24
        # hours before it. (With the fixture's "48 hours from now", a run before 07:00 UTC also
        # sent the 24-hour reminder with the digest.)
        db.session.get(Document, document_id).deadline = today + timedelta(hours=60)
        db.session.commit()
    assert schedule(app, today.replace(hour=hour - 1)) == {"reminders": 2, "digests": 0}
    at = today.replace(hour=hour) + timedelta(days=1)
    assert schedule(app, at)["digests"] == 1
    worker.run_round(app, scheduled=False, now=at)
    assert sorted(smtp.inbox.recipients()) == sorted([BG, HU])  # BG's reminder, HU's digest
    with app.app_context():
        rows = list(db.session.scalars(select(OutboxMail)))
        assert {row.category for row in rows} == {"consultation", "digest"}
        for row in rows:
            assert row.url is None or row.url == f"{base}/documents/{document_id}"
            assert row.unsubscribe_url.startswith(f"{base}/unsubscribe/")
    for message in smtp.inbox.messages():
        for part in (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()):
            links = re.findall(r"https?://[^\s\"<>]+", part)
            assert links and all(link.startswith(f"{base}/") for link in links), links
            assert f"{base}/settings/notifications" in part
        assert message["List-Unsubscribe"].strip().startswith(f"<{base}/unsubscribe/")
