"""Every write to countries: counterparts and liaison assignments."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core import catalogue, roles
from core.changes import apply_changes
from core.conflicts import ensure_version
from core.events import emit

from .models import Counterpart, Country, LiaisonAssignment
from .policies import ensure_can_write_country, ensure_programme_staff

COUNTERPART_FIELDS = ("name", "title", "organisation", "email", "phone", "active_from", "active_to", "notes")


@transaction.atomic
def counterpart_create(*, actor, country: Country, name: str, **fields) -> Counterpart:
    ensure_can_write_country(actor, country)
    unknown = set(fields) - set(COUNTERPART_FIELDS)
    if unknown:
        raise TypeError(f"Unknown counterpart fields: {sorted(unknown)}")
    counterpart = Counterpart(country=country, name=(name or "").strip(), **fields)
    counterpart.full_clean()
    counterpart.save()
    emit(
        kind=catalogue.COUNTERPART_CREATED,
        subject=counterpart,
        actor=actor,
        country_id=country.pk,
        payload={"name": counterpart.name},
    )
    return counterpart


def _lock_counterpart(counterpart: Counterpart, expected_version: int | None = None) -> Counterpart:
    """The counterpart's row under a lock (no joins), refused with a ``ConflictError`` if it is no longer at
    ``expected_version``: the comparison is made while the lock is held, so no write can slip in between."""
    locked = Counterpart.objects.select_for_update().get(pk=counterpart.pk)
    locked.country = counterpart.country  # the country never changes; it is in hand already
    if locked.merged_into_id:
        raise ValidationError(_("%(name)s was merged into another record: change that one.") % {"name": locked.name})
    ensure_version(
        locked,
        expected_version,
        _("Someone else changed %(name)s while you were editing (changed by %(user)s at %(when)s). Your change was not saved."),
        name=locked.name,
    )
    return locked


@transaction.atomic
def counterpart_update(*, actor, counterpart: Counterpart, expected_version: int | None = None, **fields) -> Counterpart:
    """Edit a counterpart. ``expected_version``: the version the caller read (an edit form's hidden field); a
    counterpart changed since is refused with a ``ConflictError``. Without it the last write wins."""
    ensure_can_write_country(actor, counterpart.country)
    locked = _lock_counterpart(counterpart, expected_version)
    changes = apply_changes(locked, fields, allowed=COUNTERPART_FIELDS)
    if changes:
        locked.version += 1  # under the row lock: written in the same UPDATE as the change
        locked.save()
        emit(
            kind=catalogue.COUNTERPART_UPDATED,
            subject=locked,
            actor=actor,
            country_id=locked.country_id,
            payload={"changes": changes},
        )
    for field in Counterpart._meta.concrete_fields:  # the caller's instance shows what is stored now
        setattr(counterpart, field.attname, getattr(locked, field.attname))
    return counterpart


@transaction.atomic
def counterpart_leave_post(*, actor, counterpart: Counterpart, left_on: datetime.date | None = None) -> Counterpart:
    """Record that a counterpart left their post: they stay in the history, no longer active."""
    ensure_can_write_country(actor, counterpart.country)
    left_on = left_on or timezone.localdate()
    # Checked under the lock: two people recording the departure at once cannot both write their date.
    locked = _lock_counterpart(counterpart)
    if locked.active_to is not None:
        raise ValidationError(
            _("%(name)s already left this post on %(date)s.") % {"name": locked.name, "date": date_format(locked.active_to)}
        )
    return counterpart_update(actor=actor, counterpart=counterpart, active_to=left_on)


@transaction.atomic
def counterpart_merge(*, actor, keep: Counterpart, duplicate: Counterpart) -> Counterpart:
    """Merge a duplicate into the record kept (programme staff): the engagements that name the duplicate name the one
    kept instead; the duplicate stays on record with its own dates, marked as merged into it, and leaves every list.
    Both must be counterparts of the same country, neither merged already."""
    ensure_programme_staff(actor)
    keep_row, dup_row = (Counterpart.objects.select_for_update().get(pk=c.pk) for c in (keep, duplicate))
    if keep_row.pk == dup_row.pk:
        raise ValidationError(_("Choose two different counterparts."))
    if keep_row.country_id != dup_row.country_id:
        raise ValidationError(_("Only counterparts of the same country can be merged."))
    if keep_row.merged_into_id or dup_row.merged_into_id:
        raise ValidationError(_("One of them was already merged into another record."))
    # The engagements' links move without a reach into the engagements app: the relation's own table.
    links = Counterpart.engagements.through.objects
    named_both = links.filter(counterpart=keep_row).values("engagement_id")
    moved = list(links.filter(counterpart=dup_row).exclude(engagement_id__in=named_both).values_list("engagement_id", flat=True))
    touched = list(links.filter(counterpart=dup_row).values_list("engagement_id", flat=True))
    links.filter(counterpart=dup_row, engagement_id__in=moved).update(counterpart=keep_row)
    links.filter(counterpart=dup_row).delete()
    # The engagements now name someone else: a form read before the merge is refused as out of date (a 409).
    engagement_model = Counterpart.engagements.field.model
    engagement_model.objects.filter(pk__in=touched).update(version=F("version") + 1)
    dup_row.merged_into = keep_row
    dup_row.version += 1
    dup_row.save(update_fields=["merged_into", "version", "updated_at"])
    emit(
        kind=catalogue.COUNTERPART_MERGED,
        subject=dup_row,
        actor=actor,
        country_id=dup_row.country_id,
        payload={"into": keep_row.pk, "engagements": sorted(touched)},
    )
    return keep_row


@transaction.atomic
def liaison_assign(*, actor, user, country: Country) -> LiaisonAssignment:
    ensure_programme_staff(actor)
    if not roles.is_liaison(user):
        raise ValidationError(_("%(user)s is not in the liaison group.") % {"user": user})
    assignment, created = LiaisonAssignment.objects.get_or_create(user=user, country=country)
    if created:
        emit(
            kind=catalogue.LIAISON_ASSIGNED,
            subject=assignment,
            actor=actor,
            country_id=country.pk,
            payload={"user": user.get_username()},
        )
    return assignment


@transaction.atomic
def liaison_unassign(*, actor, user, country: Country) -> None:
    ensure_programme_staff(actor)
    deleted, _rows = LiaisonAssignment.objects.filter(user=user, country=country).delete()
    if deleted:
        emit(
            kind=catalogue.LIAISON_UNASSIGNED,
            subject=country,
            actor=actor,
            country_id=country.pk,
            payload={"user": user.get_username()},
        )
