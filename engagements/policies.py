"""Who sees a confidential engagement: programme staff and the country's liaisons, nobody else. And what a voided
engagement still shows: nothing but its own page and the timeline, struck through, to programme staff.

The one home of the confidentiality rule, in three forms that every surface calls: a predicate for one record
(pages, serializers), queryset filters for lists (selectors, search, dashboards, exports, feeds), and the filters
of what enters the figures everyone reads (the rollup). Those who see a country's confidential engagements are
exactly those who write for it (``countries.policies``). A follow-up shares the sensitivity of its engagement.
"""

from django.db.models import Exists, OuterRef, Q

from core import roles
from countries.policies import user_can_write_country, writable_country_ids, writers_q

from .models import Engagement

NORMAL = Engagement.Sensitivity.NORMAL


def can_see_confidential(user, country_or_id) -> bool:
    """Whether ``user`` reads the confidential engagements (and their follow-ups) of a country."""
    return user_can_write_country(user, country_or_id)


def can_see_voided(user) -> bool:
    """A voided engagement stays in view, struck through with its reason, for programme staff (who may restore it)."""
    return roles.is_programme_staff(user)


def can_see_engagement(user, engagement) -> bool:
    if engagement.is_voided and not can_see_voided(user):
        return False
    return roles.can_read(user) and (not engagement.is_confidential or can_see_confidential(user, engagement.country_id))


def is_confidential_engagement(engagement) -> bool:
    """Whether a record in hand is confidential (a document that shows one says so on every page)."""
    return engagement.is_confidential


def is_confidential_follow_up(follow_up) -> bool:
    """A follow-up shares the sensitivity of its engagement (``follow_up.engagement`` loaded with it)."""
    return follow_up.engagement_id is not None and follow_up.engagement.is_confidential


def text_may_leave_the_portal(engagement) -> bool:
    """Whether an engagement's text (or a follow-up's, which shares its sensitivity: pass ``follow_up.engagement``,
    None for one of no engagement) may travel in a file its reader takes out of the portal, such as a calendar
    download: not a confidential one's, since such files usually end on a third party's calendar server."""
    return engagement is None or not engagement.is_confidential


def not_voided_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}voided_at__isnull": True})


def visible_engagements_q(user, prefix: str = "", include_voided: bool = False) -> Q | None:
    """The engagements ``user`` may read, as a filter (``prefix`` reaches an engagement from another row); voided
    ones only with ``include_voided`` and only for staff (the timeline, the engagement's page). None: every
    engagement. Callers check ``roles.can_read`` first."""
    countries = writable_country_ids(user)
    voided = None if include_voided and can_see_voided(user) else not_voided_q(prefix)
    if countries is None:
        return voided
    visible = Q(**{f"{prefix}sensitivity": NORMAL})
    if countries:
        visible |= Q(**{f"{prefix}country_id__in": countries})
    return visible if voided is None else visible & voided


def visible_follow_ups_q(user) -> Q | None:
    """The follow-ups ``user`` may read: those of no engagement, of a normal one, or of a country they write for;
    never those of a voided engagement."""
    live = follow_up_live_q()
    countries = writable_country_ids(user)
    if countries is None:
        return live
    visible = Q(engagement__isnull=True) | Q(engagement__sensitivity=NORMAL)
    if countries:
        visible |= Q(country_id__in=countries)
    return visible & live


def follow_up_live_q() -> Q:
    """Follow-ups that still count anywhere: those of no engagement or of one not voided. Written as "no voided
    engagement of theirs" (an anti-join with the few voided engagements) rather than "no engagement, or one not
    voided" (a join of every follow-up to its engagement): counting 40,000 follow-ups, 43 ms became a few."""

    return Q(~Exists(Engagement.objects.filter(pk=OuterRef("engagement_id"), voided_at__isnull=False)))


def in_activity_q(prefix: str = "") -> Q:
    """Engagements that count as activity for a track's health: every one not voided, confidential ones included."""
    return not_voided_q(prefix)


def in_published_figures_q(prefix: str = "") -> Q:
    """Engagements that count in the figures everyone reads (counts, last engagement dates): the normal ones not
    voided. Confidential engagements still count as activity for a track's health (``in_activity_q``)."""
    return Q(**{f"{prefix}sensitivity": NORMAL}) & not_voided_q(prefix)


def follow_up_in_published_figures_q() -> Q:
    """Follow-ups that count in the published open and overdue figures: not those of a confidential engagement
    (nor of a voided one: those count nowhere, ``follow_up_live_q``)."""
    return Q(engagement__isnull=True) | Q(engagement__sensitivity=NORMAL, engagement__voided_at__isnull=True)


def confidential_readers_q(country_ids) -> Q:
    """A filter on users: who may learn of a confidential matter of these countries (notifications)."""
    return writers_q(country_ids)


def is_confidential_event(event) -> bool:
    """An outbox event about a confidential engagement (its payload says so; its content never travels)."""
    payload = event.payload if isinstance(event.payload, dict) else {}
    return bool(payload.get("confidential"))
