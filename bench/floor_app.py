"""The transport floor: a bare Flask-SocketIO app with no application work.

Served exactly like the real app (gunicorn gthread, threading async mode, simple-websocket):
`gunicorn -w 1 --threads N --no-control-socket bench.floor_app:app`. Clients connect (any
auth is accepted), emit `join` and are put in one room; POST /emit broadcasts the JSON body
as a `clause.updated` event to that room and answers 204. Nothing else happens: no database,
no presence, no authentication.
"""

from __future__ import annotations

from flask import Flask, request
from flask_socketio import SocketIO, join_room

ROOM = "document:1"

app = Flask(__name__)
app.config["SECRET_KEY"] = "bench-floor"
socketio = SocketIO(app, async_mode="threading")


@app.post("/emit")
def emit():
    socketio.emit("clause.updated", request.get_json(force=True), to=ROOM)
    return "", 204


@socketio.on("connect")
def on_connect(auth=None):
    return True


@socketio.on("join")
def on_join(data):
    join_room(ROOM)
    return {"ok": True, "seq": 0}
