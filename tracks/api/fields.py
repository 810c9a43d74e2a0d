from rest_framework import serializers

from ..models import Track


class TrackKeyField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "key")
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", Track.objects.all())
        super().__init__(**kwargs)
