"""gunicorn with the production settings (2 workers), for the HTTP benchmarks."""

from __future__ import annotations

import http.client
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = 8765
# Behind the TLS proxy of production: gunicorn trusts this header from 127.0.0.1.
PROXY = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
# The served app's key; the bench signs the session it measures pages with by the same one.
SECRET_KEY = "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105
STATIC_ROOT = Path(tempfile.gettempdir()) / "leadflow-bench-static"


def production_env(env: dict[str, str], queue: str) -> dict[str, str]:
    return {
        **env,
        "LEADFLOW_ENV": "production",
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "false",
        # Production serves collected static files (a manifest); the pages need them.
        "STATIC_ROOT": str(STATIC_ROOT),
        "GUNICORN_WORKERS": "2",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        # Counted in Redis as in production, high enough not to refuse the load.
        "RATE_LIMIT_INTAKE": "1000000/s",
        "RATE_LIMIT_EVENTS": "1000000/s",
    }


@contextmanager
def serve(env: dict[str, str], queue: str) -> Iterator[str]:
    """Yield the base URL of a gunicorn serving the app with production settings."""
    if not (STATIC_ROOT / "staticfiles.json").exists():
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
                       cwd=ROOT, env=production_env(env, queue), check=True)  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{PORT}",
         "--access-logfile", "/dev/null", "leadflow.wsgi"],
        cwd=ROOT, env=production_env(env, queue), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(150):
            try:
                c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
                c.request("GET", "/healthz", headers=PROXY)
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start")
        yield f"http://127.0.0.1:{PORT}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def timed_gets(path: str, headers: dict[str, str], runs: int, warmup: int = 3) -> list[float]:
    """Sequential GETs over one keep-alive connection: seconds per request."""
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
    out = []
    for i in range(warmup + runs):
        started = time.perf_counter()
        conn.request("GET", path, headers={**PROXY, **headers})
        r = conn.getresponse()
        r.read()
        assert r.status == 200, (path, r.status)
        if i >= warmup:
            out.append(time.perf_counter() - started)
    return out
