"""Follow-ups, engagements and agreement expiries as calendar events (``core.ical``).

Two wordings. ``neutral``: what the personal feeds carry, since a third party's calendar server fetches them: the kind
of item, its country (and no more) and a link into the portal, which asks for a sign-in; never a description, a
summary or a title. Otherwise, for the one-off download a signed-in reader takes for themselves: the follow-up's text
and the engagement's summary, unless the engagement is confidential (``policies.text_may_leave_the_portal``), when the
download is as neutral as the feed.
"""

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import ical

from . import policies

DETAILS_IN_PORTAL = gettext_lazy("Details in the partnership portal (sign-in needed).")


def _follow_up_link(follow_up) -> str:
    if follow_up.engagement_id:
        return ical.absolute(reverse("engagement-detail", args=[follow_up.engagement_id]))
    return ical.absolute(reverse("country-detail", args=[follow_up.country.iso2.lower()]) + "#follow-ups-title")


def follow_up_entry(follow_up, *, neutral: bool) -> ical.Entry:
    """Needs ``country`` and ``engagement`` loaded (``selectors.follow_up_list`` does)."""
    country = follow_up.country.name
    if neutral or not policies.text_may_leave_the_portal(follow_up.engagement):
        summary = _("Follow-up due: %(country)s") % {"country": country}
        description = str(DETAILS_IN_PORTAL)
    else:
        summary = _("Follow-up: %(what)s") % {"what": follow_up.description}
        description = _("Follow-up for %(country)s, due on this day.") % {"country": country}
    return ical.Entry(
        uid=ical.uid("followup", follow_up.pk),
        summary=summary,
        description=description,
        url=_follow_up_link(follow_up),
        sequence=ical.sequence(follow_up.version),
        day=follow_up.due_on,
    )


def engagement_entry(engagement) -> ical.Entry:
    """The engagement on its day (downloads only: the feeds carry dates to come, not a record of the past)."""
    values = {"kind": engagement.get_kind_display(), "country": engagement.country.name}
    if policies.text_may_leave_the_portal(engagement):
        summary, description = _("%(kind)s: %(country)s") % values, engagement.summary
    else:
        summary, description = _("Engagement: %(country)s") % values, str(DETAILS_IN_PORTAL)
    return ical.Entry(
        uid=ical.uid("engagement", engagement.pk),
        summary=summary,
        description=description,
        url=ical.absolute(reverse("engagement-detail", args=[engagement.pk])),
        sequence=ical.sequence(engagement.version),
        day=engagement.occurred_on,
    )


def agreement_expiry_entry(agreement) -> ical.Entry:
    """Neutral always (the feeds): the kind of agreement and its country, never its title."""
    summary = _("Agreement expires: %(country)s — %(kind)s") % {
        "country": agreement.country.name,
        "kind": agreement.get_kind_display(),
    }
    link = reverse("country-detail", args=[agreement.country.iso2.lower()]) + "?kind=agreement#timeline-title"
    return ical.Entry(
        uid=ical.uid("agreement-expiry", agreement.pk),
        summary=summary,
        description=str(DETAILS_IN_PORTAL),
        url=ical.absolute(link),
        sequence=ical.sequence(agreement.version),
        day=agreement.expires_on,
    )
