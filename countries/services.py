"""Every write to countries: counterparts and liaison assignments."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core.changes import apply_changes
from core.events import emit

from .models import Counterpart, Country, LiaisonAssignment
from .selectors import ensure_can_write_country, ensure_programme_staff

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
    emit(kind="counterpart.created", subject=counterpart, actor=actor, country_id=country.pk, payload={"name": counterpart.name})
    return counterpart


@transaction.atomic
def counterpart_update(*, actor, counterpart: Counterpart, **fields) -> Counterpart:
    ensure_can_write_country(actor, counterpart.country)
    changes = apply_changes(counterpart, fields, allowed=COUNTERPART_FIELDS)
    if not changes:
        return counterpart
    counterpart.save()
    emit(
        kind="counterpart.updated",
        subject=counterpart,
        actor=actor,
        country_id=counterpart.country_id,
        payload={"changes": changes},
    )
    return counterpart


@transaction.atomic
def counterpart_leave_post(*, actor, counterpart: Counterpart, left_on: datetime.date | None = None) -> Counterpart:
    """Record that a counterpart left their post: they stay in the history, no longer active."""
    ensure_can_write_country(actor, counterpart.country)
    left_on = left_on or timezone.localdate()
    if counterpart.active_to is not None:
        raise ValidationError(
            _("%(name)s already left this post on %(date)s.")
            % {"name": counterpart.name, "date": date_format(counterpart.active_to)}
        )
    return counterpart_update(actor=actor, counterpart=counterpart, active_to=left_on)


@transaction.atomic
def liaison_assign(*, actor, user, country: Country) -> LiaisonAssignment:
    ensure_programme_staff(actor)
    from core import roles

    if not roles.is_liaison(user):
        raise ValidationError(_("%(user)s is not in the liaison group.") % {"user": user})
    assignment, created = LiaisonAssignment.objects.get_or_create(user=user, country=country)
    if created:
        emit(
            kind="liaison.assigned", subject=assignment, actor=actor, country_id=country.pk, payload={"user": user.get_username()}
        )
    return assignment


@transaction.atomic
def liaison_unassign(*, actor, user, country: Country) -> None:
    ensure_programme_staff(actor)
    deleted, _rows = LiaisonAssignment.objects.filter(user=user, country=country).delete()
    if deleted:
        emit(
            kind="liaison.unassigned", subject=country, actor=actor, country_id=country.pk, payload={"user": user.get_username()}
        )
