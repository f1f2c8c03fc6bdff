"""The shipped local Echo stand-in: the two endpoints, token check, printing."""

from __future__ import annotations

import io

import requests

from echo_notify.echo_server import EchoServer, Store
from tests.helpers import running


def test_create_send_and_print() -> None:
    out = io.StringIO()
    with running(EchoServer(0, Store(token="t", out=out))) as server:
        auth = {"Authorization": "Bearer t"}
        body = {"title": "T", "content": "line 1\nline 2", "recipients": ["#a", "U1"]}
        assert (
            requests.post(server.url + "/api/v1/messages", json=body, timeout=5).status_code == 401
        )
        created = requests.post(server.url + "/api/v1/messages", json=body, headers=auth, timeout=5)
        assert created.status_code == 201 and created.json() == {"id": "msg_1", "status": "draft"}
        sent = requests.post(server.url + "/api/v1/messages/msg_1/send", headers=auth, timeout=5)
        assert sent.json() == {"id": "msg_1", "status": "sent"}
        listing = requests.get(server.url + "/api/v1/messages", timeout=5).json()
        assert listing == [{**body, "id": "msg_1", "sent": True}]
        missing = requests.post(server.url + "/api/v1/messages/msg_9/send", headers=auth, timeout=5)
        assert missing.status_code == 404
    assert out.getvalue() == "📨 Echo sent msg_1 to #a, U1\n   title: T\n\nline 1\nline 2\n\n"


def test_idempotency_key_and_bad_payloads() -> None:
    with running(EchoServer(0, Store(out=io.StringIO()))) as server:
        url = server.url + "/api/v1/messages"
        body = {"title": "T", "content": "C", "recipients": ["#a"]}
        key = {"Idempotency-Key": "k1"}
        first = requests.post(url, json=body, headers=key, timeout=5).json()["id"]
        again = requests.post(url, json=body, headers=key, timeout=5).json()["id"]
        other = requests.post(url, json=body, timeout=5).json()["id"]
        assert first == again != other
        for bad in ({"title": "T"}, {"title": "T", "content": "C", "recipients": []}):
            assert requests.post(url, json=bad, timeout=5).status_code == 422
        assert requests.post(url, data=b"not json", timeout=5).status_code == 422
        assert requests.post(server.url + "/other", timeout=5).status_code == 404
