"""A real SMTP server for the notification tests (aiosmtpd on 127.0.0.1 and a free port)."""

from __future__ import annotations

import asyncio
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.served import free_port


class Inbox:
    """An aiosmtpd handler keeping every envelope it accepts.

    `refuse` ("451 ..." or "554 ...") answers DATA with that reply instead; `delay` (seconds)
    makes each DATA take that long, as a real server's does.
    """

    def __init__(self):
        self.envelopes: list = []
        self.refuse: str | None = None
        self.delay = 0.0
        self.refused = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.refuse:
            with self.lock:
                self.refused += 1
            return self.refuse
        with self.lock:
            self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [message_from_bytes(e.original_content, policy=policy.default) for e in self.envelopes]

    def recipients(self) -> list[str]:
        with self.lock:
            return [address for e in self.envelopes for address in e.rcpt_tos]

    def wait_for(self, count: int, timeout: float) -> bool:
        """Wait until at least `count` messages arrived; tell whether they did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.envelopes) >= count:
                    return True
            time.sleep(0.05)
        with self.lock:
            return len(self.envelopes) >= count


class SmtpServer:
    """Start with `SmtpServer()`, read `.inbox`, `.stop()` at the end."""

    def __init__(self):
        self.inbox = Inbox()
        self.host, self.port = "127.0.0.1", free_port()
        self.controller = Controller(self.inbox, hostname=self.host, port=self.port)
        self.controller.start()

    def settings(self) -> dict:
        """App settings that send through this server."""
        return {"MAIL_SERVER": self.host, "MAIL_PORT": self.port}

    def env(self) -> dict:
        """The same settings as environment variables, for a served app or a worker process."""
        return {"MAIL_SERVER": self.host, "MAIL_PORT": str(self.port)}

    def stop(self) -> None:
        self.controller.stop()
