"""Schema, docs, probes, admin and the management commands."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from accounts.models import ApiKey, TeamMembership
from leadflow.choices import Role


def test_schema_is_valid_and_documents_problems(db: Any) -> None:
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = yaml.safe_load(out.getvalue())
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in (
        "/api/v1/intake/",
        "/api/v1/events/",
        "/api/v1/leads/",
        "/api/v1/leads/{lead_id}/transitions/{name}/",
    ):
        assert path in paths
    transition = paths["/api/v1/leads/{lead_id}/transitions/{name}/"]["post"]["responses"]
    for code in ("200", "400", "403", "404", "409"):
        assert code in transition
    assert "application/problem+json" in transition["409"]["content"]
    assert "criteria" in schema["components"]["schemas"]["Problem"]["properties"]
    assert "ApiKeyAuth" in schema["components"]["securitySchemes"]


def test_schema_and_docs_are_served(db: Any) -> None:
    client = APIClient()
    assert client.get("/api/v1/schema/").status_code == 200
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
    assert b"cdn." not in docs.content, "Swagger UI assets must be served locally"


def test_the_root_sends_a_visitor_to_the_login_page_which_links_the_api_docs(db: Any) -> None:
    from django.test import Client

    client = Client()
    root = client.get("/")
    assert root.status_code == 302 and root["Location"] == "/login/"
    page = client.get("/login/")
    assert page.status_code == 200 and b'href="/api/v1/docs/"' in page.content


def test_healthz_and_readyz(db: Any, settings: Any) -> None:
    client = APIClient()
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["checks"]["database"] is True


def test_readyz_is_503_when_the_broker_is_down(db: Any, settings: Any) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    r = APIClient().get("/readyz")
    assert r.status_code == 503
    assert r["Content-Type"] == "application/problem+json"
    assert r.json()["checks"] == {"database": True, "broker": False}


def test_role_groups_exist_after_migrate(db: Any) -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)


def test_add_user_command(db: Any) -> None:
    call_command(
        "add_user",
        "sato",
        "--role",
        "sales_manager",
        "--team",
        "Enterprise",
        "--password",
        "pw-x-1",
        stdout=StringIO(),
    )
    user = get_user_model().objects.get(username="sato")
    assert user.check_password("pw-x-1")
    assert list(user.groups.values_list("name", flat=True)) == ["sales_manager"]
    m = TeamMembership.objects.get(user=user)
    assert (m.team.name, m.role) == ("Enterprise", "manager")
    with pytest.raises(CommandError):
        call_command("add_user", "kato", "--role", "marketing", "--team", "X", stdout=StringIO())


def test_create_api_key_prints_once_and_stores_a_hash(db: Any) -> None:
    out = StringIO()
    call_command("create_api_key", "website", "--scope", "intake", stdout=out)
    key = out.getvalue().strip()
    stored = ApiKey.objects.get()
    assert (
        stored.scope == "intake" and key not in stored.hashed_key and key.startswith(stored.prefix)
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert (
        client.post("/api/v1/intake/", {"email": "k@example.jp"}, format="json").status_code == 201
    )


def test_every_model_has_an_admin_page(admin_client: Any) -> None:
    from django.apps import apps
    from django.contrib import admin

    from tests.factories import make_lead

    make_lead()
    apps_ = {"leadflow", "accounts", "leads", "scoring", "handoff"}
    ours = [m for m in apps.get_models() if m._meta.app_label in apps_]
    assert len(ours) >= 15
    for model in ours:
        assert model in admin.site._registry, f"{model.__name__} has no admin"
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert admin_client.get(url).status_code == 200, url


def test_admin_lead_state_is_read_only(admin_client: Any) -> None:
    from tests.factories import make_lead

    lead = make_lead()
    page = admin_client.get(f"/admin/leads/lead/{lead.pk}/change/")
    assert page.status_code == 200
    assert b'name="state"' not in page.content


def test_production_settings_pass_check_deploy(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {
        **os.environ,
        "LEADFLOW_ENV": "production",
        "SECRET_KEY": "k" * 20 + "x9!Qz#vT4@pL8&mN2$wR6^yB0*cF5%hJ",
        "ALLOWED_HOSTS": "leadflow.example",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # the browser tests' switch, not a deployment's
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=root, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_the_lock_files_pin_every_dependency_of_their_group() -> None:
    """`make` installs from requirements/*.lock (hashes required): each lock holds every package
    its pyproject group names, at a version the group allows (`make lock` re-resolves)."""
    import re
    import tomllib
    from pathlib import Path

    from packaging.requirements import Requirement

    root = Path(__file__).resolve().parents[2]
    groups = tomllib.loads((root / "pyproject.toml").read_text())["dependency-groups"]

    def names(group: str) -> list[Requirement]:
        out = []
        for item in groups[group]:
            if isinstance(item, dict):
                out += names(item["include-group"])
            else:
                out.append(Requirement(item))
        return out

    for group in ("dev", "runtime"):
        text = (root / "requirements" / f"{group}.lock").read_text()
        pinned = {m[0].lower().replace("_", "-"): m[1]
                  for m in re.findall(r"^([A-Za-z0-9_.\-]+)==([^ \\]+)", text, re.M)}  # fmt: skip
        assert "--hash=sha256:" in text
        for req in names(group):
            version = pinned.get(req.name.lower().replace("_", "-"))
            assert version is not None, f"{req.name} is missing from {group}.lock"
            assert req.specifier.contains(version, prereleases=True), (req, version)


def test_the_tests_mirror_the_apps() -> None:
    """A test lives under `tests/<app>/`, beside the tests of the app whose code it exercises
    (`leadflow` is the base: the platform, the API's contract, the faults)."""
    from pathlib import Path

    from django.apps import apps

    root = Path(__file__).resolve().parents[2]
    ours = {a.label for a in apps.get_app_configs() if Path(a.path).parent == root}
    folders = {p.name for p in (root / "tests").iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == ours, folders ^ ours
    assert not list((root / "tests").glob("test_*.py")), "every test file is in an app's folder"
