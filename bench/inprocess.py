"""What one intake costs in Python: intake and the floor view called through Django's WSGI handler
in one process (no HTTP server, no load generator), with the production settings, on a database
of its own (`INPROCESS_DATABASE_URL`, default `leadflow_inprocess` on the local PostgreSQL,
migrated on first use).

    .venv/bin/python -m bench.inprocess                  # ms per request (wall and CPU)
    .venv/bin/python -m bench.inprocess --profile        # cProfile of 2,000 intakes
    # instructions per request: run under callgrind with 200 and with 0 requests, subtract
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python -m bench.inprocess --count 200 --only /api/v1/intake/

Figures in `bench/README.md` ("Intake, request by request").
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import statistics
import sys
import time
import uuid
from typing import Any

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/leadflow_inprocess"
PATHS = ["/api/v1/intake/", "/bench/floor/"]


def setup() -> tuple[Any, str]:
    import psycopg

    from bench.__main__ import _env
    from bench.server import production_env

    url = os.environ.get("INPROCESS_DATABASE_URL", DEFAULT_URL)
    os.environ.update(production_env(_env(url), "inprocess-unconsumed"))
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.management import call_command
    from django.db import connection

    from accounts.services import api_key_create
    from bench.floor import TABLE

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(TABLE)
    _, key = api_key_create(name="inprocess")
    return WSGIHandler(), key


def caller(app: Any, key: str) -> Any:
    run = uuid.uuid4().hex[:8]
    counter = itertools.count()

    def call(path: str) -> None:
        fields = {
            "email": f"{run}-{next(counter)}@example.jp", "company": "Bench KK",
            "last_name": "山田", "phone": "03-1234-5678", "source": "web_form",
        }  # fmt: skip
        body = json.dumps(fields, ensure_ascii=False).encode()
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8765", "HTTP_HOST": "127.0.0.1",
            "wsgi.url_scheme": "https", "HTTP_X_FORWARDED_PROTO": "https",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
            "HTTP_AUTHORIZATION": f"Api-Key {key}", "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
            "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
        }  # fmt: skip
        status: list[str] = []
        response = app(environ, lambda s, h: status.append(s))
        content = b"".join(response)
        response.close()
        if not status[0].startswith("201"):
            raise RuntimeError(f"{path}: {status[0]} {content[:300]!r}")

    return call


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess")
    parser.add_argument("--count", type=int, default=1000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", choices=PATHS, help="one path, one round, no report")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    app, key = setup()
    call = caller(app, key)
    for path in PATHS:
        for _ in range(100):  # warm-up: first-request caches, connections
            call(path)
    if args.only:
        for _ in range(args.count):
            call(args.only)
        return
    if args.profile:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.runcall(lambda: [call(PATHS[0]) for _ in range(2000)])
        pstats.Stats(profile).sort_stats("cumulative").print_stats(50)
        return
    wall: dict[str, list[float]] = {p: [] for p in PATHS}
    cpu: dict[str, list[float]] = {p: [] for p in PATHS}
    for _ in range(args.rounds):  # interleaved, so a slow phase of the machine weighs on both
        for path in PATHS:
            w, c = time.perf_counter(), time.process_time()
            for _ in range(args.count):
                call(path)
            wall[path].append((time.perf_counter() - w) / args.count * 1000)
            cpu[path].append((time.process_time() - c) / args.count * 1000)
    for path in PATHS:
        print(
            f"{path:18} wall median {statistics.median(wall[path]):.2f} ms, "
            f"CPU median {statistics.median(cpu[path]):.2f} ms (this process)"
        )


if __name__ == "__main__":
    main()
