"""Endpoints of the base app: background jobs."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leadflow.jobs import job_get
from leadflow.models import Job
from leadflow.permissions import Can, permission, user_of


class JobSerializer(serializers.ModelSerializer[Any]):
    class Meta:
        model = Job
        fields = ["id", "kind", "status", "progress", "result", "error", "created_at",
                  "started_at", "finished_at"]  # fmt: skip


class JobDetailApi(APIView):
    permission_classes = [permission(Can.READ)]

    @extend_schema(responses={200: JobSerializer})
    def get(self, request: Request, job_id: int) -> Response:
        return Response(JobSerializer(job_get(job_id=job_id, user=user_of(request))).data)
