from django.contrib.auth import get_user_model
from rest_framework import serializers


class UsernameField(serializers.SlugRelatedField):
    """A user as their username (only active users on input)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "username")
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", get_user_model().objects.filter(is_active=True))
        super().__init__(**kwargs)
