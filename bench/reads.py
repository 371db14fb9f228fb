"""Reads through gunicorn: a lead list page of 50 (the first and a deep one), the reports, and
the COO's dashboard and advisor pages."""

from __future__ import annotations

import http.client
import json
import statistics
from typing import Any
from urllib.parse import urlsplit

from bench.server import PORT, PROXY, timed_gets


def _stats(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    return {"p50_ms": statistics.median(ms), "p95_ms": statistics.quantiles(ms, n=20)[18],
            "runs": len(ms)}  # fmt: skip


def _next_page(path: str, headers: dict[str, str], pages: int) -> str:
    """The path of the page `pages` pages deep (a cursor), for the deep-page figure."""
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
    for _ in range(pages):
        conn.request("GET", path, headers={**PROXY, **headers})
        body = json.loads(conn.getresponse().read())
        if not body.get("next"):
            break
        parts = urlsplit(body["next"])
        path = f"{parts.path}?{parts.query}"
    return path


def session_for(user: Any) -> str:
    """A signed-in session of `user`, for the web pages (the login form is not what is measured)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return str(store.session_key)


def measure(token: str, runs: int = 40, session: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Token {token}"}
    pages = {}
    if session:  # the COO's dashboard page: every report of the default 90 days
        cookie = {"Cookie": f"sessionid={session}", "Accept": "text/html"}
        try:
            pages["dashboard"] = _stats(
                timed_gets("/dashboard/", cookie, max(20, runs // 2), warmup=1)
            )
        except (AssertionError, OSError) as exc:  # slower than gunicorn's worker timeout
            pages["dashboard"] = {"p50_ms": None, "p95_ms": None, "runs": 0, "error": str(exc)}
        try:  # the advisor page, as the nightly pass stored it
            pages["advisor_page"] = _stats(timed_gets("/advisor/", cookie, runs, warmup=1))
        except (AssertionError, OSError) as exc:
            pages["advisor_page"] = {"p50_ms": None, "p95_ms": None, "runs": 0, "error": str(exc)}
    first = "/api/v1/leads/?page_size=50"
    deep = _next_page(first, headers, 20)
    return {
        "lead_list": _stats(timed_gets(first, headers, runs)),
        "lead_list_deep": _stats(timed_gets(deep, headers, runs)),
        "lead_list_mqls": _stats(
            timed_gets("/api/v1/leads/?page_size=50&state=mql", headers, runs)
        ),
        "funnel": _stats(timed_gets("/api/v1/reports/funnel/", headers, runs)),
        "funnel_by_source": _stats(
            timed_gets("/api/v1/reports/funnel/?group_by=source", headers, max(10, runs // 2))
        ),
        "funnel_by_lane": _stats(
            timed_gets("/api/v1/reports/funnel/?group_by=lane", headers, runs)
        ),
        "revenue": _stats(timed_gets("/api/v1/reports/revenue/", headers, max(10, runs // 2))),
        "advisor": _stats(timed_gets("/api/v1/reports/advisor/", headers, runs)),
        **pages,
    }
