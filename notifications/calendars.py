"""What a personal calendar feed holds, read afresh on every fetch with its user's rights of that moment.

A third party's calendar server fetches the feed (Google, Microsoft, Apple), so a feed carries **nothing confidential
or embargoed**: each event is a neutral title, a day (or, for an embargo, a moment in UTC) and a link into the
portal, which asks for a sign-in. Exactly:

- **follow-ups**, open, due on their day: "Follow-up due: <country>". Scope ``mine``: those the user owns; scope
  ``countries``: every open one of their countries. Never a follow-up's text, owner or engagement.
- **next steps** of their countries' tracks, with a date: "Next step due: <country> — <track>", never the step.
- **agreement expiries** of their countries: "Agreement expires: <country> — <kind of agreement>", never the title.
- **embargoes**, for those who may read an announcement under embargo (programme staff): "Embargo lifts:
  announcement #<id>" at the moment it lifts, never the title.

"Their countries" are those the user writes for (``countries.policies.writable_country_ids``): a liaison's assigned
countries, every country for programme staff, none for a viewer; a liaison taken off a country stops seeing it on the
next fetch. Each list is read through the visibility policies (follow-ups: ``engagements.selectors.follow_up_list``,
so no follow-up of a voided engagement, nor of a confidential one the user may not read; announcements:
``announcements.selectors.announcement_list``). A completed follow-up, a cleared next step, an agreement no longer
expiring and a released announcement leave the feed; a changed one keeps its UID and takes a higher SEQUENCE.
"""

import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from announcements.models import Announcement
from announcements.selectors import announcement_list
from core import ical, roles
from countries.policies import writable_country_ids
from engagements import calendar as engagement_calendar
from engagements.selectors import agreement_list, follow_up_list
from partnerships.selectors import country_track_list

from .models import CalendarFeed, Preference

# Agreements that expired longer ago than this leave the feed (a calendar keeps the past it already has).
EXPIRED_AGREEMENTS_KEPT = datetime.timedelta(days=90)


def _in_countries(qs, countries, field: str = "country_id"):
    return qs if countries is None else qs.filter(**{f"{field}__in": countries})


def follow_up_entries(user, scope: str, countries) -> list[ical.Entry]:
    qs = _in_countries(follow_up_list(user=user).filter(done_at__isnull=True), countries)
    if scope == CalendarFeed.Scope.MINE:
        qs = qs.filter(owner=user)
    return [engagement_calendar.follow_up_entry(fu, neutral=True) for fu in qs.order_by("due_on", "id")]


def next_step_entries(countries) -> list[ical.Entry]:
    cells = _in_countries(country_track_list(), countries).filter(next_step_due__isnull=False).exclude(next_step="")
    entries = []
    for cell in cells.filter(track__is_active=True).order_by("next_step_due", "id"):
        link = reverse("country-detail", args=[cell.country.iso2.lower()]) + f"#track-{cell.pk}"
        entries.append(
            ical.Entry(
                # The cell, not the step: a next step done and replaced by the next one moves the same event.
                uid=ical.uid("nextstep", cell.pk),
                summary=_("Next step due: %(country)s — %(track)s") % {"country": cell.country.name, "track": cell.track.name},
                description=str(engagement_calendar.DETAILS_IN_PORTAL),
                url=ical.absolute(link),
                sequence=ical.sequence(cell.version),
                day=cell.next_step_due,
            )
        )
    return entries


def agreement_entries(countries, today: datetime.date) -> list[ical.Entry]:
    qs = _in_countries(agreement_list(), countries).filter(expires_on__gte=today - EXPIRED_AGREEMENTS_KEPT)
    return [engagement_calendar.agreement_expiry_entry(a) for a in qs.order_by("expires_on", "id")]


def embargo_entries(user) -> list[ical.Entry]:
    """Announcements scheduled under an embargo that the user may read (``visible_q``: programme staff only)."""
    # Also one whose moment has passed while its release is still to run: it leaves once it is published.
    qs = announcement_list(user=user).filter(status=Announcement.Status.SCHEDULED)
    entries = []
    for announcement in qs.order_by("embargo_until", "id"):
        entries.append(
            ical.Entry(
                uid=ical.uid("embargo", announcement.pk),
                summary=_("Embargo lifts: announcement #%(id)s") % {"id": announcement.pk},
                description=str(engagement_calendar.DETAILS_IN_PORTAL),
                url=ical.absolute(reverse("announcement-edit", args=[announcement.pk])),
                sequence=ical.sequence(announcement.version),
                moment=announcement.embargo_until,
            )
        )
    return entries


def feed_language(user) -> str:
    """The language of the user's e-mails (their notification settings), else the portal's default."""
    preference = Preference.objects.filter(user=user).values_list("language", flat=True).first()
    return preference or settings.LANGUAGE_CODE


def feed_calendar(feed: CalendarFeed, now: datetime.datetime | None = None) -> tuple[str, list[ical.Entry]]:
    """The name and every event of ``feed``, in the language of its user."""
    now = now or timezone.now()
    user = feed.user
    with translation.override(feed_language(user)):
        name = _("Partnership portal: %(name)s") % {"name": feed.name}
        countries = writable_country_ids(user)
        if not roles.can_read(user) or countries == frozenset():
            return name, []  # a viewer, or someone who lost their role: nothing of theirs to put in a calendar
        return name, [
            *follow_up_entries(user, feed.scope, countries),
            *next_step_entries(countries),
            *agreement_entries(countries, timezone.localdate(now)),
            *embargo_entries(user),
        ]
