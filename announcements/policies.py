"""Who sees an announcement, and who may write one.

The embargo rule lives here: an announcement is public once it is published, its publication time has come and
any embargo has ended. Programme staff see every announcement; a liaison also sees the drafts of their own
countries (never one scheduled under embargo); a viewer sees what is published; an anonymous reader what is
published and marked public. Staff write any announcement; a liaison drafts only for their own countries.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core import roles
from countries.policies import ensure_can_write_country, ensure_programme_staff, writable_country_ids
from countries.selectors import assigned_country_ids

from .models import Announcement


def published_q(now=None, prefix: str = "") -> Q:
    """Published, and past its publication time and any embargo: what non-staff may see."""
    now = now or timezone.now()
    p = prefix
    return Q(**{f"{p}status": Announcement.Status.PUBLISHED, f"{p}published_at__lte": now}) & (
        Q(**{f"{p}embargo_until__isnull": True}) | Q(**{f"{p}embargo_until__lte": now})
    )


def is_published(announcement, now=None) -> bool:
    """The same rule as ``published_q`` for one announcement in hand (no query)."""
    now = now or timezone.now()
    return (
        announcement.status == Announcement.Status.PUBLISHED
        and announcement.published_at is not None
        and announcement.published_at <= now
        and (announcement.embargo_until is None or announcement.embargo_until <= now)
    )


def visible_q(user) -> Q | None:
    """The announcements ``user`` may read, as a filter; None: all of them (programme staff)."""
    if roles.is_programme_staff(user):
        return None
    published = published_q()
    if roles.is_liaison(user):
        own_drafts = Announcement.countries.through.objects.filter(
            country_id__in=assigned_country_ids(user), announcement__status=Announcement.Status.DRAFT
        ).values("announcement_id")
        return published | Q(pk__in=own_drafts)
    if roles.can_read(user):
        return published
    return published & Q(is_public=True)


def can_cite(user, announcement) -> bool:
    """Whether a reader may see that a stage move cites this announcement: once it is public (staff at once)."""
    return roles.is_programme_staff(user) or is_published(announcement)


def ensure_can_edit(actor, countries) -> None:
    """Staff write any announcement; a liaison drafts only for their own countries."""
    if roles.is_programme_staff(actor):
        return
    countries = list(countries)
    if not countries:
        if roles.is_liaison(actor):
            raise ValidationError({"countries": _("Name at least one of your countries.")})
        ensure_programme_staff(actor)
    for country in countries:
        ensure_can_write_country(actor, country)


def ensure_can_edit_existing(actor, announcement, current_countries) -> None:
    """Editing one: staff only for one about the whole programme or once it is scheduled or published."""
    if not current_countries and not roles.is_programme_staff(actor):
        raise PermissionDenied(_("Only programme staff may edit an announcement about the whole programme."))
    ensure_can_edit(actor, current_countries)
    if announcement.status != Announcement.Status.DRAFT and not roles.is_programme_staff(actor):
        raise PermissionDenied(_("Only programme staff may edit an announcement once it is scheduled or published."))


def can_write_announcements(user) -> bool:
    """Programme staff and liaisons write announcements (a liaison only for their countries: ``ensure_can_edit``)."""
    return roles.is_programme_staff(user) or roles.is_liaison(user)


def writes_for_any(user, country_ids) -> bool:
    """Whether ``user`` writes for one of an announcement's countries (staff: always): they read its every revision."""
    writable = writable_country_ids(user)
    return writable is None or bool(set(country_ids) & writable)
