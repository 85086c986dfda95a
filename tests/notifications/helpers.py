"""Test doubles for what lies outside the machine: senders that record or refuse, and a
small SMTP server on a thread (enough of RFC 5321 for smtplib: EHLO, AUTH PLAIN, MAIL,
RCPT, DATA, QUIT)."""

from __future__ import annotations

import base64
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

# A moment in the middle of a minute: delivery's firing is floored to 09:30.
NOW = datetime(2030, 1, 14, 9, 30, 15, tzinfo=UTC)
SECRET = "notification-test-secret"


@dataclass
class Sent:
    channel: str
    to: str
    subject: str
    body: str


class RecordingSender:
    """Takes every message and remembers it; ``delay_s`` makes sends overlap in races."""

    def __init__(self, channel: str, *, delay_s: float = 0.0) -> None:
        self.channel = channel
        self.delay_s = delay_s
        self.sent: list[Sent] = []
        self._lock = threading.Lock()

    def send(self, to: str, subject: str, body: str) -> None:
        if self.delay_s:
            time.sleep(self.delay_s)
        with self._lock:
            self.sent.append(Sent(self.channel, to, subject, body))


class RefusingSender:
    """Refuses every message, as a mail server that is down would."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.tries = 0

    def send(self, to: str, subject: str, body: str) -> None:
        self.tries += 1
        raise ConnectionRefusedError(f"{self.channel} gateway unreachable")


@dataclass
class Mailbox:
    """What the fake SMTP server received."""

    logins: list[tuple[str, str]] = field(default_factory=list)
    envelopes: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # recipients answered with 550


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def _reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self) -> None:
        box = self.server.mailbox
        sender = ""
        recipients: list[str] = []
        self._reply("220 localhost test SMTP")
        while line := self.rfile.readline():
            command = line.decode().rstrip("\r\n")
            verb, _, argument = command.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                self.wfile.write(b"250-localhost\r\n250 AUTH PLAIN\r\n")
            elif verb == "AUTH":
                _, _, response = argument.partition(" ")
                _, user, password = base64.b64decode(response).decode().split("\0")
                box.logins.append((user, password))
                self._reply("235 accepted")
            elif verb == "MAIL":
                sender, recipients = argument.partition(":")[2].split(" ")[0].strip("<>"), []
                self._reply("250 ok")
            elif verb == "RCPT":
                to = argument.partition(":")[2].strip().strip("<>")
                if to in box.refuse:
                    self._reply("550 no such mailbox")
                else:
                    recipients.append(to)
                    self._reply("250 ok")
            elif verb == "DATA":
                self._reply("354 go on")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                box.envelopes.append((sender, recipients, b"".join(data)))
                self._reply("250 queued")
            elif verb in ("RSET", "NOOP", "HELO"):
                self._reply("250 ok")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("502 not implemented")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    mailbox: Mailbox


@contextmanager
def smtp_server() -> Iterator[tuple[int, Mailbox]]:
    """A local SMTP server for the block: its port and what it received."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.mailbox = Mailbox()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], server.mailbox
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
