from rest_framework import serializers

from ..models import Stage, Track


class StageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Stage
        fields = ["key", "name_en", "name_fr", "kind", "position", "stalled_after_days"]
        read_only_fields = fields


class TrackSerializer(serializers.ModelSerializer):
    stages = StageSerializer(many=True, read_only=True)

    class Meta:
        model = Track
        fields = ["key", "name_en", "name_fr", "description", "position", "is_active", "stages"]
        read_only_fields = fields
