"""Run one full recompute in a fresh process and print its time and peak RSS as JSON."""

import json
import os
import resource
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadflow.settings")

import django

django.setup()

from scoring.services import score_recompute  # noqa: E402


def main() -> None:
    started = time.perf_counter()
    result = score_recompute()
    seconds = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    json.dump({"seconds": seconds, "peak_rss_mb": rss_mb, "result": result}, sys.stdout)


if __name__ == "__main__":
    main()
