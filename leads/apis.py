"""REST endpoints of the leads app. Each parses input, calls one service or selector, renders."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasIntakeKey, api_key_of
from leadflow.errors import FieldError, ValidationFailed
from leadflow.permissions import user_of
from leadflow.serializers import StrictCursorPagination
from leadflow.throttles import EventsRateLimit, IntakeRateLimit
from leads import selectors
from leads.access import Can, permission
from leads.choices import LeadState
from leads.definitions import published_schema
from leads.event_input import parse_events
from leads.filters import LeadFilter, LeadOrderingFilter
from leads.serializers import (
    ActivityResultSerializer,
    ActivitySerializer,
    DefinitionPatchSerializer,
    DefinitionSerializer,
    DefinitionWriteSerializer,
    EvaluationSerializer,
    EventBatchResponseSerializer,
    IntakeResponseSerializer,
    IntakeSerializer,
    LeadFieldsSerializer,
    LeadSerializer,
    TimelinePageSerializer,
    TransitionBodySerializer,
)
from leads.services.activities import activity_log
from leads.services.definitions import definition_create, definition_publish, definition_update
from leads.services.events import EventInput, event_ingest
from leads.services.idempotency import idempotent_call
from leads.services.intake import lead_intake
from leads.services.leads import lead_update
from leads.services.transitions import TransitionArgs, lead_transition

# An integration's key, or a user with a role (what they may write of a lead: `leads.access`).
IntakeWriter = HasIntakeKey | permission(Can.READ)


def _client_id(request: Request) -> str:
    key = api_key_of(request)
    return f"key:{key.prefix}" if key is not None else f"user:{request.user.pk}"


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 255 or not key.isprintable():
        raise ValidationFailed(
            [FieldError("Idempotency-Key", "1–255 printable characters.", "invalid")]
        )
    return key


class IntakeApi(APIView):
    permission_classes = [IntakeWriter]
    throttle_classes = [IntakeRateLimit]

    @extend_schema(
        request=IntakeSerializer,
        responses={200: IntakeResponseSerializer, 201: IntakeResponseSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        summary="Create or update a lead (dedupe on normalised e-mail)",
    )
    def post(self, request: Request) -> Response:
        actor = request.user if request.user.is_authenticated else None

        def run() -> tuple[int, dict[str, Any]]:
            s = IntakeSerializer(data=request.data)
            s.is_valid(raise_exception=True)
            fields = dict(s.validated_data)
            events = fields.pop("events", None)
            result = lead_intake(fields=fields, events=events, actor=actor)
            body: dict[str, Any] = {
                "id": result.lead_id,
                "state": result.state,
                "created": result.created,
            }
            if result.events is not None:
                body["events"] = result.events.as_dict()
            return (201 if result.created else 200), body

        key = _idempotency_key(request)
        if key is None:
            code, body = run()
            return Response(body, status=code)
        code, body, replayed = idempotent_call(
            client=_client_id(request), key=key, data=request.data, run=run
        )
        return Response(
            body, status=code, headers={"Idempotent-Replayed": "true"} if replayed else None
        )


# Each item is checked on its own (`leads.event_input`): an item that is not a valid EventItem is
# reported in `rejected` with its index and never blocks the valid ones, so the body's schema
# only asks for an event object or a list of at most 1000 items.
EVENT_SHAPE = (
    "An event: `email` (or `lead`, an id), `type` (lower-case, at most 64), `occurred_at` "
    "(ISO 8601, default now), `properties` (an object), `id` (the client's id, for dedupe)."
)
EVENTS_BODY = {
    "oneOf": [
        {"type": "object", "minProperties": 1, "description": EVENT_SHAPE},
        {
            "type": "array",
            "minItems": 1,
            "maxItems": settings.EVENTS_MAX_BATCH,
            "items": {"description": EVENT_SHAPE + " Invalid items come back in `rejected`."},
        },
    ],
}


class EventBatchApi(APIView):
    permission_classes = [IntakeWriter]
    throttle_classes = [EventsRateLimit]

    @extend_schema(
        request={"application/json": EVENTS_BODY},
        responses={202: EventBatchResponseSerializer},
        summary=f"Post one event or a list of up to {settings.EVENTS_MAX_BATCH}",
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, list | dict) or not request.data:
            raise ValidationFailed(
                [FieldError("body", "An event object or a list of events.", "required")]
            )
        items = request.data if isinstance(request.data, list) else [request.data]
        if len(items) > settings.EVENTS_MAX_BATCH:
            raise ValidationFailed([FieldError(
                "body", f"At most {settings.EVENTS_MAX_BATCH} events per request.", "max_length",
            )])  # fmt: skip
        valid, rejected = parse_events(items, lead_ref=True)
        user = request.user if request.user.is_authenticated else None
        by_email = selectors.lead_ids_by_email({e.email for _, e in valid if e.email}, user=user)
        known_ids = selectors.lead_ids_existing({e.lead for _, e in valid if e.lead}, user=user)
        events: list[EventInput] = []
        for i, e in valid:
            lead_id = (
                by_email.get(e.email) if e.email else (e.lead if e.lead in known_ids else None)
            )
            if lead_id is None:
                field = "email" if e.email else "lead"
                rejected.append(
                    {
                        "index": i,
                        "errors": [
                            {"field": field, "message": "No such lead.", "code": "unknown_lead"}
                        ],
                    }
                )
                continue
            events.append(EventInput.of(e, index=i, lead_id=lead_id))
        result = event_ingest(events=events)
        result.rejected = sorted(rejected, key=lambda r: r["index"])
        return Response(result.as_dict(), status=status.HTTP_202_ACCEPTED)


class LeadPagination(StrictCursorPagination):
    page_size = 50
    ordering = "-created_at"


class LeadListApi(ListAPIView[Any]):
    permission_classes = [permission(Can.READ)]
    serializer_class = LeadSerializer
    pagination_class = LeadPagination
    filter_backends = [DjangoFilterBackend, LeadOrderingFilter]
    filterset_class = LeadFilter
    ordering_fields = [
        "created_at", "updated_at", "score", "win_probability", "state_changed_at", "email",
    ]  # fmt: skip

    def get_queryset(self) -> Any:
        # Each MQL's available transitions read the definition it qualified under (one query
        # for the page's definitions, not one per lead).
        return selectors.lead_list(user=self.request.user).prefetch_related("definition")


class LeadDetailApi(APIView):
    permission_classes = [permission(Can.READ)]

    @extend_schema(responses={200: LeadSerializer})
    def get(self, request: Request, lead_id: int) -> Response:
        lead = selectors.lead_access(user=request.user, lead_id=lead_id)
        return Response(LeadSerializer(lead, context={"request": request}).data)

    @extend_schema(request=LeadFieldsSerializer(partial=True), responses={200: LeadSerializer})
    def patch(self, request: Request, lead_id: int) -> Response:
        selectors.lead_access(user=request.user, lead_id=lead_id)
        s = LeadFieldsSerializer(data=request.data, partial=True)
        s.is_valid(raise_exception=True)
        lead = lead_update(lead_id=lead_id, actor=user_of(request), fields=dict(s.validated_data))
        return Response(LeadSerializer(lead, context={"request": request}).data)


class LeadActivityApi(APIView):
    """Log a call, an e-mail or a meeting on a lead one works (SPEC §13): stored as an event
    `activity.<kind>`, on the timeline, counted by `activity_within` criteria."""

    permission_classes = [permission(Can.READ)]

    @extend_schema(request=ActivitySerializer, responses={201: ActivityResultSerializer})
    def post(self, request: Request, lead_id: int) -> Response:
        s = ActivitySerializer(data=request.data)
        s.is_valid(raise_exception=True)
        done = activity_log(lead_id=lead_id, actor=user_of(request), **s.validated_data)
        body = {"lead": done.lead_id, "type": done.type, "occurred_at": done.occurred_at}
        return Response(ActivityResultSerializer(body).data, status=status.HTTP_201_CREATED)


class LeadTimelineApi(APIView):
    permission_classes = [permission(Can.READ)]

    @extend_schema(
        parameters=[
            OpenApiParameter("before", str, description="ISO time; items strictly older."),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": 500},
                description="1–500, default 100.",
            ),
        ],
        responses={200: TimelinePageSerializer},
    )
    def get(self, request: Request, lead_id: int) -> Response:
        lead = selectors.lead_access(user=request.user, lead_id=lead_id)
        before_raw = request.query_params.get("before")
        try:  # well-formed but impossible values (month 13) raise
            before = parse_datetime(before_raw) if before_raw else None
        except ValueError:
            before = None
        if before_raw and before is None:
            raise ValidationFailed([FieldError("before", "An ISO 8601 date-time.", "invalid")])
        limit_raw = request.query_params.get("limit", "100")
        if not (limit_raw.isascii() and limit_raw.isdigit()) or not 1 <= int(limit_raw) <= 500:
            raise ValidationFailed(
                [FieldError("limit", "A whole number from 1 to 500.", "invalid")]
            )
        limit = int(limit_raw)
        items = selectors.lead_timeline(lead=lead, before=before, limit=limit)
        next_url = None
        if len(items) == limit:
            next_url = request.build_absolute_uri(
                f"{request.path}?limit={limit}&before={items[-1]['at'].isoformat()}"
            ).replace("+", "%2B")
        page = {"next": next_url, "previous": None, "results": items}
        return Response(TimelinePageSerializer(page).data)


class LeadEvaluationApi(APIView):
    permission_classes = [permission(Can.READ)]

    @extend_schema(
        parameters=[OpenApiParameter("stage", str, enum=[LeadState.MQL, LeadState.SQL])],
        responses={200: EvaluationSerializer},
    )
    def get(self, request: Request, lead_id: int) -> Response:
        lead = selectors.lead_access(user=request.user, lead_id=lead_id)
        stage = request.query_params.get("stage", LeadState.MQL)
        if stage not in (LeadState.MQL, LeadState.SQL):
            raise ValidationFailed([FieldError("stage", "One of: mql, sql.", "invalid_choice")])
        definition = selectors.definition_published_or_409()
        criteria = selectors.lead_evaluate(
            lead=lead, stage=stage, definition=definition, now=timezone.now()
        )
        body = {
            "lead": lead.pk,
            "stage": stage,
            "definition": definition.pk,
            "passed": all(c["passed"] for c in criteria),
            "criteria": criteria,
        }
        return Response(EvaluationSerializer(body).data)


class LeadTransitionApi(APIView):
    permission_classes = [permission(Can.READ)]

    @extend_schema(request=TransitionBodySerializer, responses={200: LeadSerializer})
    def post(self, request: Request, lead_id: int, name: str) -> Response:
        s = TransitionBodySerializer(data=request.data)
        s.is_valid(raise_exception=True)
        lead = lead_transition(
            lead_id=lead_id,
            name=name,
            actor=user_of(request),
            args=TransitionArgs(**s.validated_data),
        )
        return Response(LeadSerializer(lead, context={"request": request}).data)


class DefinitionListApi(APIView):
    permission_classes = [permission(Can.DEFINE, read=Can.READ)]

    @extend_schema(responses={200: DefinitionSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(DefinitionSerializer(selectors.definition_list()[:200], many=True).data)

    @extend_schema(request=DefinitionWriteSerializer, responses={201: DefinitionSerializer})
    def post(self, request: Request) -> Response:
        s = DefinitionWriteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = definition_create(
            name=s.validated_data["name"],
            document={"stages": s.validated_data["stages"]},
            actor=user_of(request),
        )
        return Response(DefinitionSerializer(d).data, status=status.HTTP_201_CREATED)


class DefinitionDetailApi(APIView):
    permission_classes = [permission(Can.DEFINE, read=Can.READ)]

    @extend_schema(responses={200: DefinitionSerializer})
    def get(self, request: Request, definition_id: int) -> Response:
        return Response(
            DefinitionSerializer(selectors.definition_get(definition_id=definition_id)).data
        )

    @extend_schema(request=DefinitionPatchSerializer, responses={200: DefinitionSerializer})
    def patch(self, request: Request, definition_id: int) -> Response:
        selectors.definition_get(definition_id=definition_id)
        s = DefinitionPatchSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        stages = s.validated_data.get("stages")
        d = definition_update(
            definition_id=definition_id,
            name=s.validated_data.get("name"),
            document={"stages": stages} if stages is not None else None,
        )
        return Response(DefinitionSerializer(d).data)


class DefinitionPublishApi(APIView):
    permission_classes = [permission(Can.DEFINE)]

    @extend_schema(request=None, responses={200: DefinitionSerializer})
    def post(self, request: Request, definition_id: int) -> Response:
        selectors.definition_get(definition_id=definition_id)
        return Response(DefinitionSerializer(definition_publish(definition_id=definition_id)).data)


class DefinitionSchemaApi(APIView):
    """The JSON Schema (2020-12) of a definition document: what `stages` may hold, each
    criterion kind with its parameters. Every write of a definition is checked against it."""

    permission_classes = [permission(Can.READ)]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        return Response(published_schema())
