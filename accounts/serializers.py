"""What the accounts' endpoints read and answer."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from leadflow.serializers import StrictSerializer


class TokenRequestSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=200, trim_whitespace=False)


class TokenResponseSerializer(serializers.Serializer[Any]):
    token = serializers.CharField()
