"""`Idempotency-Key` (SPEC §8): the first response is kept for IDEMPOTENCY_TTL_HOURS and replayed.

The record is inserted in the same transaction as the work it guards. A concurrent twin blocks on
the record's unique index until the first commits (then replays its response) or rolls back (then
does the work itself); it waits at most IDEMPOTENCY_WAIT_SECONDS, then gets 409.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from leadflow.errors import IdempotencyInFlight, IdempotencyMismatch
from leads.models import IdempotencyRecord


def request_fingerprint(data: Any) -> str:
    canonical = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _claim(client: str, key: str, fingerprint: str) -> bool:
    """Insert the record; False if one already exists (after waiting for an in-flight twin)."""
    table = IdempotencyRecord._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT set_config('lock_timeout', %s, true)",
                [f"{int(settings.IDEMPOTENCY_WAIT_SECONDS * 1000)}ms"],
            )
        cursor.execute(
            f"INSERT INTO {table} (client, key, request_hash, response_body, created_at) "  # noqa: S608
            "VALUES (%s, %s, %s, '', %s) "
            "ON CONFLICT (client, key) DO NOTHING RETURNING id",
            [client, key, fingerprint, timezone.now()],
        )
        inserted = cursor.fetchone() is not None
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config('lock_timeout', '0', true)")
    return inserted


def idempotent_call(
    *, client: str, key: str, data: Any, run: Callable[[], tuple[int, dict[str, Any]]]
) -> tuple[int, dict[str, Any], bool]:
    """Run `run` once per (client, key); returns (status, body, replayed)."""
    fingerprint = request_fingerprint(data)
    with transaction.atomic():
        IdempotencyRecord.objects.filter(
            client=client,
            key=key,
            created_at__lt=timezone.now() - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS),
        ).delete()
        try:
            inserted = _claim(client, key, fingerprint)
        except OperationalError as exc:
            raise IdempotencyInFlight("Retry after the first request has finished.") from exc
        if not inserted:
            record = IdempotencyRecord.objects.get(client=client, key=key)
            if record.request_hash != fingerprint:
                raise IdempotencyMismatch("Use a new Idempotency-Key for a different request.")
            if record.response_status is None:
                raise IdempotencyInFlight("Retry after the first request has finished.")
            return record.response_status, json.loads(record.response_body or "{}"), True
        status, body = run()
        IdempotencyRecord.objects.filter(client=client, key=key).update(
            response_status=status, response_body=json.dumps(body, ensure_ascii=False)
        )
    return status, body, False


def idempotency_purge() -> int:
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
