"""A local Echo-compatible server: the two endpoints, each sent message printed.

    python -m echo_notify.echo_server --port 8080 [--token SECRET]

For demos, act runs and tests. Not for production: it keeps messages in memory.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO
from urllib.parse import unquote


@dataclass
class Store:
    token: str = ""
    out: TextIO = sys.stdout
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    sent: list[str] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_id(self) -> str:
        return f"msg_{len(self.messages) + 1}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EchoServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 -- stdlib's name
        pass  # the store records every request; stderr stays quiet

    def do_GET(self) -> None:
        if self.path == "/api/v1/messages":
            with self.server.store.lock:
                listing = [
                    {**m, "sent": i in self.server.store.sent}
                    for i, m in self.server.store.messages.items()
                ]
            self.reply(200, listing)
        else:
            self.reply(404, {"error": "not found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        record = {
            "method": "POST",
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": raw.decode("utf-8", "replace"),
        }
        with self.server.store.lock:
            self.server.store.requests.append(record)
        if not self.before(record):
            return
        store = self.server.store
        if store.token and self.headers.get("Authorization") != f"Bearer {store.token}":
            self.reply(401, {"error": "unauthorized"})
        elif self.path == "/api/v1/messages":
            self.create(raw)
        elif self.path.startswith("/api/v1/messages/") and self.path.endswith("/send"):
            self.send(unquote(self.path.split("/")[4]))  # one path segment
        else:
            self.reply(404, {"error": "not found"})

    def before(self, record: dict[str, Any]) -> bool:
        """A hook for scripted faults in tests; True lets the request through."""
        return True

    def create(self, raw: bytes) -> None:
        try:
            body = json.loads(raw)
            title, content, recipients = body["title"], body["content"], body["recipients"]
            assert isinstance(recipients, list) and recipients
        except (ValueError, KeyError, TypeError, AssertionError):
            self.reply(422, {"error": "expected {title, content, recipients: [..]}"})
            return
        store = self.server.store
        key = self.headers.get("Idempotency-Key", "")
        with store.lock:
            message_id = store.keys.get(key) if key else None
            if message_id is None:
                message_id = store.new_id()
                store.messages[message_id] = {
                    "id": message_id,
                    "title": title,
                    "content": content,
                    "recipients": recipients,
                }
                if key:
                    store.keys[key] = message_id
        self.reply(201, {"id": message_id, "status": "draft"})

    def send(self, message_id: str) -> None:
        store = self.server.store
        with store.lock:
            message = store.messages.get(message_id)
            if message is not None:
                store.sent.append(message_id)
        if message is None:
            self.reply(404, {"error": f"no message {message_id}"})
            return
        print(
            f"📨 Echo sent {message_id} to {', '.join(message['recipients'])}\n"
            f"   title: {message['title']}\n\n{message['content']}\n",
            file=store.out,
            flush=True,
        )
        self.reply(200, {"id": message_id, "status": "sent"})

    def reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class EchoServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, port: int = 0, store: Store | None = None, handler: type[Handler] = Handler
    ) -> None:
        super().__init__(("127.0.0.1", port), handler)
        self.store = store or Store()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--token", default="", help="require this Bearer token")
    args = parser.parse_args(argv)
    server = EchoServer(args.port, Store(token=args.token))
    print(f"Echo stand-in listening on {server.url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
