from __future__ import annotations

import copy
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.services import api_key_create, user_add
from leads.services.definitions import definition_create, definition_publish

DEFINITION: dict[str, Any] = {
    "stages": {
        "lead": {"owner": "marketing"},
        "mql": {
            "owner": "sales",
            "sla_hours": 24,
            "criteria": [
                {
                    "code": "engaged",
                    "kind": "score_at_least",
                    "params": {"score": "engagement", "value": 20},
                },
                {
                    "code": "icp",
                    "kind": "field_in",
                    "params": {"field": "industry", "values": ["software", "manufacturing"]},
                },
                {
                    "code": "contactable",
                    "kind": "fields_present",
                    "params": {"fields": ["company", "phone", "title"]},
                },
                {
                    "code": "need",
                    "kind": "activity_within",
                    "params": {"types": ["quote_request", "demo_request"], "days": 30},
                },
            ],
        },
        "sal": {"owner": "sales", "sla_hours": 72},
        "sql": {
            "owner": "sales",
            "criteria": [
                {
                    "code": "decision_maker",
                    "kind": "field_true",
                    "params": {"field": "decision_maker"},
                },
                {"code": "budget", "kind": "fields_present", "params": {"fields": ["budget"]}},
                {
                    "code": "timeline",
                    "kind": "date_within",
                    "params": {"field": "timeline", "days": 180},
                },
            ],
        },
        "recycled": {"owner": "marketing", "cooloff_days": 30},
        "lost": {"owner": "sales", "cooloff_days": 90},
    }
}

requires_postgres = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="needs PostgreSQL (set DATABASE_URL)",
)


def definition_document() -> dict[str, Any]:
    return copy.deepcopy(DEFINITION)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def published_definition(db: Any, users: dict[str, Any]) -> Any:
    d = definition_create(name="FY2027 H1", document=definition_document(), actor=users["coo"])
    return definition_publish(definition_id=d.pk)


@pytest.fixture
def users(db: Any) -> dict[str, Any]:
    """One user per role; reps and a manager in team A, a rep and a manager in team B."""
    return {
        "marketing": user_add(username="mika", role="marketing", password="pw-marketing-1"),
        "coo": user_add(username="chief", role="coo", password="pw-coo-1"),
        "rep_a": user_add(username="aoki", role="sales", team="Team A", password="pw-rep-a-1"),
        "rep_a2": user_add(username="abe", role="sales", team="Team A", password="pw-rep-a2-1"),
        "manager_a": user_add(
            username="ando", role="sales_manager", team="Team A", password="pw-mgr-a-1"
        ),
        "rep_b": user_add(username="baba", role="sales", team="Team B", password="pw-rep-b-1"),
        "manager_b": user_add(
            username="bando", role="sales_manager", team="Team B", password="pw-mgr-b-1"
        ),
    }


@pytest.fixture
def client_for(users: dict[str, Any]) -> Any:
    def make(who: str | Any) -> APIClient:
        client = APIClient()
        client.force_authenticate(users[who] if isinstance(who, str) else who)
        return client

    return make


@pytest.fixture
def intake_key(db: Any) -> str:
    _, key = api_key_create(name="website")
    return key


@pytest.fixture
def key_client(intake_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {intake_key}")
    return client


__all__ = ["definition_document", "requires_postgres"]
