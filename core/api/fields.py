"""Related fields of the API's write bodies: each item's shape is checked without a query, a list is capped and
looked up in one query, whatever its length.

A list of 10,000 codes used to cost 10,000 queries before the caller's right to write was even checked; now
``max_items`` refuses an over-long list at once (the schema gives it as ``maxItems``) and the rest is one
``WHERE key IN (...)``.
"""

import contextlib
import datetime
import re

from django.contrib.auth import get_user_model
from django.utils.dateparse import parse_datetime
from rest_framework import serializers
from rest_framework.relations import MANY_RELATION_KWARGS
from rest_framework.settings import api_settings

from core import limits
from core.filters import MAX_ID

# What a list of a related field holds at most unless the field says otherwise (see OneQueryManyRelatedField).
DEFAULT_MAX_ITEMS = 100
_DIGITS = re.compile(r"[0-9]{1,19}")


class OneQueryManyRelatedField(serializers.ManyRelatedField):
    """``many=True`` of a :class:`BulkLookupMixin` field: at most ``max_items`` items, found in one query."""

    default_error_messages = {"too_many": "At most {max_items} items."}

    def __init__(self, *, max_items: int, **kwargs):
        self.max_items = max_items
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) or not hasattr(data, "__iter__"):
            self.fail("not_a_list", input_type=type(data).__name__)
        data = list(data)
        if len(data) > self.max_items:
            self.fail("too_many", max_items=self.max_items)
        if not self.allow_empty and not data:
            self.fail("empty")
        return self.child_relation.resolve_many(data)


class BulkLookupMixin:
    """For a related field of a write body: ``to_key`` checks one item's shape (no query, ValidationError on
    anything else), ``resolve_many`` finds all of a list in one query. ``bulk_field`` is the unique field the
    items name (``pk``, ``iso2``, ``key``, ``username``)."""

    bulk_field = "pk"
    max_items = DEFAULT_MAX_ITEMS

    @classmethod
    def many_init(cls, *args, **kwargs):
        max_items = kwargs.pop("max_items", cls.max_items)
        list_kwargs = {"child_relation": cls(*args, **kwargs), "max_items": max_items}
        list_kwargs.update({key: value for key, value in kwargs.items() if key in MANY_RELATION_KWARGS})
        return OneQueryManyRelatedField(**list_kwargs)

    def to_key(self, data):
        raise NotImplementedError

    def fail_missing(self, key):
        self.fail("does_not_exist", pk_value=key, slug_name=self.bulk_field, value=key)

    def to_internal_value(self, data):
        key = self.to_key(data)
        known = getattr(self, "_found", None)  # filled by OneQueryListSerializer for the items of a nested list
        found = known.get(key) if known is not None else self.get_queryset().filter(**{self.bulk_field: key}).first()
        if found is None:
            self.fail_missing(key)
        return found

    def resolve_many(self, items):
        keys = [self.to_key(item) for item in items]
        if not keys:
            return []
        found = self.get_queryset().in_bulk(set(keys), field_name=self.bulk_field)
        for key in keys:
            if key not in found:
                self.fail_missing(key)
        return [found[key] for key in keys]


# A write body's capped lists are counted before any of its fields is validated, so an over-long list is refused at
# once, with the same error as its field gives (``too_many``, or ``max_length`` for a nested list), instead of after
# the lookups of the fields before and after it. Such a body is answered with the over-long lists' errors alone: the
# other fields are checked once the lists are within their caps. (A comment, not a docstring: drf-spectacular would
# show a docstring as the description of every body that mixes this in.)
class ListsCountedFirstMixin:
    def to_internal_value(self, data):
        if isinstance(data, dict):
            errors = {}
            for name, field in self.fields.items():
                value = data.get(name)
                if field.read_only or not isinstance(value, list):
                    continue
                if isinstance(field, OneQueryManyRelatedField) and len(value) > field.max_items:
                    message = field.error_messages["too_many"].format(max_items=field.max_items)
                    errors[name] = [serializers.ErrorDetail(message, code="too_many")]
                elif (
                    isinstance(field, serializers.ListSerializer)
                    and field.max_length is not None
                    and len(value) > field.max_length
                ):
                    message = field.error_messages["max_length"].format(max_length=field.max_length)
                    detail = serializers.ErrorDetail(message, code="max_length")
                    errors[name] = {api_settings.NON_FIELD_ERRORS_KEY: [detail]}
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class OneQueryListSerializer(serializers.ListSerializer):
    """A nested list (``many=True`` with ``max_length``) whose items name related rows: each related field is
    looked up once for all the items (``Meta.list_serializer_class`` of the item's serializer)."""

    def to_internal_value(self, data):
        fields = [
            (name, field)
            for name, field in self.child.fields.items()
            if isinstance(field, BulkLookupMixin) and not field.read_only
        ]
        if not isinstance(data, list) or (self.max_length is not None and len(data) > self.max_length):
            return super().to_internal_value(data)  # refused there, before any lookup
        for name, field in fields:
            keys = set()
            for item in data:
                if isinstance(item, dict) and item.get(name) not in (None, ""):
                    # A malformed one is reported with its item by the child's own validation.
                    with contextlib.suppress(serializers.ValidationError):
                        keys.add(field.to_key(item[name]))
            field._found = field.get_queryset().in_bulk(keys, field_name=field.bulk_field) if keys else {}
        try:
            return super().to_internal_value(data)
        finally:
            for _name, field in fields:
                field._found = None


class IdRelatedField(BulkLookupMixin, serializers.PrimaryKeyRelatedField):
    """A row by its id: a whole number (``12`` or ``"12"``) within 64 bits; ``1.5``, ``true`` or ``"1e3"`` are
    refused, not rounded into some other row."""

    def to_key(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if isinstance(data, str):
            if not _DIGITS.fullmatch(data):
                self.fail("incorrect_type", data_type="str")
            data = int(data)
        if not 1 <= data <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return data


class KeyRelatedField(BulkLookupMixin, serializers.SlugRelatedField):
    """A row by a unique text key of at most ``max_key_length`` characters."""

    max_key_length = 150

    def __init__(self, **kwargs):
        self.bulk_field = kwargs.get("slug_field", self.bulk_field)
        super().__init__(**kwargs)
        self.bulk_field = self.slug_field

    def to_key(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if not data or len(data) > self.max_key_length or "\x00" in data:
            self.fail_missing(data[:50])
        return data


class UsernameField(KeyRelatedField):
    """A user as their username (only active users on input)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "username")
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", get_user_model().objects.filter(is_active=True))
        super().__init__(**kwargs)


def _check_in_range(field, day) -> None:
    if not limits.EARLIEST_DATE <= day <= limits.LATEST_DATE:
        field.fail("out_of_range", earliest=limits.EARLIEST_DATE.isoformat(), latest=limits.LATEST_DATE.isoformat())


class DateField(serializers.DateField):
    """A date (ISO 8601, ``2026-12-01``) within the years the programme's records can carry."""

    default_error_messages = {"out_of_range": "Give a date between {earliest} and {latest}."}

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        _check_in_range(self, day)
        return day


class AwareDateTimeField(serializers.DateTimeField):
    """A moment (ISO 8601) with its time zone, ``2026-12-01T09:00:00+01:00`` or ``...Z``: a time without one could
    be any of 24 hours, so it is refused rather than read in the server's zone. Within the years of ``DateField``."""

    default_error_messages = {
        "naive": "Give the time zone too, for example 2026-12-01T09:00:00+01:00 or 2026-12-01T08:00:00Z.",
        "out_of_range": "Give a date between {earliest} and {latest}.",
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:  # well formed but impossible (minute 61): DRF's own parsing says "invalid" below
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        elif isinstance(value, datetime.datetime) and value.tzinfo is None:
            self.fail("naive")
        moment = super().to_internal_value(value)
        _check_in_range(self, moment.date())
        return moment
