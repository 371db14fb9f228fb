"""Reads through gunicorn: a lead list page of 50 (the first and a deep one) and the funnel."""

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


def measure(token: str, runs: int = 40) -> dict[str, Any]:
    headers = {"Authorization": f"Token {token}"}
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
    }
