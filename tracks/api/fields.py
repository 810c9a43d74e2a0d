from core.api.fields import KeyRelatedField

from ..models import Track


class TrackKeyField(KeyRelatedField):
    """A track by its key."""

    max_key_length = 50

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "key")
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", Track.objects.all())
        super().__init__(**kwargs)
