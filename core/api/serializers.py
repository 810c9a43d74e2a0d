"""Input shapes that several apps' API actions share."""

from rest_framework import serializers

from core.limits import REASON_MAX_LENGTH


class EmptySerializer(serializers.Serializer):
    pass


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH, allow_blank=True)
