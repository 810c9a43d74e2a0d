"""Filter building blocks shared by every app's FilterSets: inputs that cannot reach the database malformed."""

import datetime

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField, RangeField
from django_filters.widgets import DateRangeWidget

from core import country_codes

MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """An id: a whole number within 64 bits (a longer one is a 400, not an overflow in the database)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, converted to UTC: PostgreSQL refuses offsets beyond ±15:59."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is not None and parsed.tzinfo is not None:
            try:
                parsed = parsed.astimezone(datetime.UTC)
            except OverflowError as exc:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc
        return parsed


class UTCIsoDateTimeRangeField(RangeField):
    widget = DateRangeWidget

    def __init__(self, *args, **kwargs):
        super().__init__((UTCIsoDateTimeField(), UTCIsoDateTimeField()), *args, **kwargs)


class DateTimeRangeFilter(django_filters.RangeFilter):
    """``<name>_after`` / ``<name>_before`` with ISO 8601 date-times, normalised to UTC."""

    field_class = UTCIsoDateTimeRangeField


class StrictBooleanField(forms.Field):
    """true/false (also 1/0, yes/no); anything else is a 400 instead of being quietly ignored."""

    TRUE, FALSE = {"true", "1", "yes"}, {"false", "0", "no"}
    default_error_messages = {"invalid": "Use true or false."}

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class CountryCodeField(forms.CharField):
    """A country's ISO alpha-2 code, either case (``core.country_codes``); anything else is a 400, never folded into
    another country's code."""

    default_error_messages = {"invalid": 'Give a country as its two-letter ISO code, for example "GB".'}

    def clean(self, value):
        value = super().clean(value)  # a NUL byte or an over-long value is reported as such first
        if value in (None, ""):
            return value
        code = country_codes.parse(value)
        if code is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return code


class CountryCodeFilter(django_filters.CharFilter):
    """``?country=gb``: the rows of that country (exact match on the upper-case code)."""

    field_class = CountryCodeField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 2)
        kwargs.setdefault("help_text", "Country, as its ISO 3166-1 alpha-2 code (either case).")
        super().__init__(*args, **kwargs)
