"""The country briefing: what a reader may know of one country, on two pages, for the HTML page, the PDF and Word.

Everything is read through the selectors and policies that own each rule (confidentiality and voided engagements,
listed counterparts and their contact details, the embargo): the brief is generated for its reader, and says so when
it holds something confidential. A fixed number of queries whatever the number of rows: each list is one query
(with its prefetches) and is cut to what fits on two A4 pages.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from announcements import policies as announcement_policies
from announcements import selectors as announcement_selectors
from countries.models import HEALTH_RANK, Health
from countries.policies import can_see_contact_details, user_can_write_country
from countries.selectors import counterpart_list
from engagements import policies as engagement_policies
from engagements import selectors as engagement_selectors
from infrastructure.models import CapacityPhase
from infrastructure.selectors import facility_list
from tracks.models import Stage

from . import policies, selectors

LATEST_ENGAGEMENTS = 8
FOLLOW_UPS = 10
AGREEMENTS = 8
ANNOUNCEMENTS = 5
COUNTERPARTS = 12
DATES_AHEAD = 8
DAYS_AHEAD = 180


@dataclass
class DateAhead:
    """One date in the coming months, what it is, and the record it belongs to (for its link)."""

    on: datetime.date
    what: str
    kind: str  # next_step, follow_up, agreement, facility, resume
    record: object = None


@dataclass
class Briefing:
    """The content of one country's brief for one reader."""

    country: object
    status: object
    partnership: object
    generated_at: datetime.datetime
    today: datetime.date
    cells: list
    counterparts: list
    show_contact_details: bool
    engagements: list
    follow_ups: list
    open_follow_up_count: int
    overdue_follow_up_count: int
    agreements: list
    facilities: list
    announcements: list
    dates_ahead: list
    health_reasons: list = field(default_factory=list)
    can_write: bool = False
    writes_announcements: bool = False

    @property
    def holds_confidential(self) -> bool:
        """The brief shows a confidential engagement or a follow-up of one: it says so at the top of every page."""
        return any(e.confidential for e in self.engagements) or any(f.confidential for f in self.follow_ups)


def health_reason(cell, today: datetime.date) -> str:
    """Why a track has the health the rollup gave it, from the figures the rollup wrote on it (``rollup.track_health``
    decides; this only explains)."""
    health = cell.health
    if cell.stage.kind == Stage.Kind.WITHDRAWN:
        return _("Withdrawn: %(reason)s") % {"reason": cell.pause_reason or "—"}
    if health == Health.PAUSED:
        if cell.resume_on:
            return _("Paused until %(date)s: %(reason)s") % {"date": _date(cell.resume_on), "reason": cell.pause_reason or "—"}
        return _("Paused: %(reason)s") % {"reason": cell.pause_reason or "—"}
    if health == Health.INACTIVE:
        return _("Not started")
    if health == Health.STALLED:
        limit = cell.stage.stalled_after_days
        if cell.last_engagement_on:
            return _("No engagement since %(date)s (more than %(days)s days at this stage)") % {
                "date": _date(cell.last_engagement_on),
                "days": limit,
            }
        return _("No engagement for more than %(days)s days at this stage") % {"days": limit}
    if health == Health.AT_RISK:
        if cell.overdue_follow_ups:
            return ngettext("%(count)d follow-up overdue", "%(count)d follow-ups overdue", cell.overdue_follow_ups) % {
                "count": cell.overdue_follow_ups
            }
        return _("A follow-up is overdue")
    if cell.last_engagement_on:
        return _("Last engagement on %(date)s; nothing overdue") % {"date": _date(cell.last_engagement_on)}
    return _("Nothing overdue")


def _date(day: datetime.date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


def country_briefing(*, user, country, now: datetime.datetime | None = None) -> Briefing:
    """The brief of ``country`` as ``user`` may read it (callers check that the user reads the portal at all)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    ahead = today + datetime.timedelta(days=DAYS_AHEAD)

    cells = list(selectors.country_track_list().filter(country=country, track__is_active=True).order_by("track__position"))
    for cell in cells:
        cell.health_reason = health_reason(cell, today)
        cell.next_step_overdue = policies.next_step_is_overdue(cell, today)

    counterparts = list(counterpart_list(country=country, active_only=True).order_by("name")[:COUNTERPARTS])

    engagements = list(
        engagement_selectors.engagement_list(user=user)
        .filter(country=country)
        .order_by("-occurred_on", "-id")[:LATEST_ENGAGEMENTS]
    )
    for engagement in engagements:
        engagement.confidential = engagement_policies.is_confidential_engagement(engagement)

    open_follow_ups = engagement_selectors.open_follow_ups(user=user).filter(country=country)
    follow_ups = list(open_follow_ups[:FOLLOW_UPS])
    for follow_up in follow_ups:
        follow_up.confidential = engagement_policies.is_confidential_follow_up(follow_up)
        follow_up.overdue = follow_up.due_on < today
    counts = open_follow_ups.order_by().aggregate(open=Count("id"), overdue=Count("id", filter=Q(due_on__lt=today)))

    agreements = list(engagement_selectors.agreement_list().filter(country=country).order_by("-signed_on", "-id")[:AGREEMENTS])
    for agreement in agreements:
        agreement.expired = agreement.expires_on is not None and agreement.expires_on < today

    facilities = list(facility_list().filter(country=country).order_by("name"))
    for facility in facilities:
        phases = list(facility.phases.all())
        facility.mw_total = sum((p.power_mw for p in phases), Decimal(0))
        facility.mw_operational = sum((p.power_mw for p in phases if p.state == CapacityPhase.State.ACTUAL), Decimal(0))
        facility.accelerators = sum(p.accelerator_count for p in phases)

    announcements = list(
        announcement_selectors.announcement_list(user=user)
        .filter(announcement_policies.published_q(now), countries=country)
        .prefetch_related(None)
        .order_by("-published_at", "-id")[:ANNOUNCEMENTS]
    )

    dates = []
    for cell in cells:
        if cell.next_step and cell.next_step_due and today <= cell.next_step_due <= ahead:
            dates.append(DateAhead(cell.next_step_due, f"{cell.track.name}: {cell.next_step}", "next_step", cell))
        if cell.resume_on and today <= cell.resume_on <= ahead and cell.health == Health.PAUSED:
            dates.append(DateAhead(cell.resume_on, _("%(track)s resumes") % {"track": cell.track.name}, "resume", cell))
    for follow_up in follow_ups:
        if not follow_up.overdue and follow_up.due_on <= ahead:
            dates.append(DateAhead(follow_up.due_on, follow_up.description, "follow_up", follow_up))
    for agreement in agreements:
        if agreement.expires_on and today <= agreement.expires_on <= ahead:
            dates.append(
                DateAhead(agreement.expires_on, _("%(title)s expires") % {"title": agreement.title}, "agreement", agreement)
            )
    for facility in facilities:
        for phase in facility.phases.all():
            if phase.state != CapacityPhase.State.ACTUAL and today <= phase.online_on <= ahead:
                what = _("%(facility)s, %(phase)s online") % {"facility": facility.name, "phase": phase.name}
                dates.append(DateAhead(phase.online_on, what, "facility", facility))
    dates.sort(key=lambda d: d.on)

    status = getattr(country, "status", None)
    reasons = []
    if status is not None and HEALTH_RANK.get(status.worst_health, 0) > HEALTH_RANK[Health.ON_TRACK]:
        reasons = [cell for cell in cells if cell.health == status.worst_health]

    return Briefing(
        country=country,
        status=status,
        partnership=getattr(country, "partnership", None),
        generated_at=now,
        today=today,
        cells=cells,
        counterparts=counterparts,
        show_contact_details=can_see_contact_details(user, country),
        engagements=engagements,
        follow_ups=follow_ups,
        open_follow_up_count=counts["open"],
        overdue_follow_up_count=counts["overdue"],
        agreements=agreements,
        facilities=facilities,
        announcements=announcements,
        dates_ahead=dates[:DATES_AHEAD],
        health_reasons=reasons,
        can_write=user_can_write_country(user, country),
        writes_announcements=announcement_policies.can_write_announcements(user),
    )
