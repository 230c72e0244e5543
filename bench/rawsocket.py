"""A lean Socket.IO client for load drivers: Engine.IO v4 over one aiohttp WebSocket, nothing else.

python-socketio's AsyncClient is the reference client, but a driver holding hundreds of them on
one loop saturates at about 16,000-18,000 received events a second (a task, a queue and several
layers of packet objects per message), which hid the server's own limit in the authors
benchmark. This client speaks the same protocol with the least work per message: one read loop
per connection, `42[...]` events decoded with one `json.loads` and handed to the handler inline
(as a browser runs its handlers), pings answered, acks matched by id. It offers the subset of
AsyncClient's interface the benchmarks use: `on`, `connect`, `call`, `emit`, `disconnect`.

Not a general client: no polling, no reconnection, no binary packets, no namespaces but "/".
"""

from __future__ import annotations

import asyncio
import inspect
import json
from urllib.parse import urlsplit, urlunsplit

import aiohttp

# Engine.IO packet types (first character) and Socket.IO packet types (second, in a message "4")
_OPEN, _CLOSE, _PING, _PONG, _MESSAGE = "0", "1", "2", "3", "4"
_CONNECT, _DISCONNECT, _EVENT, _ACK, _CONNECT_ERROR = "0", "1", "2", "3", "4"


class ConnectionError(Exception):  # noqa: A001 - the name python-socketio's clients raise
    """The server refused the connection or closed it before it was up."""


def _socket_url(base: str) -> str:
    parts = urlsplit(base)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, "/socket.io/", "EIO=4&transport=websocket", ""))


class RawClient:
    """One Socket.IO connection on the running loop, with inline handlers."""

    def __init__(self, reconnection: bool = False, session: aiohttp.ClientSession | None = None):
        del reconnection  # never reconnects: a dropped client is a finding of the benchmark
        self.handlers: dict[str, object] = {}
        self.session = session
        self.own_session = session is None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.reader: asyncio.Task | None = None
        self.acks: dict[int, asyncio.Future] = {}
        self.next_id = 0
        self.connected = False
        self.closing = False

    def on(self, event: str, handler) -> None:
        self.handlers[event] = handler

    async def connect(self, base: str, transports=None, auth: dict | None = None, wait_timeout: float = 30,
                      headers: dict | None = None) -> None:
        del transports  # WebSocket only
        if self.session is None:
            self.session = aiohttp.ClientSession()
        self.ws = await self.session.ws_connect(_socket_url(base), headers=headers or {}, autoping=False,
                                                max_msg_size=0, compress=0, timeout=aiohttp.ClientWSTimeout(
                                                    ws_receive=None, ws_close=5.0))
        opened = await asyncio.wait_for(self.ws.receive_str(), wait_timeout)
        if not opened.startswith(_OPEN):
            raise ConnectionError(f"expected an Engine.IO open packet, got {opened[:80]!r}")
        await self.ws.send_str(_MESSAGE + _CONNECT + (json.dumps(auth) if auth else ""))
        while True:
            answer = await asyncio.wait_for(self.ws.receive(), wait_timeout)
            if answer.type != aiohttp.WSMsgType.TEXT:
                raise ConnectionError(f"connection closed before Socket.IO connected ({answer.type!r})")
            data = answer.data
            if data == _PING:
                await self.ws.send_str(_PONG)
                continue
            if data.startswith(_MESSAGE + _CONNECT):
                break
            if data.startswith(_MESSAGE + _CONNECT_ERROR):
                raise ConnectionError(f"connection refused: {data[2:200]}")
            raise ConnectionError(f"unexpected packet before connecting: {data[:80]!r}")
        self.connected = True
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        ws, handlers, loads = self.ws, self.handlers, json.loads
        reason = "transport closed"
        try:
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                data = message.data
                if not data:
                    continue
                kind = data[0]
                if kind == _MESSAGE:
                    sort = data[1]
                    if sort == _EVENT:
                        body = data.find("[", 2)
                        name, *args = loads(data[body:])
                        handler = handlers.get(name)
                        if handler is not None:
                            result = handler(*args)
                            if inspect.isawaitable(result):
                                await result
                    elif sort == _ACK:
                        body = data.find("[", 2)
                        future = self.acks.pop(int(data[2:body]), None)
                        if future is not None and not future.done():
                            values = loads(data[body:])
                            future.set_result(values[0] if len(values) == 1 else tuple(values))
                    elif sort == _DISCONNECT:
                        reason = "server disconnect"
                        break
                elif kind == _PING:
                    await ws.send_str(_PONG)
                elif kind == _CLOSE:
                    reason = "server disconnect"
                    break
        except (aiohttp.ClientError, ConnectionResetError) as exc:
            reason = repr(exc)
        except Exception as exc:  # noqa: BLE001 - a driver fault is reported as one, not blamed on the server
            reason = f"driver error: {exc!r}"
        finally:
            was = self.connected
            self.connected = False
            for future in self.acks.values():
                if not future.done():
                    future.set_exception(ConnectionError(reason))
            self.acks.clear()
            if was and not self.closing:
                handler = self.handlers.get("disconnect")
                if handler is not None:
                    result = handler(reason)
                    if inspect.isawaitable(result):
                        await result

    async def emit(self, event: str, data=None) -> None:
        await self.ws.send_str(_MESSAGE + _EVENT + json.dumps([event] if data is None else [event, data]))

    async def call(self, event: str, data=None, timeout: float = 60):
        ident = self.next_id
        self.next_id += 1
        future = asyncio.get_running_loop().create_future()
        self.acks[ident] = future
        await self.ws.send_str(_MESSAGE + _EVENT + str(ident) + json.dumps([event] if data is None else [event, data]))
        return await asyncio.wait_for(future, timeout)

    async def disconnect(self) -> None:
        self.closing = True
        if self.ws is not None and not self.ws.closed:
            try:
                await self.ws.send_str(_MESSAGE + _DISCONNECT)
            except (aiohttp.ClientError, ConnectionResetError):
                pass
            await self.ws.close()
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)
        if self.own_session and self.session is not None:
            await self.session.close()
