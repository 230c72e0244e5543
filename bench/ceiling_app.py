"""The real app (wsgi:app) plus the floor routes of `python -m bench ceiling`.

Nothing in drafting/ changes. Each route does a part of what `PATCH /api/v1/clauses/{id}` does,
so that the benchmark can say what the stack costs before the app's own logic:

  PATCH /ceiling/bare             read the JSON body, answer a JSON object: Flask and gunicorn alone.
  PATCH /ceiling/core/<clause>    the ten statements of a save and its commit, as the app runs them
                                  (SQLAlchemy Core through the session; the app's own prepared
                                  statements where it has them), with no permission, merge or
                                  audit logic: flask-sqlalchemy's floor.
  PATCH /ceiling/raw/<clause>     the same ten statements and commit on the DBAPI cursor (sqlite3)
                                  with SQL written out: the database's floor, SQLAlchemy left out.
  POST  /ceiling/emit/<document>  one `clause.updated` emitted to the document's room (through the
                                  message queue to the live server when one is configured), no
                                  database: the fan-out of one save.

The statements are the ten a save runs today, in its order: the token, the clause, the document's
row held, the compare-and-swap, the revision, the seq bumped, the change event, the audit event,
the audit head and the label's counts.
"""

from __future__ import annotations

import hashlib
import json

from flask import abort, jsonify, request
from sqlalchemy import bindparam, select

from drafting.api.auth import _BY_HASH
from drafting.audit import _INSERT as _AUDIT
from drafting.clauses.operations import _ADD_REVISION, _COMPARE_AND_SWAP
from drafting.documents.operations import _LABEL_COUNTS
from drafting.extensions import csrf, db, socketio
from drafting.live import _BUMP, _HOLD, _RECORD_CHANGE, _SET_HEAD, room
from drafting.models import ApiToken, Clause
from drafting.models.base import utcnow
from wsgi import app

_CLAUSE = Clause.__table__
_READ_CLAUSE = select(_CLAUSE).where(_CLAUSE.c.id == bindparam("clause_id"))

_RAW = {
    "token": "SELECT user.id, user.organisation_id, api_token.id, api_token.last_used_at FROM user "
             "JOIN api_token ON api_token.user_id = user.id WHERE api_token.token_hash = ? "
             "AND user.deactivated_at IS NULL AND api_token.revoked_at IS NULL "
             "AND (api_token.expires_at IS NULL OR api_token.expires_at > ?)",
    "clause": "SELECT id, document_id, position, heading, text, kind, action, version, deleted_at "
              "FROM clause WHERE id = ?",
    "hold": "UPDATE document SET seq=document.seq WHERE document.id = ? RETURNING seq, phase, audit_head",
    "swap": "UPDATE clause SET heading=?, text=?, kind=?, action=?, version=?, updated_at=?, updated_by_id=? "
            "WHERE clause.id = ? AND clause.version = ? AND clause.deleted_at IS NULL",
    "revision": "INSERT INTO clause_revision (clause_id, version, heading, text, kind, action, author_id, "
                "organisation_id, origin, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "bump": "UPDATE document SET seq=document.seq + 1, updated_at=? WHERE document.id = ? "
            "RETURNING seq, phase, audit_head",
    "change": "INSERT INTO change_event (document_id, seq, event, payload, created_at) VALUES (?, ?, ?, ?, ?)",
    "audit": "INSERT INTO audit_event (document_id, actor_id, organisation_id, action, object_type, object_id, "
             "clause_id, details, created_at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "head": "UPDATE document SET audit_head=? WHERE document.id = ?",
    "label": "SELECT count(*) FROM clause WHERE document_id = ? AND deleted_at IS NULL AND position <= "
             "(SELECT position FROM clause WHERE id = ?)",
}


def _request() -> tuple[str, dict]:
    secret = request.headers.get("Authorization", "").partition(" ")[2].strip()
    return secret, request.get_json()


def _digest(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


@app.patch("/ceiling/bare")
def ceiling_bare():
    _request()
    return jsonify({"ok": True})


@app.patch("/ceiling/core/<int:clause_id>")
def ceiling_core(clause_id: int):
    secret, data = _request()
    session, now = db.session, utcnow()
    found = session.execute(_BY_HASH, {"token_hash": ApiToken.hash(secret), "now": now}).first()
    if found is None:
        abort(401)
    user = found[0]
    clause = session.execute(_READ_CLAUSE, {"clause_id": clause_id}).one()
    seq, _phase, head = session.execute(_HOLD, {"document_id": clause.document_id}).one()
    version = clause.version + 1
    session.execute(_COMPARE_AND_SWAP, {
        "clause_id": clause_id, "base": clause.version, "new_version": version, "new_text": data["text"],
        "new_heading": clause.heading, "new_kind": clause.kind, "new_action": None, "now": now, "author_id": user.id})
    session.execute(_ADD_REVISION, {
        "clause_id": clause_id, "version": version, "heading": clause.heading, "text": data["text"],
        "kind": clause.kind, "action": None, "author_id": user.id, "organisation_id": user.organisation_id,
        "origin": "edit", "created_at": now})
    seq = session.execute(_BUMP, {"document_id": clause.document_id, "now": now}).one()[0]
    payload = {"document_id": clause.document_id, "seq": seq, "actor": user.id, "clause_id": clause_id,
               "version": version, "merged": False}
    session.execute(_RECORD_CHANGE, {"document_id": clause.document_id, "seq": seq, "event": "clause.updated",
                                     "payload": payload, "created_at": now})
    digest = _digest(head, clause_id, version, now)
    session.execute(_AUDIT, {
        "document_id": clause.document_id, "actor_id": user.id, "organisation_id": user.organisation_id,
        "action": "clause.updated", "object_type": "clause", "object_id": clause_id, "clause_id": clause_id,
        "details": {"version": version, "origin": "edit", "merged": False}, "created_at": now,
        "prev_hash": head, "hash": digest})
    session.execute(_SET_HEAD, {"document_id": clause.document_id, "head": digest})
    label = session.execute(_LABEL_COUNTS, {"clause_id": clause_id, "document_id": clause.document_id}).one()
    session.commit()
    return jsonify({"clause": {"id": clause_id, "version": version, "articles": int(label.articles)}})


@app.patch("/ceiling/raw/<int:clause_id>")
def ceiling_raw(clause_id: int):
    secret, data = _request()
    connection = db.session.connection().connection.driver_connection
    if not hasattr(connection, "create_function"):
        abort(501, "the raw floor is written for SQLite")
    cursor, now = connection.cursor(), utcnow()
    stamp = now.isoformat(sep=" ")
    found = cursor.execute(_RAW["token"], (ApiToken.hash(secret), stamp)).fetchone()
    if found is None:
        abort(401)
    user_id, organisation_id = found[0], found[1]
    _id, document_id, _position, heading, _text, kind, _action, base, _deleted = cursor.execute(
        _RAW["clause"], (clause_id,)).fetchone()
    queue = app.extensions["drafting.write_queue"]
    if queue is not None:  # the app's writers queue in the process (drafting/database.py): so do these
        queue.before_write(connection)
    _seq, _phase, head = cursor.execute(_RAW["hold"], (document_id,)).fetchone()
    version = base + 1
    cursor.execute(_RAW["swap"], (heading, data["text"], kind, None, version, stamp, user_id, clause_id, base))
    cursor.execute(_RAW["revision"], (clause_id, version, heading, data["text"], kind, None, user_id,
                                      organisation_id, "edit", stamp))
    seq = cursor.execute(_RAW["bump"], (stamp, document_id)).fetchone()[0]
    payload = {"document_id": document_id, "seq": seq, "actor": user_id, "clause_id": clause_id,
               "version": version, "merged": False}
    cursor.execute(_RAW["change"], (document_id, seq, "clause.updated", json.dumps(payload), stamp))
    digest = _digest(head, clause_id, version, stamp)
    cursor.execute(_RAW["audit"], (document_id, user_id, organisation_id, "clause.updated", "clause", clause_id,
                                   clause_id, json.dumps({"version": version, "origin": "edit", "merged": False}),
                                   stamp, head, digest))
    cursor.execute(_RAW["head"], (digest, document_id))
    articles = cursor.execute(_RAW["label"], (document_id, clause_id)).fetchone()[0]
    db.session.commit()
    return jsonify({"clause": {"id": clause_id, "version": version, "articles": articles}})


@app.post("/ceiling/emit/<int:document_id>")
def ceiling_emit(document_id: int):
    data = request.get_json()
    socketio.emit("clause.updated", {"document_id": document_id, "seq": data["n"], "actor": 0,
                                     "clause_id": 0, "version": data["n"], "merged": False}, to=room(document_id))
    return jsonify({"ok": True})


# Token-authenticated (or anonymous) like the JSON API, which is exempt from the form's CSRF token too.
for _view in (ceiling_bare, ceiling_core, ceiling_raw, ceiling_emit):
    csrf.exempt(_view)
