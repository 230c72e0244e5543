"""Who is connected, to which documents, editing which clause: in this process, or in Redis.

One server process keeps the registry in memory. Several processes (behind a proxy, with a
Socket.IO message queue) share it in Redis, so presence lists everyone and evicting a user
reaches their connections on every process: Socket.IO's queue carries the disconnect or
leave-room to the process that holds the connection.
"""

from __future__ import annotations

import json
import threading
import uuid

import redis


class LocalRegistry:
    """The registry of one process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._users: dict[str, int] = {}
        self._documents: dict[str, dict[int, int | None]] = {}  # sid -> {document: editing clause}

    def add(self, sid: str, user_id: int) -> None:
        with self._lock:
            self._users[sid] = user_id
            self._documents[sid] = {}

    def remove(self, sid: str) -> list[int]:
        """Forget a connection; return the documents it had joined."""
        with self._lock:
            self._users.pop(sid, None)
            return list(self._documents.pop(sid, {}))

    def user_of(self, sid: str) -> int | None:
        return self._users.get(sid)

    def join(self, sid: str, document_id: int) -> None:
        with self._lock:
            if sid in self._documents:
                self._documents[sid].setdefault(document_id, None)

    def leave(self, sid: str, document_id: int) -> bool:
        with self._lock:
            joined = self._documents.get(sid, {})
            return joined.pop(document_id, 0) != 0

    def joined(self, sid: str, document_id: int) -> bool:
        return document_id in self._documents.get(sid, {})

    def set_editing(self, sid: str, document_id: int, clause_id: int | None) -> None:
        with self._lock:
            if document_id in self._documents.get(sid, {}):
                self._documents[sid][document_id] = clause_id

    def sids_of(self, user_id: int) -> list[str]:
        with self._lock:
            return [sid for sid, uid in self._users.items() if uid == user_id]

    def close(self) -> None:
        """Nothing to stop in one process."""

    def viewers(self, document_id: int) -> list[tuple[int, int | None]]:
        """Return (user id, editing clause id) for every connection on the document."""
        with self._lock:
            return [(self._users[sid], docs[document_id]) for sid, docs in self._documents.items()
                    if document_id in docs and sid in self._users]


class RedisRegistry:
    """The registry shared by every process, in Redis hashes and sets under a prefix.

    Each entry names the process holding the connection, and each process keeps a heartbeat
    key alive (refreshed every third of ALIVE_SECONDS while it holds connections). When a
    process dies without saying goodbye (killed, crashed, its machine gone), its heartbeat
    expires: readers then skip its entries and delete them, so presence does not list people
    whose connections died with it.
    """

    ALIVE_SECONDS = 30

    def __init__(self, url: str, prefix: str = "drafting", alive_seconds: int | None = None):
        self.redis = redis.Redis.from_url(url, decode_responses=True)
        self.prefix = prefix
        self.process = uuid.uuid4().hex
        self.alive_seconds = alive_seconds or self.ALIVE_SECONDS
        self._beating = threading.Event()
        self._stop = threading.Event()

    def _key(self, *parts: object) -> str:
        return ":".join([self.prefix, *map(str, parts)])

    # -- this process's heartbeat --------------------------------------------------------------

    def _beat_once(self) -> None:
        self.redis.set(self._key("alive", self.process), 1, ex=self.alive_seconds)

    def _start_beating(self) -> None:
        """Keep this process marked alive from its first connection on (a daemon thread)."""
        if self._beating.is_set():
            return
        self._beating.set()
        self._beat_once()

        def beat():
            while not self._stop.wait(self.alive_seconds / 3):
                try:
                    self._beat_once()
                except Exception:  # noqa: BLE001 - Redis away for a moment: try again next time
                    continue

        threading.Thread(target=beat, name="presence-heartbeat", daemon=True).start()

    def close(self) -> None:
        """Stop the heartbeat (the process is shutting down; its entries are removed as its
        connections close, or expire with the heartbeat)."""
        self._stop.set()

    def _alive(self, processes: set[str]) -> set[str]:
        others = sorted(processes - {self.process})
        found = self.redis.mget([self._key("alive", p) for p in others]) if others else []
        return {self.process} | {p for p, value in zip(others, found, strict=True) if value is not None}

    # -- connections ---------------------------------------------------------------------------

    def add(self, sid: str, user_id: int) -> None:
        self._start_beating()
        pipe = self.redis.pipeline()
        pipe.set(self._key("sid", sid), json.dumps([user_id, self.process]))
        pipe.sadd(self._key("user", user_id), sid)
        pipe.execute()

    def remove(self, sid: str) -> list[int]:
        user_id = self.user_of(sid)
        documents = [int(d) for d in self.redis.smembers(self._key("sid-docs", sid))]
        pipe = self.redis.pipeline()
        for document_id in documents:
            pipe.hdel(self._key("doc", document_id), sid)
        pipe.delete(self._key("sid-docs", sid), self._key("sid", sid))
        if user_id is not None:
            pipe.srem(self._key("user", user_id), sid)
        pipe.execute()
        return documents

    def user_of(self, sid: str) -> int | None:
        value = self.redis.get(self._key("sid", sid))
        if value is None:
            return None
        entry = json.loads(value)
        return int(entry[0] if isinstance(entry, list) else entry)  # (a bare id: written before 23 Nov 2026)

    def join(self, sid: str, document_id: int) -> None:
        user_id = self.user_of(sid)
        if user_id is None:
            return
        pipe = self.redis.pipeline()
        pipe.hset(self._key("doc", document_id), sid, json.dumps([user_id, None, self.process]))
        pipe.sadd(self._key("sid-docs", sid), document_id)
        pipe.execute()

    def leave(self, sid: str, document_id: int) -> bool:
        pipe = self.redis.pipeline()
        pipe.hdel(self._key("doc", document_id), sid)
        pipe.srem(self._key("sid-docs", sid), document_id)
        removed, _ = pipe.execute()
        return bool(removed)

    def joined(self, sid: str, document_id: int) -> bool:
        return bool(self.redis.hexists(self._key("doc", document_id), sid))

    def set_editing(self, sid: str, document_id: int, clause_id: int | None) -> None:
        user_id = self.user_of(sid)
        if user_id is not None and self.joined(sid, document_id):
            self.redis.hset(self._key("doc", document_id), sid, json.dumps([user_id, clause_id, self.process]))

    def sids_of(self, user_id: int) -> list[str]:
        return list(self.redis.smembers(self._key("user", user_id)))

    def viewers(self, document_id: int) -> list[tuple[int, int | None]]:
        entries = {sid: json.loads(value) for sid, value in self.redis.hgetall(self._key("doc", document_id)).items()}
        for entry in entries.values():
            if len(entry) < 3:
                entry.append("")  # written before entries named their process: taken as gone
        alive = self._alive({entry[2] for entry in entries.values()})
        for sid, entry in entries.items():
            if entry[2] not in alive:
                self.remove(sid)  # its process died without closing it
        return [(entry[0], entry[1]) for entry in entries.values() if entry[2] in alive]


def make_registry(message_queue: str | None, prefix: str,
                  alive_seconds: int | None = None) -> LocalRegistry | RedisRegistry:
    """Share the registry through Redis when the Socket.IO message queue is Redis."""
    if message_queue and message_queue.startswith(("redis://", "rediss://", "unix://")):
        return RedisRegistry(message_queue, prefix, alive_seconds)
    return LocalRegistry()

