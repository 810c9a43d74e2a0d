"""No lost updates: a write based on an old read of an object is refused instead of silently undoing a newer one.

Objects that people edit (country-tracks, engagements, follow-ups, agreements, counterparts, partnerships,
announcements, facilities) carry a ``version`` that their services raise by one on every write, in the same
UPDATE. A caller that read version N passes ``expected_version=N``; the service compares it with the version of
the row it has locked (``select_for_update`` inside its transaction, so no other write can land between the
comparison and its own) and raises ``ConflictError`` when they differ. The portal answers 409 with the current
values; the API 412.
"""

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from . import catalogue


class ConflictError(ValidationError):
    """Someone else saved the object after the caller read it: nothing was written.

    ``current`` is the object as it is now (read under the row lock); ``changed_by`` and ``changed_at`` say who
    wrote it last and when (from the activity log), when known.
    """

    def __init__(self, message, *, current, changed_by=None, changed_at=None):
        super().__init__(message, code="conflict")
        self.current = current
        self.changed_by = changed_by
        self.changed_at = changed_at


def last_change(instance):
    """The newest outbox event about ``instance`` (the activity log), with its actor, or None."""
    from .models import Event

    return (
        Event.objects.filter(subject_type=catalogue.subject_type(instance), subject_id=str(instance.pk))
        .select_related("actor")
        .order_by("-created_at", "-id")
        .first()
    )


def who_and_when(event) -> dict:
    """``user`` and ``when`` of an event, ready for a message in the reader's language and time zone."""
    from .audit import user_label

    if event is None:  # every service write records one: only a log emptied by hand has none
        return {"user": _("someone"), "when": _("an unknown time")}
    actor = event.actor
    return {
        "user": user_label(actor) if actor is not None else _("someone"),
        "when": date_format(timezone.localtime(event.created_at), "DATETIME_FORMAT"),
    }


def lock(instance, expected_version: int | None = None):
    """Re-read ``instance``'s row under a lock (no joins) and refuse a stale ``expected_version`` (``ensure_version``).
    Returns the locked row; the caller writes it, raising ``version`` by one in the same UPDATE."""
    locked = type(instance).objects.select_for_update().get(pk=instance.pk)
    message = _(
        "Someone else changed “%(what)s” while you were editing (changed by %(user)s at %(when)s). Your change was not saved."
    )
    ensure_version(locked, expected_version, message, what=str(locked))
    return locked


def ensure_version(locked, expected_version: int | None, message: str, **params) -> None:
    """Refuse the write when the caller read another version than the locked row's.

    ``locked`` must have been read with ``select_for_update()`` in the current transaction. ``message`` is the
    translated text, formatted with ``params`` and the ``user`` and ``when`` of the last change.
    ``expected_version=None`` means the caller asked for no check (last write wins).
    """
    if expected_version is None or expected_version == locked.version:
        return
    event = last_change(locked)
    raise ConflictError(
        message % {**params, **who_and_when(event)},
        current=locked,
        changed_by=event.actor if event is not None else None,
        changed_at=event.created_at if event is not None else None,
    )
