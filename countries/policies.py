"""Who may write for a country: programme staff for every country, a liaison only for the countries assigned to them.

The one home of the writer rule. Services enforce it (``ensure_can_write_country``), pages ask it before they offer
a form (``user_can_write_country``), and the queryset form (``country_writers``) picks follow-up owners and the
people a country's confidential matters may reach. The confidentiality rule (``engagements.policies``) is this
rule too: those who write for a country are those who read its confidential engagements.

The rules of counterparts' personal data live here too: who reads their contact details
(``can_see_contact_details``), who exports or erases what is held on a person (``can_handle_personal_data``), and
which counterparts are listed anywhere at all (``listed_counterparts_q``: neither merged away nor erased).
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core import roles

from .selectors import assigned_country_ids


def user_can_write_country(user, country_or_id) -> bool:
    """Programme staff write for every country; a liaison only for the countries assigned to them."""
    if roles.is_programme_staff(user):
        return True
    country_id = getattr(country_or_id, "pk", country_or_id)
    return roles.is_liaison(user) and country_id in assigned_country_ids(user)


# The same answer for a user name that names nobody and for a user who does not work on the country: an owner field
# must not tell an API client which user names exist.
OWNER_REFUSED = gettext_noop("Name someone who works on this country: one of its liaisons, or programme staff.")


def may_own_work(user, country_or_id) -> bool:
    """Who may be named owner of a country's work (a follow-up, a track's next steps): an active user who writes for
    the country."""
    return bool(user is not None and user.is_active and user_can_write_country(user, country_or_id))


def ensure_may_own_work(user, country_or_id, field: str = "owner") -> None:
    if user is not None and not may_own_work(user, country_or_id):
        raise ValidationError({field: _(OWNER_REFUSED)})


def writable_country_ids(user) -> frozenset[int] | None:
    """The ids of the countries ``user`` writes for, or None for all of them (programme staff)."""
    if roles.is_programme_staff(user):
        return None
    return assigned_country_ids(user) if roles.is_liaison(user) else frozenset()


def ensure_can_write_country(user, country) -> None:
    if not user_can_write_country(user, country):
        raise PermissionDenied(
            _("You may not change data for %(country)s: it is not one of your countries.") % {"country": country}
        )


def writers_q(country_ids, prefix: str = "") -> Q:
    """Users (or rows reaching a user through ``prefix``) who write for any of ``country_ids`` (None: for any country
    at all, a liaison with at least one): a filter on users."""
    p = prefix
    assigned = (
        {f"{p}liaison_assignments__isnull": False}
        if country_ids is None
        else {f"{p}liaison_assignments__country_id__in": list(country_ids)}
    )
    return (
        Q(**{f"{p}is_superuser": True})
        | Q(**{f"{p}groups__name": roles.STAFF})
        | Q(**{f"{p}groups__name": roles.LIAISON}, **assigned)
    )


def country_writers(country):
    """The active users who may write for ``country``: its liaisons and programme staff (for follow-up owners)."""
    country_id = getattr(country, "pk", country)
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(writers_q([country_id]))
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def writers_for_any(country_ids):
    """The active users who write for at least one of ``country_ids`` (None: for any country), for choosing an
    owner of several follow-ups at once; the service still checks each one's country."""
    users = get_user_model().objects.filter(is_active=True).filter(writers_q(country_ids))
    return users.distinct().order_by("first_name", "last_name", "username")


def ensure_can_read(user) -> None:
    if not roles.can_read(user):
        raise PermissionDenied(_("Your account has no role in the portal yet. Ask programme staff for access."))


def ensure_programme_staff(user) -> None:
    if not roles.is_programme_staff(user):
        raise PermissionDenied(_("Only programme staff may do this."))


def can_see_contact_details(user, country_or_id) -> bool:
    """A counterpart's e-mail and phone: for those who write for their country (its liaisons, programme staff), not
    for viewers nor the liaisons of other countries, who have no need of them (data minimisation)."""
    return user_can_write_country(user, country_or_id)


def can_handle_personal_data(user) -> bool:
    """Exporting everything held on a person (a subject access request) and erasing them: programme staff only."""
    return roles.is_programme_staff(user)


def ensure_can_handle_personal_data(user) -> None:
    if not can_handle_personal_data(user):
        raise PermissionDenied(_("Only programme staff may export or erase a person's data."))


def listed_counterparts_q(prefix: str = "", include_erased: bool = False) -> Q:
    """The counterparts any list shows: not a duplicate merged into another record, not erased (``include_erased``:
    the erased ones too, for staff's pages of one record)."""
    listed = Q(**{f"{prefix}merged_into__isnull": True})
    return listed if include_erased else listed & Q(**{f"{prefix}erased_at__isnull": True})


def can_manage_groupings(user) -> bool:
    """Country groupings (named sets of countries for briefing packs) are made, edited and deleted by programme
    staff; every reader may choose one for a pack."""
    return roles.is_programme_staff(user)


def ensure_can_manage_groupings(user) -> None:
    if not can_manage_groupings(user):
        raise PermissionDenied(_("Only programme staff may manage country groupings."))
