import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadflow.settings")
application = get_wsgi_application()


def _warm() -> None:
    """Load now what a process would otherwise load on its first request. gunicorn imports this
    module once in its master (`preload_app`) and forks the workers from it, so a recycled
    worker's first request costs what any other does instead of ~0.12 s: the URL configuration
    with every view it imports, the Redis client library (rate limits, cache; ~65 ms of imports)
    and the e-mail validator's expressions (~20 ms to compile). Nothing here connects."""
    import redis  # noqa: F401 - imported by Django's Redis cache on first use
    from django.core.validators import validate_email
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports the URL modules
    validate_email("warm-up@example.com")  # compiles the validator's expressions once


_warm()
