"""Public web forms (SPEC §6): what a form may contain, the snippet to paste, and a submission
through the same intake as the REST API."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.db import transaction
from django.utils.html import escape
from django.utils.translation import gettext as _

from integrations.models import WebForm, WebFormSubmission
from leadflow.errors import FieldError, Forbidden, NotFound, ValidationFailed
from leadflow.problems import validation_failed
from leads import access
from leads.choices import Source
from leads.serializers import LEAD_FIELDS, IntakeSerializer
from leads.services.changes import plain_values as _plain
from leads.services.intake import lead_intake

if TYPE_CHECKING:
    from leadflow.types import Actor

logger = logging.getLogger(__name__)

# What a form may ask for: the contact and company fields (attribution comes from the form
# itself and from utm_* fields, which a page may carry as hidden inputs).
_NAMES = ["last_name", "first_name", "last_name_kana", "first_name_kana"]  # family name first
FORM_FIELDS = ["email", *_NAMES] + [
    f
    for f in LEAD_FIELDS
    if f not in {"email", "source", "campaign", "attributes", *_NAMES} and not f.startswith("utm_")
]
UTM_FIELDS = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"]
# Hidden from people, tempting to bots: a post that fills it is dropped (and still redirected).
HONEYPOT = "contact_fax"
MAX_ORIGINS = 20


def normalize_origin(raw: str) -> str:
    """`https://Example.co.jp/` → `https://example.co.jp`; a path or query is refused."""
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(raw)
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(raw)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


@dataclass(frozen=True)
class WebFormInput:
    name: str
    fields: list[str]
    required: list[str]
    allowed_origins: list[str]
    thank_you_url: str
    source: str = Source.WEB_FORM
    campaign: str = ""
    is_active: bool = True


def _validated(data: WebFormInput) -> dict[str, Any]:
    errors: list[FieldError] = []
    if not data.name.strip():
        errors.append(FieldError("name", _("A name is required."), "required"))
    unknown = [f for f in data.fields if f not in FORM_FIELDS]
    if unknown:
        errors.append(FieldError("fields", _("Unknown fields: %s.") % ", ".join(unknown)))
    fields = ["email", *[f for f in dict.fromkeys(data.fields) if f != "email"]]
    if not set(data.required) <= set(fields):
        errors.append(FieldError("required", _("Only fields on the form can be required.")))
    origins: list[str] = []
    for raw in data.allowed_origins:
        try:
            origins.append(normalize_origin(raw))
        except ValueError:
            errors.append(
                FieldError(
                    "allowed_origins", _("Not an origin like https://www.example.com: %s") % raw
                )
            )
    if not origins and not errors:
        errors.append(FieldError("allowed_origins", _("At least one origin."), "required"))
    if len(origins) > MAX_ORIGINS:
        errors.append(FieldError("allowed_origins", _("At most %d origins.") % MAX_ORIGINS))
    if urlsplit(data.thank_you_url).scheme not in ("http", "https"):
        errors.append(FieldError("thank_you_url", _("An http(s) address."), "invalid"))
    if data.source not in Source.values:
        errors.append(FieldError("source", _("Unknown source."), "invalid_choice"))
    if errors:
        raise ValidationFailed(errors)
    return {
        "name": data.name.strip(), "fields": fields,
        "required": sorted({"email", *data.required}, key=fields.index),
        "allowed_origins": list(dict.fromkeys(origins)), "thank_you_url": data.thank_you_url,
        "source": data.source, "campaign": data.campaign.strip(), "is_active": data.is_active,
    }  # fmt: skip


def webform_create(*, data: WebFormInput, actor: Actor) -> WebForm:
    return WebForm.objects.create(**_validated(data), created_by=actor)


def webform_update(*, form_id: int, data: WebFormInput) -> WebForm:
    with transaction.atomic():
        form = WebForm.objects.select_for_update().get(pk=form_id)
        for name, value in _validated(data).items():
            setattr(form, name, value)
        form.save()
    return form


@dataclass(frozen=True)
class Submission:
    redirect_to: str
    accepted: bool  # False: a bot filled the honeypot; nothing was written


def webform_submit(*, public_key: str, post: Any, origin: str | None, ip: str | None) -> Submission:
    """A browser's post of form `public_key`: only from an allowed origin; a filled honeypot is
    dropped without a trace; the form's fields (and utm_*) go through intake."""
    form = WebForm.objects.filter(public_key=public_key, is_active=True).first()
    if form is None:
        raise NotFound(_("No such form."))
    try:
        allowed = origin is not None and normalize_origin(origin) in form.allowed_origins
    except ValueError:
        allowed = False
    if not allowed:
        raise Forbidden(_("This form does not accept posts from %s.") % (origin or _("nowhere")))
    if (post.get(HONEYPOT) or "").strip():
        logger.info("web form %s: honeypot filled, post dropped", form.pk)
        return Submission(form.thank_you_url, accepted=False)
    fields = _form_fields(form, post)
    s = IntakeSerializer(data=fields, context={"form_input": True})
    if not s.is_valid():
        raise validation_failed(s.errors)
    with transaction.atomic():
        values = dict(s.validated_data)
        result = lead_intake(fields=values, actor=None, caller=access.VISITOR)
        # What was sent stays with the submission (and on the lead's timeline): a form fills
        # empty fields only, so a visitor never overwrites what the lead already says.
        WebFormSubmission.objects.create(
            form=form, lead=result.lead, created=result.created, origin=origin or "", ip=ip,
            values={k: v for k, v in _plain(values).items() if v not in ("", None)},
        )  # fmt: skip
    return Submission(form.thank_you_url, accepted=True)


def _form_fields(form: WebForm, post: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    missing = []
    for name in form.fields:
        value = (post.get(name) or "").strip()
        if name == "consent":
            fields[name] = value.lower() in ("on", "true", "1", "yes")
        elif value:
            fields[name] = value
        if name in form.required and not value:
            missing.append(FieldError(name, _("This field is required."), "required"))
    if missing:
        raise ValidationFailed(missing)
    fields.update({k: post.get(k).strip() for k in UTM_FIELDS if (post.get(k) or "").strip()})
    fields["source"] = form.source
    if form.campaign:
        fields["campaign"] = form.campaign
    return fields


def webform_snippet(form: WebForm, *, action: str, labels: dict[str, str]) -> str:
    """The HTML to paste on the company site: a plain form, no script."""
    lines = [f'<form method="post" action="{escape(action)}" accept-charset="UTF-8">']
    for name in form.fields:
        label = escape(labels.get(name, name))
        required = " required" if name in form.required else ""
        if name == "consent":
            lines.append(
                f'  <label><input type="checkbox" name="consent"{required}> {label}</label>'
            )
            continue
        kind = {"email": "email", "phone": "tel", "website": "url", "company_size": "number"}
        lines.append(
            f'  <label>{label} <input type="{kind.get(name, "text")}" name="{name}"{required}>'
            "</label>"
        )
    lines.append(
        f'  <div style="position:absolute;left:-10000px" aria-hidden="true">'
        f'<input type="text" name="{HONEYPOT}" tabindex="-1" autocomplete="off"></div>'
    )
    lines.append(f'  <button type="submit">{escape(labels.get("_submit", "Send"))}</button>')
    lines.append("</form>")
    return "\n".join(lines)
