from rest_framework import serializers

from core import country_codes
from countries.models import Country


class CountryCodeField(serializers.SlugRelatedField):
    """A country as its ISO alpha-2 code, either case on input; anything but two ASCII letters is refused."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "iso2")
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", Country.objects.all())
        super().__init__(**kwargs)

    default_error_messages = {"not_a_code": 'Give a country as its two-letter ISO code, for example "GB".'}

    def to_internal_value(self, data):
        # Checked before the case is folded: "ß".upper() is "SS" (core.country_codes).
        code = country_codes.parse(data)
        if code is None:
            self.fail("not_a_code")
        return super().to_internal_value(code)
