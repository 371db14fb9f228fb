"""Train the predictive score and score every lead in a fresh process (as the nightly job runs
in a worker); print the times, the model's figures and the peak RSS as JSON."""

import json
import os
import resource
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadflow.settings")

import django

django.setup()

from analytics import prediction  # noqa: E402


def main() -> None:
    started = time.perf_counter()
    model = prediction.train()
    trained = time.perf_counter()
    scored = prediction.score_all()
    done = time.perf_counter()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    json.dump({
        "train_s": trained - started, "score_all_s": done - trained, "scored": scored,
        "peak_rss_mb": rss_mb, "status": str(model.status), "auc": model.auc,
        "leads": model.leads, "wins": model.wins, "train_leads": model.train_leads,
        "holdout_leads": model.holdout_leads,
    }, sys.stdout)  # fmt: skip


if __name__ == "__main__":
    main()
