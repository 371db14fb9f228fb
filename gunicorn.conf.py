"""gunicorn settings for the production shape (docker-compose `web`); env overrides each."""

import gc
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
# A keep-alive connection stays with the worker that accepted it. When a worker is recycled its
# clients reconnect to the other one, and without a limit they would stay there: one process
# (one core of Python) serving every busy client until the next recycle moves them all again.
# Like nginx's `keepalive_requests` and Apache's `MaxKeepAliveRequests`, a connection is closed
# (`Connection: close`) after this many requests, so clients spread over the workers again.
# 0: no limit.
KEEPALIVE_REQUESTS = int(os.environ.get("GUNICORN_KEEPALIVE_REQUESTS", "100"))
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def pre_fork(server, worker):
    """Move what the master has loaded out of the collector's sight before each fork (as the
    `gc.freeze` documentation advises for pre-fork servers): a worker's collections never walk
    the preloaded application, and a recycled worker exits in ~0.07 s instead of ~0.3 s of CPU
    taken from the one still serving."""
    gc.freeze()


def pre_request(worker, req):
    """The connection's last request under KEEPALIVE_REQUESTS: its answer closes it."""
    if KEEPALIVE_REQUESTS and req.req_number >= KEEPALIVE_REQUESTS:
        req.must_close = True
