"""Template tags shared by the portal's pages."""

import datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.simple_tag(takes_context=True)
def page_query(context, number) -> str:
    """The current query string with ``page`` set to ``number``: pages keep their filters and sort order."""
    query = context["request"].GET.copy()
    query["page"] = number
    return query.urlencode()


@register.filter
def machine_datetime(value) -> str:
    """``value`` as the ``datetime`` attribute of a ``<time>`` wants it: a valid HTML global date and time string,
    which is also RFC 3339, in the reader's time zone and to the second (``2026-12-01T09:00:00+00:00``).

    Django's ``|date:'c'`` gives ``isoformat()``, with microseconds on every record stamped by the portal; HTML allows
    at most three digits of a fraction of a second, so those values are invalid. A date stays a date
    (``2026-12-01``); a naive datetime is taken as already in the current time zone; anything else gives ``""``.
    """
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else timezone.make_aware(value)
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return ""


@register.simple_tag
def public_record_sources(subject, found=None) -> list:
    """``{% public_record_sources record found as sources %}``: the public-record facts behind ``record``, if any, from
    ``found`` (``core.public_record.sources_by_record``, one query for a page) or else read for this record."""
    from core.public_record import record_key, sources_for

    if subject is None:
        return []
    if found is not None:
        return found.get(record_key(subject), [])
    return sources_for(subject)


@register.simple_tag
def epoch_data_present() -> bool:
    """Whether any record came from Epoch AI's datasets (their CC BY licence asks for the attribution)."""
    from core.public_record import database_holds_epoch_data

    return database_holds_epoch_data()
