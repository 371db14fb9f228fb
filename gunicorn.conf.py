"""gunicorn settings for the production shape (docker-compose `web`); env overrides each."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# Two threads per worker: one request's database wait is covered by the other's Python, while
# more threads only queue on the GIL (make bench: same throughput, a p99 three times longer).
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Workers are recycled now and then (a guard against slow leaks). The application is loaded once
# in the master and each worker is forked from it: a recycle costs a fork, not the second of
# Django start-up that a worker loading the app itself spends (under load that second is taken
# from the other worker's CPU). Nothing connects at import: connections open in each worker.
preload_app = True
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
