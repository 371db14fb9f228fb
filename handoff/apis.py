from __future__ import annotations

from typing import Any

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from handoff import selectors, services
from handoff.filters import HandoffFilter
from handoff.models import WebhookSubscription
from handoff.serializers import (
    AssignmentRuleSerializer,
    HandoffSerializer,
    WebhookDeliverySerializer,
    WebhookSubscriptionSerializer,
)
from leadflow.permissions import user_of
from leadflow.serializers import StrictCursorPagination, StrictSerializer
from leads.access import Can, permission


class HandoffPagination(StrictCursorPagination):
    page_size = 50
    ordering = ("due_at", "id")


class HandoffListApi(ListAPIView[Any]):
    permission_classes = [permission(Can.READ)]
    serializer_class = HandoffSerializer
    pagination_class = HandoffPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = HandoffFilter

    def get_queryset(self) -> Any:
        return selectors.handoff_list(user=self.request.user)


class HandoffReassignBodySerializer(StrictSerializer):
    assignee = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="A rep's id.")


class HandoffReassignApi(APIView):
    permission_classes = [permission(Can.MANAGE_TEAMS)]

    @extend_schema(request=HandoffReassignBodySerializer, responses={200: HandoffSerializer})
    def post(self, request: Request, handoff_id: int) -> Response:
        s = HandoffReassignBodySerializer(data=request.data)
        s.is_valid(raise_exception=True)
        h = services.handoff_reassign(
            handoff_id=handoff_id, assignee_id=s.validated_data["assignee"], actor=user_of(request)
        )
        return Response(
            HandoffSerializer(selectors.handoff_list(user=request.user).get(pk=h.pk)).data
        )


class _CrudApi(APIView):
    """List/create and detail for a small ops-edited collection; everyone with a role reads."""

    permission_classes = [permission(Can.MANAGE_INTAKE, read=Can.READ)]


class AssignmentRuleListApi(_CrudApi):
    @extend_schema(responses={200: AssignmentRuleSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(AssignmentRuleSerializer(selectors.rule_list(), many=True).data)

    @extend_schema(request=AssignmentRuleSerializer, responses={201: AssignmentRuleSerializer})
    def post(self, request: Request) -> Response:
        s = AssignmentRuleSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        return Response(
            AssignmentRuleSerializer(services.rule_save(**s.validated_data)).data,
            status=status.HTTP_201_CREATED,
        )


class AssignmentRuleDetailApi(_CrudApi):
    @extend_schema(responses={200: AssignmentRuleSerializer})
    def get(self, request: Request, rule_id: int) -> Response:
        return Response(AssignmentRuleSerializer(selectors.rule_get(rule_id=rule_id)).data)

    @extend_schema(
        request=AssignmentRuleSerializer(partial=True), responses={200: AssignmentRuleSerializer}
    )
    def patch(self, request: Request, rule_id: int) -> Response:
        s = AssignmentRuleSerializer(
            selectors.rule_get(rule_id=rule_id), data=request.data, partial=True
        )
        s.is_valid(raise_exception=True)
        return Response(
            AssignmentRuleSerializer(services.rule_save(rule_id=rule_id, **s.validated_data)).data
        )

    @extend_schema(responses={204: None})
    def delete(self, request: Request, rule_id: int) -> Response:
        services.rule_delete(rule=selectors.rule_get(rule_id=rule_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookListApi(APIView):
    permission_classes = [permission(Can.MANAGE_INTAKE)]

    @extend_schema(responses={200: WebhookSubscriptionSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(
            WebhookSubscriptionSerializer(WebhookSubscription.objects.all(), many=True).data
        )

    @extend_schema(
        request=WebhookSubscriptionSerializer, responses={201: WebhookSubscriptionSerializer}
    )
    def post(self, request: Request) -> Response:
        s = WebhookSubscriptionSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        sub = services.subscription_save(actor=user_of(request), **s.validated_data)
        return Response(WebhookSubscriptionSerializer(sub).data, status=status.HTTP_201_CREATED)


class WebhookDetailApi(APIView):
    permission_classes = [permission(Can.MANAGE_INTAKE)]

    @extend_schema(responses={200: WebhookSubscriptionSerializer})
    def get(self, request: Request, subscription_id: int) -> Response:
        return Response(
            WebhookSubscriptionSerializer(
                selectors.subscription_get(subscription_id=subscription_id)
            ).data
        )

    @extend_schema(
        request=WebhookSubscriptionSerializer(partial=True),
        responses={200: WebhookSubscriptionSerializer},
    )
    def patch(self, request: Request, subscription_id: int) -> Response:
        sub = selectors.subscription_get(subscription_id=subscription_id)
        s = WebhookSubscriptionSerializer(sub, data=request.data, partial=True)
        s.is_valid(raise_exception=True)
        return Response(
            WebhookSubscriptionSerializer(
                services.subscription_save(subscription_id=sub.pk, **s.validated_data)
            ).data
        )

    @extend_schema(responses={204: None})
    def delete(self, request: Request, subscription_id: int) -> Response:
        services.subscription_delete(
            subscription=selectors.subscription_get(subscription_id=subscription_id)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryListApi(APIView):
    permission_classes = [permission(Can.MANAGE_INTAKE)]

    @extend_schema(responses={200: WebhookDeliverySerializer(many=True)})
    def get(self, request: Request, subscription_id: int) -> Response:
        sub = selectors.subscription_get(subscription_id=subscription_id)
        return Response(
            WebhookDeliverySerializer(
                selectors.delivery_list(subscription=sub)[:200], many=True
            ).data
        )
