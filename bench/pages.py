"""Server time of every UI page on the demo data (`make run`'s database), per role:
`DATABASE_URL=sqlite:///var/leadflow.sqlite3 python -m bench.pages`. The median of 5 requests
after one warm-up, through Django's handler (no network, no browser)."""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadflow.settings")


def main() -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from leads.models import Lead

    user = get_user_model().objects.get
    lead = Lead.objects.filter(state="won").first()
    pages = {
        "coo": [
            "/dashboard/",
            "/definitions/",
            f"/definitions/{_published()}/",
            "/inbox/?tab=team",
        ],
        "marketing": [
            "/leads/",
            "/leads/?q=sato&state=&source=",
            f"/leads/{lead.pk}/" if lead else "/leads/",
            "/scoring/",
            "/web-forms/",
            "/webhooks/",
            "/imports/",
        ],
        "manager_east": ["/inbox/", "/pipeline/", "/dashboard/"],
        "rep_east1": ["/inbox/", "/pipeline/", "/dashboard/", "/leads/"],
    }
    worst = 0.0
    for who, paths in pages.items():
        client = Client(HTTP_ACCEPT="text/html")
        client.force_login(user(username=who))
        for path in paths:
            client.get(path)
            runs = []
            for _ in range(5):
                started = time.perf_counter()
                r = client.get(path)
                runs.append((time.perf_counter() - started) * 1000)
                assert r.status_code == 200, (who, path, r.status_code)
            ms = statistics.median(runs)
            worst = max(worst, ms)
            print(f"{who:14} {path:40} {ms:7.1f} ms")
    print(f"slowest page: {worst:.1f} ms (goal ≤ 300 ms)")


def _published() -> int:
    from leads.selectors import definition_published

    d = definition_published()
    return d.pk if d else 1


if __name__ == "__main__":
    main()
