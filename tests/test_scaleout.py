"""Two server processes on one PostgreSQL database and one Redis message queue.

Runs in the PostgreSQL pass of `make test` (DRAFTING_TEST_BACKEND=postgres).
"""

from __future__ import annotations

import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import select

from drafting.extensions import db
from drafting.models import User
from drafting.presence import RedisRegistry
from tests.conftest import World, live_env, make_app
from tests.served import LiveServer
from tests.test_live_server import Listener, bearer

WAIT = 5.0


@pytest.fixture
def two_processes(database):
    env = live_env()
    assert env.get("SOCKETIO_MESSAGE_QUEUE", "").startswith("redis://")
    first, second = LiveServer(database, threads=60, env=env), LiveServer(database, threads=60, env=env)
    app = make_app(database)
    yield first, second, World(app)
    first.stop()
    second.stop()
    with app.app_context():
        db.engine.dispose()


def test_a_save_through_one_process_reaches_viewers_on_the_other(two_processes):
    first, second, world = two_processes
    declaration = world.document("declaration")
    on_second = Listener(second.base, token=world.token("observer"))
    on_first = Listener(first.base, token=world.token("commenter"))
    try:
        assert on_second.join(declaration["id"])["ok"] and on_first.join(declaration["id"])["ok"]
        # Presence is shared: the viewer on the second process sees the one on the first.
        on_second.wait_for("presence", document_id=declaration["id"])
        deadline = time.time() + WAIT
        while time.time() < deadline:
            latest = [d for n, d in on_second.events if n == "presence"][-1]
            if {u["name"] for u in latest["users"]} == {"Lukas Brenner", "Lieve Vandamme"}:
                break
            time.sleep(0.05)
        assert {u["name"] for u in latest["users"]} == {"Lukas Brenner", "Lieve Vandamme"}

        clause_id = declaration["clause_ids"][0]
        saved = requests.patch(first.url(f"/api/v1/clauses/{clause_id}"), headers=bearer(world.token("editor")),
                               json={"text": "Saved through process one.", "base_version": 1}, timeout=WAIT)
        assert saved.status_code == 200
        event = on_second.wait_for("clause.updated", clause_id=clause_id)
        assert event["version"] == 2 and event["seq"] == declaration["seq"] + 1
        assert on_first.wait_for("clause.updated", clause_id=clause_id)["version"] == 2
    finally:
        on_second.close()
        on_first.close()


def test_removing_a_member_through_one_process_evicts_them_on_the_other(two_processes):
    first, second, world = two_processes
    declaration = world.document("declaration")
    watcher = Listener(second.base, token=world.token("observer"))
    try:
        assert watcher.join(declaration["id"])["ok"]
        with world.app.app_context():
            observer_id = db.session.scalar(select(User.id).where(User.email == "observer@drafting.example"))
        removed = requests.delete(first.url(f"/api/v1/documents/{declaration['id']}/members/{observer_id}"),
                                  headers=bearer(world.token("admin")), timeout=WAIT)
        assert removed.status_code == 204
        time.sleep(0.5)  # the leave-room travels through Redis to the second process
        clause_id = declaration["clause_ids"][0]
        saved = requests.patch(first.url(f"/api/v1/clauses/{clause_id}"), headers=bearer(world.token("editor")),
                               json={"text": "After the removal.", "base_version": 1}, timeout=WAIT)
        assert saved.status_code == 200
        time.sleep(0.5)
        assert "clause.updated" not in watcher.names()
    finally:
        watcher.close()


def test_concurrent_saves_through_both_processes_lose_nothing(two_processes):
    first, second, world = two_processes
    declaration = world.document("declaration")
    clause_id = declaration["clause_ids"][7]
    tokens = [world.token("editor") for _ in range(24)]
    paragraphs = [f"Paragraph {i} keeps its original wording number {i}." for i in range(24)]
    setup = requests.patch(first.url(f"/api/v1/clauses/{clause_id}"), headers=bearer(tokens[0]),
                           json={"text": "\n\n".join(paragraphs), "base_version": 1}, timeout=WAIT)
    assert setup.status_code == 200
    start = threading.Barrier(24)

    def edit(i: int):
        mine = list(paragraphs)
        marker = f"written-through-process-{i % 2}-by-writer-{i}"
        mine[i] = mine[i].replace("original wording", marker)
        server = first if i % 2 == 0 else second
        start.wait()
        response = requests.patch(server.url(f"/api/v1/clauses/{clause_id}"), headers=bearer(tokens[i]),
                                  json={"text": "\n\n".join(mine), "base_version": 2}, timeout=30)
        return marker, response

    with ThreadPoolExecutor(max_workers=24) as pool:
        results = list(pool.map(edit, range(24)))
    assert all(response.status_code == 200 for _, response in results), \
        [(r.status_code, r.text[:200]) for _, r in results if r.status_code != 200]
    history = requests.get(second.url(f"/api/v1/clauses/{clause_id}/revisions"), headers=bearer(tokens[0]),
                           timeout=WAIT).json()
    final = history[-1]["text"]
    for marker, _ in results:
        assert marker in final, marker
    assert [r["version"] for r in history] == list(range(1, 27))  # 1 seed + 1 setup + 24 merges, none repeated
    seqs = requests.get(first.url(f"/api/v1/documents/{declaration['id']}/changes?since={declaration['seq']}"),
                        headers=bearer(tokens[0]), timeout=WAIT).json()
    assert [c["seq"] for c in seqs] == list(range(declaration["seq"] + 1, declaration["seq"] + 26))


def _presence_names(listener: Listener) -> set[str]:
    latest = [d for n, d in listener.events if n == "presence"][-1]
    return {u["name"] for u in latest["users"]}


def test_viewers_of_a_killed_process_drop_out_of_presence(database):
    """A process that dies without closing its connections (kill -9, a crash) leaves presence
    entries in Redis; once its heartbeat expires, the other processes stop listing them."""
    env = {**live_env(), "PRESENCE_ALIVE_SECONDS": "2"}
    doomed, survivor = LiveServer(database, threads=30, env=env), LiveServer(database, threads=30, env=env)
    app = make_app(database)
    world = World(app)
    # The entries the served processes share (not through an app: Flask-SocketIO is one object
    # per test process, and an app with a message queue would reconfigure it for later tests).
    registry = RedisRegistry(env["SOCKETIO_MESSAGE_QUEUE"], env["SOCKETIO_CHANNEL"])
    declaration = world.document("declaration")
    on_doomed = Listener(doomed.base, token=world.token("commenter"))
    on_survivor = Listener(survivor.base, token=world.token("observer"))
    late = None
    try:
        assert on_doomed.join(declaration["id"])["ok"] and on_survivor.join(declaration["id"])["ok"]
        deadline = time.time() + WAIT
        while time.time() < deadline and _presence_names(on_survivor) != {"Lukas Brenner", "Lieve Vandamme"}:
            time.sleep(0.05)
        assert _presence_names(on_survivor) == {"Lukas Brenner", "Lieve Vandamme"}
        # Kill the worker first (gunicorn's master would start another), then the master: no
        # disconnect handler runs, so the entries stay in Redis.
        subprocess.run(["pkill", "-KILL", "-P", str(doomed.process.pid)], check=True)
        doomed.process.kill()
        doomed.process.wait(timeout=5)
        doomed.process.stdout.close()
        time.sleep(3)  # past its heartbeat
        late = Listener(survivor.base, token=world.token("signatory"))
        assert late.join(declaration["id"])["ok"]
        presence = late.wait_for("presence", document_id=declaration["id"])
        names = {u["name"] for u in presence["users"]}
        assert "Lieve Vandamme" not in names and "Lukas Brenner" in names and len(names) == 2
        assert all(entry[0] != world.user("commenter").id for entry in registry.viewers(declaration["id"]))
        assert not registry.sids_of(world.user("commenter").id)  # its keys were cleaned up too
    finally:
        for listener in (on_survivor, late, on_doomed):
            if listener is not None:
                listener.close()
        if doomed.process.poll() is None:
            doomed.stop()
        survivor.stop()
        with app.app_context():
            db.engine.dispose()
