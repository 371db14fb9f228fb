"""The editor's what-if on the demo data, as `make run` serves it (SPEC §14: within a second).

Run in a child process against its own SQLite file: `seed_demo` builds the demo company, then the
COO's editor posts the published definition with ten different engagement thresholds, one after
the other, as a person typing does; each request is timed from the client's side."""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

THRESHOLDS = [20, 25, 30, 15, 10, 35, 40, 22, 18, 21]


def measure() -> dict[str, Any]:
    import django
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    from leads.models import Definition
    from web.views.definitions import form_from_document

    client = Client()
    client.force_login(get_user_model().objects.get(username="coo"))
    published = Definition.objects.get(status="published")
    form = form_from_document(published.document, "what-if")
    seconds = []
    for value in THRESHOLDS:
        form["stages.mql.criteria.0.params.value"] = str(value)
        started = time.perf_counter()
        answer = client.post(f"/definitions/{published.pk}/what-if/", form, HTTP_HOST="127.0.0.1")
        seconds.append(time.perf_counter() - started)
        assert answer.status_code == 200 and b'data-what-if="ready"' in answer.content
    return {"runs": len(seconds), "p50_s": statistics.median(seconds), "max_s": max(seconds)}


def in_child(root: Path) -> dict[str, Any]:
    import subprocess

    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ, "DJANGO_SETTINGS_MODULE": "leadflow.settings",
            "DATABASE_URL": f"sqlite:///{folder}/demo.sqlite3", "REDIS_URL": "",
            "CELERY_TASK_ALWAYS_EAGER": "true", "DEBUG": "false", "LOG_LEVEL": "WARNING",
        }  # fmt: skip
        done = subprocess.run([sys.executable, "-m", "bench.whatif"], cwd=root, env=env,
                              capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    print(json.dumps(measure()))
