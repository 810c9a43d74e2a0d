from rest_framework import serializers

from countries.models import Country


class CountryCodeField(serializers.SlugRelatedField):
    """A country as its ISO alpha-2 code, case-insensitive on input."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "iso2")
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", Country.objects.all())
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = data.strip().upper()
        return super().to_internal_value(data)
