"""The production server's shape (`gunicorn.conf.py`, `leadflow/wsgi.py`): a keep-alive
connection is closed after its request limit, so clients spread over the workers again after a
recycle; the master freezes what it preloaded before each fork; the WSGI module loads what a
worker's first request would otherwise load, without opening a connection."""

from __future__ import annotations

import gc
import json
import os
import runpy
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _connectable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[Any]:
    """Start gunicorn with gunicorn.conf.py and the given environment; stop it afterwards."""
    servers: list[subprocess.Popen[bytes]] = []

    def start(**env: str) -> int:
        port = _free_port()
        environ = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'serving.sqlite3'}",
                   "REDIS_URL": "", "GUNICORN_WORKERS": "1", **env}  # fmt: skip
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
             "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null", "leadflow.wsgi"],
            cwd=ROOT, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        servers.append(server)
        wait_for(lambda: _connectable(port), what="gunicorn")
        return port

    yield start
    for server in servers:
        server.terminate()
        server.wait(timeout=30)


def _get(sock: socket.socket, buffer: bytearray) -> tuple[int, dict[str, str]]:
    """One GET /healthz on an open connection: the status and the headers (lower-case names)."""
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection before answering"
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    length = int(headers["content-length"])
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection inside a body"
        rest += chunk
    buffer[:] = rest[length:]
    return int(status_line.split()[1]), headers


def _closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closes the connection at once: within 1 s, well inside gunicorn's idle
    keep-alive timeout (`keepalive = 5`), which would close any connection left waiting."""
    sock.settimeout(1)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False


def test_a_keep_alive_connection_is_closed_after_its_request_limit(gunicorn: Any) -> None:
    port = gunicorn(GUNICORN_KEEPALIVE_REQUESTS="3")
    buffer = bytearray()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        answers = [_get(sock, buffer) for _ in range(3)]
        assert [status for status, _ in answers] == [200, 200, 200]
        assert [h["connection"] for _, h in answers] == ["keep-alive", "keep-alive", "close"]
        assert _closed_by_server(sock)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:  # a new one: 3 more
        assert _get(sock, buffer)[1]["connection"] == "keep-alive"


def test_no_request_limit_when_it_is_zero(gunicorn: Any) -> None:
    port = gunicorn(GUNICORN_KEEPALIVE_REQUESTS="0")
    buffer = bytearray()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        answers = [_get(sock, buffer) for _ in range(150)]
        assert {h["connection"] for _, h in answers} == {"keep-alive"}
        assert not _closed_by_server(sock)


def test_the_master_freezes_what_it_loaded_before_each_fork() -> None:
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        config["pre_fork"](None, None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_the_wsgi_module_loads_a_first_requests_imports_without_connecting(
    tmp_path: Path,
) -> None:
    probe = """
import json, sys
import django
from django.conf import settings
django.setup()
before = "leads.apis" in sys.modules
import leadflow.wsgi
from django.core.validators import EmailValidator
from django.db import connections
from django.utils.functional import empty
print(json.dumps({
    "views_before": before,
    "views": "leads.apis" in sys.modules and "web.views" in sys.modules,
    "redis": "redis" in sys.modules,
    "email_regex": EmailValidator.domain_regex._wrapped is not empty,
    "connections": [c.alias for c in connections.all(initialized_only=True)
                    if c.connection is not None],
}))
"""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'wsgi.sqlite3'}",
           "DJANGO_SETTINGS_MODULE": "leadflow.settings"}  # fmt: skip
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == {"views_before": False, "views": True, "redis": True,
                      "email_regex": True, "connections": []}  # fmt: skip
