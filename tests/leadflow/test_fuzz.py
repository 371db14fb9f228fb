"""Fuzzing the REST API against its own OpenAPI schema (schemathesis): every operation, as every
kind of caller, with generated valid and invalid input. No response may be a server error, and
every response must conform to the schema (status code, content type, headers, body); input
the schema forbids must be refused with a 4xx, and authentication must be enforced.

Each generated case is sent as each caller; ids in the path are sent as generated (mostly
unknown: 404 paths) and again pointing at real objects, so the success paths are fuzzed too.

One check of schemathesis is not run: `positive_data_acceptance` (schema-valid input must be
accepted). The schema cannot say that a referenced rep must exist, that an assignment rule needs
a team or a rep, or that a draft's criteria must name real lead fields; such input is refused
with a documented 400 problem+json that names the field, which the conformance checks verify."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from accounts.models import Team
from accounts.services import api_key_create
from tests.factories import advance, make_mql

RUNS: Counter[str] = Counter()  # requests sent, per caller


@pytest.fixture(scope="module", autouse=True)
def _summary() -> Any:
    """The figures of the run, for the record: test-artifacts/fuzz-summary.json."""
    import json
    from pathlib import Path

    yield
    out = Path(__file__).resolve().parents[2] / "test-artifacts"
    out.mkdir(exist_ok=True)
    (out / "fuzz-summary.json").write_text(json.dumps(
        {"operations": len(list(schema.get_all_operations())), "requests": sum(RUNS.values()),
         "per_caller": dict(RUNS)}, indent=2))  # fmt: skip


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, negative_data_rejection,
          missing_required_header, unsupported_method, ignored_auth]  # fmt: skip


def _raw_schema() -> dict[str, Any]:
    """The schema exactly as `GET /api/v1/schema/?format=json` serves it."""
    import json

    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    generated = SchemaGenerator().get_schema(request=None, public=True)
    return dict(json.loads(OpenApiJsonRenderer().render(generated)))


schema = schemathesis.openapi.from_dict(_raw_schema())
schema.app = get_wsgi_application()


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Any:
    """schemathesis calls the WSGI app directly, which would close the test's connection (and
    its transaction) at the end of every request; Django's own test client detaches the same
    handler."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def callers(users: dict[str, Any], published_definition: Any, default_rules: Any) -> Any:
    """Headers per caller, and the ids of real objects to put in paths."""
    from rest_framework.authtoken.models import Token

    _, key = api_key_create(name="fuzz")
    headers = {
        who: {"Authorization": f"Token {Token.objects.get_or_create(user=users[who])[0].key}"}
        for who in ("marketing", "rep_a", "manager_a", "coo", "rep_b")
    }
    headers["intake_key"] = {"Authorization": f"Api-Key {key}"}
    headers["anonymous"] = {}
    team = Team.objects.get(name="Team A")
    lead = advance(make_mql(team=team, owner=users["rep_a"]), ("accept", users["rep_a"], {}))
    ids = {"lead_id": lead.pk, "definition_id": published_definition.pk, "job_id": 1,
           "rule_id": 1, "subscription_id": 1}  # fmt: skip
    return headers, ids


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors_and_every_response_conforms(case: Any, callers: Any) -> None:
    headers, ids = callers
    positive = case.meta is None or case.meta.generation.mode == "positive"
    # Real ids only in valid cases: a negative case is sent exactly as generated.
    real = {k: ids[k] for k in (case.path_parameters or {}) if k in ids} if positive else {}
    for variant in [None, real] if real else [None]:
        if variant:
            case.path_parameters = {**case.path_parameters, **variant}
        for who, auth in headers.items():
            case.call_and_validate(headers={**(case.headers or {}), **auth}, checks=CHECKS)
            RUNS[who] += 1


HOSTILE_BODIES = {
    "deep nesting": '{"a": ' * 1000 + "1" + "}" * 1000,
    "deep array": "[" * 5000 + "]" * 5000,
    "lone surrogates": '{"email": "\\ud800@example.jp", "name": "\\udfff", "reason": "\\ud800",'
                       ' "type": "x", "id": "\\ud83d", "attributes": {"\\ud800": "\\udc00"}}',
    "NFKC growth": '{"email": "n@example.jp", "name": "' + "ﷺ" * 200 + '", "company": "'
                   + "ﷺ" * 200 + '", "note": "' + "ﷺ" * 2000 + '", "need": "' + "ﷺ" * 2000
                   + '", "first_name": "' + "ﷺ" * 100 + '"}',
    "extreme dates": '{"email": "d@example.jp", "occurred_at": "0001-01-01T00:00:00",'
                     ' "timeline": "0001-01-01", "from": "9999-12-31", "to": "0001-01-01",'
                     ' "events": [{"type": "x", "occurred_at": "9999-12-31T23:59:59-23:59"}]}',
}  # fmt: skip
HOSTILE_QUERIES = [
    {"from": "0001-01-01", "to": "9999-12-31"},
    {"to": "9999-12-31T20:00:00-00:00"},
    {"from": "9999-12-31T23:59:59+14:00"},
    {"cursor": "WyJOYU4iLCAxXQ==", "ordering": "-score"},
    {"page_size": "1e999999"},
]


def test_hostile_input_against_every_operation_is_never_a_server_error(callers: Any) -> None:
    """Every operation of the served schema, as the COO and as an intake key, with deep
    nesting, lone surrogates, NFKC-expanding text, extreme dates, chunked bodies and hostile
    query parameters: no answer is a 5xx."""
    from django.test import Client

    headers, ids = callers
    raw = _raw_schema()
    sent = 0
    failures = []
    for template, item in raw["paths"].items():
        path = template
        for name, value in {"id": ids["lead_id"], **ids}.items():
            path = path.replace("{" + name + "}", str(value))
        path = path.replace("{name}", "qualify_mql")
        for method in [m for m in item if m in ("get", "post", "patch", "put", "delete")]:
            for who in ("coo", "intake_key"):
                client = Client(HTTP_AUTHORIZATION=headers[who]["Authorization"])
                call = getattr(client, method)
                attempts: list[tuple[Any, dict[str, Any]]] = []  # (data, extra arguments)
                if method in ("post", "patch", "put"):
                    json_body = {"content_type": "application/json"}
                    attempts += [(body, json_body) for body in HOSTILE_BODIES.values()]
                    attempts.append(("{}", {**json_body, "HTTP_TRANSFER_ENCODING": "chunked",
                                            "CONTENT_LENGTH": ""}))  # fmt: skip
                else:
                    attempts += [(q, {}) for q in HOSTILE_QUERIES]
                for data, extra in attempts:
                    status = call(path, data, **extra).status_code
                    sent += 1
                    if status >= 500:
                        failures.append((method, path, who, status))
    RUNS["hostile"] += sent
    assert sent > 300 and failures == []
