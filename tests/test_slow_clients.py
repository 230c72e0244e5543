"""Slow clients cannot stall writers: a request holds no write lock while it waits on its client."""

from __future__ import annotations

import io
import json
import re
import socket
import sqlite3
import statistics
import threading
import time
from datetime import timedelta

import pytest
import requests
from flask import jsonify, request
from sqlalchemy import select, update

from drafting import database as storage
from drafting.api.auth import token_required
from drafting.extensions import db
from drafting.models import ApiToken, Document
from drafting.models.base import utcnow
from tests.conftest import BACKEND, EMAILS, PASSWORD, World, live_env, make_app
from tests.served import LiveServer

TRICKLE_SECONDS = 20
BASELINE_SECONDS = 5
SLACK = 0.1  # what a trickling client may add to others' saves: it holds nothing they wait for


@pytest.fixture
def served(database):
    server = LiveServer(database, threads=50, env=live_env())
    app = make_app(database)  # the same database, for making tokens and reading them back
    yield server, World(app)
    server.stop()
    with app.app_context():
        db.engine.dispose()


def idle_token(world: World, role: str) -> str:
    """A token last used ten minutes ago, so its next use records the time (a write)."""
    secret = world.token(role)
    with world.app.app_context():
        db.session.execute(update(ApiToken).where(ApiToken.token_hash == ApiToken.hash(secret))
                           .values(last_used_at=utcnow() - timedelta(minutes=10)))
        db.session.commit()
    return secret


def last_used(world: World, secret: str):
    with world.app.app_context():
        return db.session.scalar(select(ApiToken.last_used_at).where(ApiToken.token_hash == ApiToken.hash(secret)))


class Trickler(threading.Thread):
    """A client that sends its headers at once and its JSON body a few bytes at a time."""

    def __init__(self, server: LiveServer, path: str, token: str, payload: dict, seconds: float):
        super().__init__(daemon=True)
        self.server, self.path, self.token, self.seconds = server, path, token, seconds
        self.body = json.dumps(payload).encode()
        self.status: int | None = None
        self.answer = b""
        self.started = threading.Event()

    def run(self):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=self.seconds + 60) as sock:
            sock.sendall((f"POST {self.path} HTTP/1.1\r\nHost: 127.0.0.1:{self.server.port}\r\n"
                          f"Authorization: Bearer {self.token}\r\nContent-Type: application/json\r\n"
                          f"Content-Length: {len(self.body)}\r\nConnection: close\r\n\r\n").encode())
            pieces = [self.body[i:i + 3] for i in range(0, len(self.body), 3)]
            for n, piece in enumerate(pieces):
                sock.sendall(piece)
                if n == 0:
                    self.started.set()
                time.sleep(self.seconds / len(pieces))
            while chunk := sock.recv(65536):
                self.answer += chunk
        self.status = int(self.answer.split(b" ", 2)[1])


def page_session(server: LiveServer, role: str) -> tuple[requests.Session, str]:
    """A logged-in browser session and the CSRF token its pages send with htmx requests."""
    browser = requests.Session()
    login = browser.get(server.url("/login"), timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    answer = browser.post(server.url("/login"), data={"email": EMAILS[role], "password": PASSWORD,
                                                      "csrf_token": csrf}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    page = browser.get(server.url("/documents"), timeout=10).text
    return browser, re.search(r'"X-CSRFToken":\s*"([^"]+)"', page).group(1)


class Writers:
    """An editor saving a clause over the API and another saving one on the htmx page, side by side."""

    def __init__(self, server: LiveServer, world: World):
        declaration = world.document("declaration")
        self.server = server
        self.api_clause, self.page_clause = declaration["clause_ids"][:2]
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Bearer {world.token('editor')}"
        self.browser, csrf = page_session(server, "editor2")
        self.browser.headers.update({"HX-Request": "true", "X-CSRFToken": csrf})
        self.versions = {self.api_clause: 1, self.page_clause: 1}

    def save_over_api(self, n: int) -> int:
        response = self.api.patch(self.server.url(f"/api/v1/clauses/{self.api_clause}"), timeout=60,
                                  json={"text": f"Saved over the API, save {n}.",
                                        "base_version": self.versions[self.api_clause]})
        if response.status_code == 200:
            self.versions[self.api_clause] = response.json()["clause"]["version"]
        return response.status_code

    def save_on_page(self, n: int) -> int:
        response = self.browser.post(self.server.url(f"/clauses/{self.page_clause}"), timeout=60,
                                     data={"text": f"Saved on the page, save {n}.",
                                           "base_version": str(self.versions[self.page_clause])})
        if response.status_code == 200:
            self.versions[self.page_clause] += 1  # nobody else saves this clause
        return response.status_code

    def run(self, seconds: float) -> dict[str, list[tuple[int, float]]]:
        """Save again and again on both ways at once; return each way's (status, seconds) answers."""
        timings: dict[str, list[tuple[int, float]]] = {"api": [], "page": []}
        deadline = time.monotonic() + seconds

        def keep_saving(way, save):
            n = 0
            while time.monotonic() < deadline:
                n += 1
                began = time.perf_counter()
                status = save(n)
                timings[way].append((status, time.perf_counter() - began))
                time.sleep(0.02)

        both = [threading.Thread(target=keep_saving, args=("api", self.save_over_api)),
                threading.Thread(target=keep_saving, args=("page", self.save_on_page))]
        for thread in both:
            thread.start()
        for thread in both:
            thread.join()
        return timings


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]


def summary(timings: dict[str, list[tuple[int, float]]]) -> str:
    return ", ".join(f"{way}: n={len(t)} median={statistics.median(s for _, s in t) * 1000:.0f} ms "
                     f"p90={p90([s for _, s in t]) * 1000:.0f} ms max={max(s for _, s in t) * 1000:.0f} ms"
                     for way, t in timings.items())


def test_a_client_trickling_its_body_does_not_stall_other_writers(served):
    """Issue 12: a commenter with an idle token trickles a comment; editors keep saving at full speed."""
    server, world = served
    plan = world.document("action_plan")  # in consultation: the commenter may open a thread
    trickling = idle_token(world, "commenter")
    idle_since = last_used(world, trickling)
    writers = Writers(server, world)
    writers.run(1)  # warm up: connections, templates, the editor's first token use

    baseline = writers.run(BASELINE_SECONDS)
    trickler = Trickler(server, f"/api/v1/clauses/{plan['clause_ids'][0]}/threads", trickling,
                        {"body": "<p>A comment typed on a very slow connection, sent a few bytes at a "
                                 "time: it must not hold up anyone else's saves, whatever the "
                                 "network between this client and the server.</p>"}, TRICKLE_SECONDS)
    trickler.start()
    assert trickler.started.wait(10)
    time.sleep(0.5)  # the server has the headers and is waiting for the body
    during = writers.run(TRICKLE_SECONDS - 2)
    trickler.join(TRICKLE_SECONDS + 60)
    report = f"without the trickler: {summary(baseline)}; with it: {summary(during)}"
    print(report)

    assert trickler.status == 201, trickler.answer[-500:]
    for way in ("api", "page"):
        assert [status for status, _ in baseline[way] + during[way]] == \
            [200] * (len(baseline[way]) + len(during[way])), report
        before = [s for _, s in baseline[way]]
        after = [s for _, s in during[way]]
        assert statistics.median(after) <= statistics.median(before) + SLACK, report
        assert p90(after) <= p90(before) + SLACK, report
    # The bookkeeping still happens: the trickled request recorded its token's use.
    assert last_used(world, trickling) > idle_since + timedelta(minutes=9)


# ---- each defence alone ---------------------------------------------------------------------

def test_a_token_s_last_use_is_committed_before_the_view_runs(app, client, world, socket_client):
    secret = idle_token(world, "commenter")
    seen = {}

    @token_required
    def probe():
        with db.engine.connect() as elsewhere:  # another connection sees only what was committed
            seen["recorded"] = elsewhere.scalar(select(ApiToken.last_used_at)
                                                .where(ApiToken.token_hash == ApiToken.hash(secret)))
        queue = app.extensions["drafting.write_queue"]
        seen["writing"] = bool(db.session.new or db.session.dirty or (queue and queue.holders))
        return "", 204

    app.add_url_rule("/api/v1/probe", view_func=probe)
    assert client.get("/api/v1/probe", headers={"Authorization": f"Bearer {secret}"}).status_code == 204
    assert seen["recorded"] > utcnow() - timedelta(minutes=1)
    assert seen["writing"] is False  # the view starts with no write under way

    by_socket = idle_token(world, "observer")  # the Socket.IO connect records it too
    assert socket_client(app.test_client(), auth={"token": by_socket}).is_connected()
    assert last_used(world, by_socket) > utcnow() - timedelta(minutes=1)


def test_the_body_is_read_whole_before_the_view_runs(app, client, world):
    read_before_view = []

    def probe():
        stream = request.environ["wsgi.input"]
        read_before_view.append(stream.tell() == len(stream.getvalue()))
        return jsonify(request.get_json()), 200

    app.add_url_rule("/api/v1/probe", view_func=probe, methods=["POST", "PATCH"])
    body = json.dumps({"body": "x" * 5000}).encode()
    for method in ("post", "patch"):
        response = getattr(client, method)("/api/v1/probe", input_stream=io.BytesIO(body),
                                           content_type="application/json", content_length=len(body))
        assert response.status_code == 200 and response.json == {"body": "x" * 5000}
    assert read_before_view == [True, True]
    # A body larger than the limit is not read at all: the view refuses it (413) at once.
    big = b"{}" + b" " * app.config["MAX_CONTENT_LENGTH"]
    clause_id = world.document("action_plan")["clause_ids"][0]  # in consultation: the commenter may comment
    refused = client.post(f"/api/v1/clauses/{clause_id}/threads", data=big, content_type="application/json",
                          headers={"Authorization": f"Bearer {world.token('commenter')}"})
    assert refused.status_code == 413 and refused.json["error"]["code"] == "too_large"


# ---- a database that stays locked -----------------------------------------------------------

@pytest.fixture
def locked(database, monkeypatch):
    """An app with short lock timeouts, and a way to hold the database (or a document) elsewhere."""
    if BACKEND == "postgres":
        app = make_app(database, SQLALCHEMY_ENGINE_OPTIONS={
            "pool_pre_ping": True, "connect_args": {"options": "-c lock_timeout=200"}})
    else:
        monkeypatch.setattr(storage, "BUSY_TIMEOUT_MS", 200)
        app = make_app(database)
    holders = []

    def hold(document_id: int):
        if BACKEND == "postgres":  # another session holds the document's row
            connection = db.engine.connect()
            connection.execute(select(Document.id).where(Document.id == document_id).with_for_update())
        else:  # another process holds SQLite's write lock
            connection = sqlite3.connect(database, isolation_level=None)
            connection.execute("BEGIN IMMEDIATE")
        holders.append(connection)

    yield app, hold
    for connection in holders:
        connection.rollback()
        connection.close()


def test_a_database_locked_too_long_answers_503_with_retry_after(locked):
    app, hold = locked
    world = World(app)
    declaration = world.document("declaration")
    clause_id = declaration["clause_ids"][0]
    token = world.token("editor")
    client = app.test_client()
    assert client.post("/login", data={"email": EMAILS["editor2"], "password": PASSWORD}).status_code == 302
    with app.app_context():
        hold(declaration["id"])
        api = client.patch(f"/api/v1/clauses/{clause_id}", headers={"Authorization": f"Bearer {token}"},
                           json={"text": "Saved while the database is held.", "base_version": 1})
        fragment = client.post(f"/clauses/{clause_id}", headers={"HX-Request": "true"},
                               data={"text": "Saved on the page while held.", "base_version": "1"})
        page = client.post(f"/clauses/{clause_id}", data={"text": "Saved without htmx.", "base_version": "1"})
    assert api.status_code == 503 and api.headers["Retry-After"] == "5"
    assert api.json["error"]["code"] == "unavailable" and "Try again" in api.json["error"]["message"]
    for response in (fragment, page):
        assert response.status_code == 503 and response.headers["Retry-After"] == "5"
        assert "The database is busy" in response.get_data(as_text=True)
    assert "Busy, try again in a moment" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Document.seq).where(Document.id == declaration["id"])) \
            == declaration["seq"]  # nothing was saved
