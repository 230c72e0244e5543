"""Durability (issue 16): the served app is killed with SIGKILL while ten editors save; every save
that was answered 200 is in the database afterwards, and the app serves again. On SQLite and (in
the PostgreSQL pass) on PostgreSQL, through HTTP as API clients save."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import requests
from sqlalchemy import select

from drafting.extensions import db
from drafting.models import ApiToken, ClauseRevision, Document, User
from tests.conftest import EMAILS, live_env, make_app
from tests.served import LiveServer

WRITERS = 10


def children_of(pid: int) -> list[int]:
    """The processes whose parent is pid (gunicorn's workers), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def kill_hard(server: LiveServer) -> None:
    """SIGKILL gunicorn's worker and master at once: no shutdown code runs anywhere."""
    for pid in children_of(server.process.pid):
        os.kill(pid, signal.SIGKILL)
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait()
    server.process.stdout.close()


def test_every_acknowledged_save_survives_a_killed_server(database):
    app = make_app(database)
    with app.app_context():
        editor = db.session.scalar(select(User).where(User.email == EMAILS["editor"]))
        _, secret = ApiToken.issue(editor)
        db.session.commit()
        declaration = db.session.scalar(select(Document).where(Document.kind == "declaration"))
        clause_ids = [c.id for c in declaration.clauses][:WRITERS]
    assert len(clause_ids) == WRITERS
    server = LiveServer(database, threads=20, env=live_env())
    acknowledged: dict[int, list[tuple[int, str]]] = {cid: [] for cid in clause_ids}
    stop = threading.Event()

    def writer(clause_id: int) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {secret}"
        version, n = 1, 0
        while not stop.is_set():
            n += 1
            text = f"Clause {clause_id}, save {n}: every acknowledged word is kept."
            try:
                answer = session.patch(server.url(f"/api/v1/clauses/{clause_id}"), timeout=10,
                                       json={"text": text, "base_version": version})
            except requests.RequestException:
                return  # the server is gone: this save was never acknowledged
            if answer.status_code == 200:
                version = answer.json()["clause"]["version"]
                acknowledged[clause_id].append((version, text))

    threads = [threading.Thread(target=writer, args=(cid,)) for cid in clause_ids]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while sum(map(len, acknowledged.values())) < 60 and time.monotonic() < deadline:
        time.sleep(0.02)
    kill_hard(server)  # in the middle of the saves
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    total = sum(map(len, acknowledged.values()))
    assert total >= 60, f"only {total} saves were acknowledged before the kill"

    with app.app_context():
        db.session.remove()
        for clause_id, saves in acknowledged.items():
            stored = dict(db.session.execute(select(ClauseRevision.version, ClauseRevision.text)
                                             .where(ClauseRevision.clause_id == clause_id)).all())
            missing = [(v, t) for v, t in saves if stored.get(v) != t]
            assert not missing, f"clause {clause_id}: acknowledged saves lost after the kill: {missing[:3]}"

    again = LiveServer(database, env=live_env())  # and it serves again, with the saved text
    try:
        clause_id = clause_ids[0]
        last_version, last_text = acknowledged[clause_id][-1] if acknowledged[clause_id] else (1, None)
        document = requests.get(again.url(f"/api/v1/documents/{declaration.id}"), timeout=30,
                                headers={"Authorization": f"Bearer {secret}"}).json()
        current = next(c for c in document["clauses"] if c["id"] == clause_id)
        assert current["version"] >= last_version
        if current["version"] == last_version and last_text is not None:
            assert current["text"] == last_text
    finally:
        again.stop()
