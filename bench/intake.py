"""Intake through gunicorn under wrk (8 connections), against the bare-view floor."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

LUA = """
local counter = 0
local threads = 0
setup = function(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
request = function()
  counter = counter + 1
  local body = string.format(
    '{"email": "%s-%d-%d@example.jp", "company": "Bench KK", "last_name": "山田", '
    .. '"phone": "03-1234-5678", "source": "web_form"}', RUN, tid, counter)
  return wrk.format("POST", PATH, HEADERS, body)
end
"""


def _script(path: str, headers: dict[str, str]) -> str:
    lua_headers = "{" + ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items()) + "}"
    prefix = f'RUN = "wrk{uuid.uuid4().hex[:8]}"\nPATH = "{path}"\nHEADERS = {lua_headers}\n'
    return prefix + LUA


def _parse(out: str) -> dict[str, Any]:
    def ms(value: str, unit: str) -> float:
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    lat = {
        p: ms(v, u) for p, v, u in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)$", out, re.M)
    }
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"per_second": rps, "requests": total, "p50_ms": lat.get("50"), "p99_ms": lat.get("99"),
            "non_2xx": int(bad.group(1)) if bad else 0, "socket_errors": errors.group(1) if errors else ""}  # fmt: skip


def wrk(path: str, headers: dict[str, str], seconds: int, connections: int = 8) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(_script(path, headers))
    try:
        done = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", f.name,
             "http://127.0.0.1:8765"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    finally:
        Path(f.name).unlink()
    return _parse(done.stdout)


def _combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Two rounds: the mean rate, the worse percentiles, every failure counted."""
    return {"per_second": sum(r["per_second"] for r in runs) / len(runs),
            "requests": sum(r["requests"] for r in runs),
            "p50_ms": max(r["p50_ms"] for r in runs), "p99_ms": max(r["p99_ms"] for r in runs),
            "non_2xx": sum(r["non_2xx"] for r in runs), "rounds": runs}  # fmt: skip


def measure(key: str, seconds: int) -> dict[str, Any]:
    """Warm up, then two rounds of the intake and the floor, each for `seconds`: the two are
    measured side by side, so a slow phase of the machine weighs on both."""
    from django.db import connection

    from bench.floor import TABLE
    from bench.server import PROXY

    with connection.cursor() as cursor:
        cursor.execute(TABLE)
        cursor.execute("CHECKPOINT")  # no write-back of earlier loads during the measurement:
    os.sync()  # neither PostgreSQL's nor the kernel's (gigabytes after the full size's loads)
    headers = {**PROXY, "Content-Type": "application/json", "Authorization": f"Api-Key {key}"}
    wrk("/api/v1/intake/", headers, 3)
    wrk("/bench/floor/", headers, 3)
    intake, floor = [], []
    for _ in range(2):
        intake.append(wrk("/api/v1/intake/", headers, seconds))
        floor.append(wrk("/bench/floor/", headers, seconds))
    return {"intake": _combine(intake), "floor": _combine(floor)}
