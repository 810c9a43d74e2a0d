"""The dashboards' reads: each returns plain rows in a fixed number of queries, however many countries.

The matrix and the funnels can be rebuilt for any past date from the stage history (``as_of``): the
stage of each country-track is the last change recorded up to that day, and its health is computed by
the same rule as the nightly rollup (``partnerships.rollup.track_health``) from the engagements and
follow-ups as they stood that day.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncQuarter
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from announcements import policies as announcement_policies
from announcements.selectors import announcement_list
from core import roles
from core.i18n import is_french, name_order, sort_key
from countries.models import HEALTH_RANK, Country, Health, LiaisonAssignment
from countries.regions import Region
from engagements import policies as engagement_policies
from engagements.models import Agreement, Engagement, FollowUp
from engagements.selectors import newest_link_on_track
from infrastructure.models import CapacityPhase, Facility
from partnerships.models import CountryTrack, StageChange
from partnerships.policies import next_step_is_overdue, next_step_overdue_q, readiness
from partnerships.rollup import track_health
from tracks.models import Stage, Track

ATTENTION_AGREEMENT_DAYS = 90
MOVEMENT_WINDOWS = (30, 90)
TREND_WEEKS = 26


@dataclass(slots=True)
class Cell:
    """One country-track on a given day (``css``: the stage chip's class, set by the page that shows it)."""

    track: Track
    stage: Stage
    ladder_position: int
    health: str
    since: datetime.date
    days_in_stage: int
    resume_on: datetime.date | None = None
    css: str = ""

    @property
    def health_label(self) -> str:
        return Health(self.health).label


@dataclass(slots=True)
class MatrixCountry:
    """The few facts of a country the matrix shows, read as plain values (a model instance per row costs more
    than the row's HTML)."""

    pk: int
    iso2: str
    name: str
    region: str


@dataclass(slots=True)
class Row:
    """One country of the matrix: its cells in track order (None where the track is not open)."""

    country: MatrixCountry
    cells: list
    readiness: Decimal
    last_engagement_on: datetime.date | None


@dataclass
class MatrixFilters:
    region: str = ""
    track: str = ""
    stage: str = ""
    health: str = ""
    liaison: int | None = None
    order: str = "name"
    as_of: datetime.date | None = None
    reason: str = ""  # needs attention only


def _end_of_day(day: datetime.date) -> datetime.datetime:
    """The first instant after ``day`` in the portal's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min))


def active_tracks() -> list[Track]:
    return list(Track.objects.filter(is_active=True).order_by("position", "key"))


def stage_map() -> dict[int, Stage]:
    return {stage.pk: stage for stage in Stage.objects.all()}


def ladder_tops(stages: dict[int, Stage]) -> dict[int, int]:
    tops = defaultdict(int)
    for stage in stages.values():
        if stage.kind == Stage.Kind.LADDER:
            tops[stage.track_id] = max(tops[stage.track_id], stage.position)
    return tops


def cells_on(tracks, stages, *, as_of: datetime.date | None, today: datetime.date | None = None) -> dict[int, dict[int, Cell]]:
    """Today's cells (from the rollup) or, given ``as_of``, the cells rebuilt for that day."""
    today = today or timezone.localdate()
    return _cells_as_of(tracks, stages, as_of) if as_of else _current_cells(tracks, stages, today)


def _current_cells(tracks, stages, today) -> dict[int, dict[int, Cell]]:
    """{country_id: {track_id: Cell}} from the rollup's figures on CountryTrack."""
    by_track = {t.pk: t for t in tracks}
    cells = defaultdict(dict)
    rows = (
        CountryTrack.objects.filter(track_id__in=by_track)
        .order_by()
        .values_list("country_id", "track_id", "stage_id", "ladder_stage_id", "health", "stage_changed_at", "resume_on")
    )
    zone = timezone.get_current_timezone()  # once: timezone.localdate() looks the zone up on every call
    for country_id, track_id, stage_id, ladder_stage_id, health, changed_at, resume_on in rows:
        since = changed_at.astimezone(zone).date()
        cells[country_id][track_id] = Cell(
            by_track[track_id], stages[stage_id], stages[ladder_stage_id].position, health, since, (today - since).days, resume_on
        )
    return cells


def _cells_as_of(tracks, stages, day) -> dict[int, dict[int, Cell]]:
    """{country_id: {track_id: Cell}} as they stood at the end of ``day``, rebuilt from the stage history."""
    by_track = {t.pk: t for t in tracks}
    cut = _end_of_day(day)
    changes = StageChange.objects.filter(country_track=OuterRef("pk"), changed_at__lt=cut).order_by("-changed_at", "-id")
    then = {
        "then_stage": Subquery(changes.values("to_stage_id")[:1]),
        "then_since": Subquery(changes.values("changed_at")[:1]),
        "then_ladder": Subquery(changes.filter(to_stage__kind=Stage.Kind.LADDER).values("to_stage_id")[:1]),
    }
    # The last activity on each track up to the day, read only as far back as any stage's "stalled after": an
    # older engagement stalls the track as surely as none at all (``track_health``).
    windows = [s.stalled_after_days for s in stages.values() if s.stalled_after_days is not None]
    if windows:
        then["then_last_activity"] = newest_link_on_track(
            engagement_policies.in_activity_q("engagement__"),
            on_or_after=day - datetime.timedelta(days=max(windows)),
            on_or_before=day,
        )
    rows = (
        CountryTrack.objects.filter(track_id__in=by_track)
        .annotate(**then)
        .order_by()  # the cells are keyed, not listed: no join of the countries' names to sort them
        .values("country_id", "track_id", *then)
    )
    overdue = {
        (r["country_id"], r["track_id"]): r["n"]
        for r in FollowUp.objects.filter(engagement_policies.follow_up_live_q())
        .filter(track__isnull=False, due_on__lt=day, created_at__lt=cut)
        .filter(Q(done_at__isnull=True) | Q(done_at__gte=cut))
        .values("country_id", "track_id")
        .annotate(n=Count("id"))
    }
    cells = defaultdict(dict)
    zone = timezone.get_current_timezone()  # once, as in _current_cells
    for row in rows:
        # Not in the programme yet on that day. Skipped here: a filter in SQL would run the stage subquery twice.
        if row["then_stage"] is None:
            continue
        stage = stages[row["then_stage"]]
        ladder = stages.get(row["then_ladder"]) or stage
        since = row["then_since"].astimezone(zone).date()
        key = (row["country_id"], row["track_id"])
        cells[row["country_id"]][row["track_id"]] = Cell(
            track=by_track[row["track_id"]],
            stage=stage,
            ladder_position=ladder.position if ladder.kind == Stage.Kind.LADDER else 0,
            health=track_health(
                stage=stage,
                stage_changed_on=since,
                last_engagement_on=row.get("then_last_activity"),
                overdue=overdue.get(key, 0),
                today=day,
            ),
            since=since,
            days_in_stage=(day - since).days,
        )
    return cells


def _readiness(cells: dict[int, Cell], tracks, tops) -> Decimal:
    """Share of the ladder climbed across the active tracks, in per cent (``partnerships.policies.readiness``)."""
    climbs = [
        (cell.ladder_position, tops.get(cell.track.pk) or 1, cell.stage.kind == Stage.Kind.WITHDRAWN) for cell in cells.values()
    ]
    return readiness(climbs, len(tracks))


MATRIX_ORDERS = ("name", "-readiness", "region", "-last_engagement")


def matrix(filters: MatrixFilters, *, today: datetime.date | None = None) -> dict:
    """The pipeline matrix: one row per country in the programme, one column per track (or the filtered track)."""
    today = today or timezone.localdate()
    day = filters.as_of or today
    tracks = active_tracks()
    stages = stage_map()
    tops = ladder_tops(stages)
    cells = cells_on(tracks, stages, as_of=filters.as_of, today=today)
    columns = [t for t in tracks if t.key == filters.track] if filters.track else tracks

    countries = Country.objects.all()  # at most 249 rows: those without a cell are skipped below (cheaper than IN)
    if filters.region:
        countries = countries.filter(region=filters.region)
    if filters.liaison:
        countries = countries.filter(liaison_assignments__user_id=filters.liaison)
    french = is_french()
    countries = countries.values_list(
        "pk", "iso2", "name_fr" if french else "name_en", "name_en", "region", "status__readiness", "status__last_engagement_on"
    )
    if filters.as_of:
        # Each country's last published engagement up to the day, walked newest first on the country's index.
        last_published = (
            Engagement.objects.filter(engagement_policies.in_published_figures_q())
            .filter(country_id=OuterRef("pk"), occurred_on__lte=day)
            .order_by("-occurred_on", "-id")
            .values("occurred_on")[:1]
        )
        last_engagement = dict(Country.objects.annotate(last=Subquery(last_published)).values_list("pk", "last"))

    rows = []
    for pk, iso2, name, name_en, region, status_readiness, status_last in countries:
        by_track = cells.get(pk)
        if by_track is None:
            continue
        shown = [by_track.get(t.pk) for t in columns]
        if filters.stage or filters.health:
            wanted = [
                c
                for c in shown
                if c is not None
                and (not filters.stage or c.stage.key == filters.stage)
                and (not filters.health or c.health == filters.health)
            ]
            if not wanted:
                continue
        if filters.as_of:
            readiness, last = _readiness(by_track, tracks, tops), last_engagement.get(pk)
        elif status_readiness is not None:  # the rollup's figures (a country it has not reached yet has none)
            readiness, last = status_readiness, status_last
        else:
            readiness, last = _readiness(by_track, tracks, tops), None
        rows.append(Row(MatrixCountry(pk, iso2, name or name_en, region), shown, readiness, last))

    name = lambda row: sort_key(row.country.name)  # noqa: E731 - the reader's language, accents set aside
    if filters.order == "-readiness":
        rows.sort(key=lambda r: (-r.readiness, name(r)))
    elif filters.order == "region":
        regions = {code: sort_key(str(label)) for code, label in Region.choices}
        rows.sort(key=lambda r: (regions.get(r.country.region, "~"), name(r)))
    elif filters.order == "-last_engagement":
        rows.sort(key=lambda r: (r.last_engagement_on is None, -(r.last_engagement_on or today).toordinal(), name(r)))
    else:
        rows.sort(key=name)
    return {"tracks": columns, "all_tracks": tracks, "rows": rows, "day": day, "stages": stages, "cells": cells}


def funnels(cells_by_country: dict, tracks, stages: dict[int, Stage]) -> list[dict]:
    """Per track: how many countries stand at each ladder stage, and how many are paused or withdrawn."""
    counts = defaultdict(lambda: defaultdict(int))
    for by_track in cells_by_country.values():
        for track_id, cell in by_track.items():
            counts[track_id][cell.stage.pk] += 1
    result = []
    for track in tracks:
        ladder = sorted((s for s in stages.values() if s.track_id == track.pk), key=lambda s: s.position)
        steps = [{"stage": s, "count": counts[track.pk].get(s.pk, 0)} for s in ladder]
        total = sum(step["count"] for step in steps)
        for step in steps:
            step["share"] = round(100 * step["count"] / total) if total else 0
        result.append({"track": track, "steps": steps, "total": total})
    return result


def movement(tracks, *, day: datetime.date, region: str = "") -> dict[int, dict]:
    """Per track, over the 30 and 90 days up to ``day``: moves forward and back on the ladder, and new pauses."""
    cut = _end_of_day(day)
    ladder = Stage.Kind.LADDER
    forward = Q(from_stage__kind=ladder, to_stage__kind=ladder, to_stage__position__gt=F("from_stage__position"))
    back = Q(from_stage__kind=ladder, to_stage__kind=ladder, to_stage__position__lt=F("from_stage__position"))
    paused = Q(to_stage__kind=Stage.Kind.PAUSED)
    aggregates = {}
    for days in MOVEMENT_WINDOWS:
        window = Q(changed_at__gte=cut - datetime.timedelta(days=days))
        aggregates[f"forward_{days}"] = Count("id", filter=window & forward)
        aggregates[f"back_{days}"] = Count("id", filter=window & back)
        aggregates[f"paused_{days}"] = Count("id", filter=window & paused)
    oldest = cut - datetime.timedelta(days=max(MOVEMENT_WINDOWS))
    changes = StageChange.objects.filter(changed_at__lt=cut, changed_at__gte=oldest, from_stage__isnull=False)
    if region:
        changes = changes.filter(country_track__country__region=region)
    rows = changes.values("country_track__track_id").annotate(**aggregates)
    empty = dict.fromkeys(aggregates, 0)
    found = {row.pop("country_track__track_id"): row for row in rows}
    return {track.pk: found.get(track.pk, empty) for track in tracks}


class AttentionReason:
    """Why a track needs a look: the keys of the reason filter and of the counts above the table."""

    STALLED = "stalled"
    FOLLOW_UPS = "follow_ups"
    NEXT_STEP = "next_step"
    CHOICES = (
        (STALLED, _("No engagement for too long")),
        (FOLLOW_UPS, _("Overdue follow-ups")),
        (NEXT_STEP, _("Next step past its date")),
    )


def _attention_reasons(ct, today) -> list[str]:
    reasons = []
    if ct.health == Health.STALLED:
        reasons.append(AttentionReason.STALLED)
    if ct.overdue_follow_ups or ct.health == Health.AT_RISK:
        reasons.append(AttentionReason.FOLLOW_UPS)
    if next_step_is_overdue(ct, today):
        reasons.append(AttentionReason.NEXT_STEP)
    return reasons


def attention(
    *, today: datetime.date | None = None, region: str = "", track: str = "", liaison: int | None = None, reason: str = ""
) -> dict:
    """What needs a look: the tracks that are stalled, at risk or past the date of their next step (each with its
    reasons, its country's liaisons and the counts per reason), paused tracks, agreements expiring soon. Filtered by
    region, track, liaison (of the country) and reason; the counts are those of the other filters, so each says
    what choosing that reason would show."""
    today = today or timezone.localdate()
    base = CountryTrack.objects.filter(track__is_active=True).select_related("country", "track", "stage")
    agreements = Agreement.objects.filter(
        expires_on__gte=today, expires_on__lte=today + datetime.timedelta(days=ATTENTION_AGREEMENT_DAYS)
    ).select_related("country")
    if region:
        base = base.filter(country__region=region)
        agreements = agreements.filter(country__region=region)
    if track:
        base = base.filter(track__key=track)
        agreements = agreements.filter(tracks__key=track).distinct()
    if liaison:
        base = base.filter(country__liaison_assignments__user_id=liaison)
        agreements = agreements.filter(country__liaison_assignments__user_id=liaison)
    needing = Q(health__in=[Health.STALLED, Health.AT_RISK]) | Q(overdue_follow_ups__gt=0) | next_step_overdue_q(today)
    rows = []
    counts = dict.fromkeys((key for key, _label in AttentionReason.CHOICES), 0)
    for ct in base.filter(needing).order_by(name_order("country__"), "track__position"):
        ct.reasons = _attention_reasons(ct, today)
        if not ct.reasons:
            continue
        for key in ct.reasons:
            counts[key] += 1
        if reason and reason not in ct.reasons:
            continue
        last_activity = max(filter(None, [ct.last_engagement_on, timezone.localdate(ct.stage_changed_at)]))
        ct.quiet_days = (today - last_activity).days
        ct.threshold = ct.stage.stalled_after_days
        rows.append(ct)
    rows.sort(key=lambda ct: (-HEALTH_RANK[ct.health], -ct.quiet_days, sort_key(ct.country.name)))
    paused = list(base.filter(stage__kind=Stage.Kind.PAUSED).order_by("resume_on", name_order("country__")))
    liaisons = defaultdict(list)
    country_ids = {ct.country_id for ct in rows} | {ct.country_id for ct in paused}
    assignments = LiaisonAssignment.objects.filter(country_id__in=country_ids).select_related("user")
    for assignment in assignments.order_by("user__first_name", "user__last_name", "user__username"):
        liaisons[assignment.country_id].append(assignment.user)
    for ct in (*rows, *paused):
        ct.liaisons = liaisons.get(ct.country_id, [])
    return {
        "troubled": rows,
        "reason_counts": [(key, label, counts[key]) for key, label in AttentionReason.CHOICES],
        "paused": paused,
        "agreements": list(agreements.order_by("expires_on", name_order("country__"))),
        "today": today,
        "agreement_days": ATTENTION_AGREEMENT_DAYS,
    }


# --- infrastructure ----------------------------------------------------------------------------

CAPACITY_STATES = ("planned", "under_construction", "operational")


def _capacity_sums():
    """Conditional sums splitting capacity phases into planned, under construction and operational."""
    operational = Q(state=CapacityPhase.State.ACTUAL)
    building = Q(state=CapacityPhase.State.PLANNED, facility__status=Facility.Status.UNDER_CONSTRUCTION)
    planned = Q(state=CapacityPhase.State.PLANNED) & ~Q(facility__status=Facility.Status.UNDER_CONSTRUCTION)
    sums = {}
    for name, condition in (("planned", planned), ("under_construction", building), ("operational", operational)):
        sums[f"mw_{name}"] = Sum("power_mw", filter=condition, default=Decimal(0))
        sums[f"h100_{name}"] = Sum("h100_equivalents", filter=condition, default=Decimal(0))
    return sums


def live_phases(region: str = ""):
    phases = CapacityPhase.objects.exclude(facility__status=Facility.Status.CANCELLED)
    return phases.filter(facility__country__region=region) if region else phases


def capacity(*, region: str = "") -> dict:
    """MW and H100-equivalents planned, under construction and operational: in total, by region and by country."""
    by_country = list(
        live_phases(region)
        .values("facility__country_id", "facility__country__name_en", "facility__country__iso2", "facility__country__region")
        .annotate(**_capacity_sums())
        .order_by("facility__country__name_en")
    )
    countries = {c.pk: c for c in Country.objects.filter(pk__in=[r["facility__country_id"] for r in by_country])}
    keys = [f"{unit}_{state}" for state in CAPACITY_STATES for unit in ("mw", "h100")]
    total = dict.fromkeys(keys, Decimal(0))
    regions = {}
    for row in by_country:
        row["country"] = countries[row["facility__country_id"]]
        region_row = regions.setdefault(
            row["facility__country__region"],
            {"region": row["country"].get_region_display() or "—", **dict.fromkeys(keys, Decimal(0))},
        )
        for key in keys:
            total[key] += row[key]
            region_row[key] += row[key]
    by_country.sort(key=lambda r: sort_key(r["country"].name))
    return {"total": total, "by_region": sorted(regions.values(), key=lambda r: r["region"]), "by_country": by_country}


def capacity_by_quarter(*, region: str = "") -> list[dict]:
    """MW coming online per quarter (planned and already online), oldest first."""
    rows = (
        live_phases(region)
        .annotate(quarter=TruncQuarter("online_on"))
        .values("quarter")
        .annotate(
            planned=Sum("power_mw", filter=Q(state=CapacityPhase.State.PLANNED), default=Decimal(0)),
            online=Sum("power_mw", filter=Q(state=CapacityPhase.State.ACTUAL), default=Decimal(0)),
        )
        .order_by("quarter")
    )
    result = []
    for row in rows:
        quarter = row["quarter"]
        if isinstance(quarter, datetime.datetime):
            quarter = quarter.date()
        result.append(
            {
                "quarter": quarter,
                "label": f"{quarter.year} Q{(quarter.month - 1) // 3 + 1}",
                **{k: row[k] for k in ("planned", "online")},
            }
        )
    return result


def facility_list(*, region: str = "", status: str = ""):
    facilities = (
        Facility.objects.select_related("country")
        .prefetch_related("partner_roles__organisation")
        .annotate(
            mw=Sum("phases__power_mw", default=Decimal(0)),
            h100=Sum("phases__h100_equivalents", default=Decimal(0)),
        )
        .order_by(name_order("country__"), "name")
    )
    if region:
        facilities = facilities.filter(country__region=region)
    if status:
        facilities = facilities.filter(status=status)
    return facilities


# --- trend and announcements -------------------------------------------------------------------


def trend(track: Track, stages: dict[int, Stage], *, day: datetime.date, weeks: int = TREND_WEEKS) -> dict:
    """Countries per stage of ``track`` at the end of each of the last ``weeks`` weeks up to ``day``."""
    ends = [day - datetime.timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    changes = (
        StageChange.objects.filter(country_track__track=track, changed_at__lt=_end_of_day(day))
        .order_by("changed_at", "id")
        .values_list("country_track_id", "changed_at", "to_stage_id")
    )
    state = {}
    series = []
    changes = iter(changes)
    pending = next(changes, None)
    for end in ends:
        cut = _end_of_day(end)
        while pending is not None and pending[1] < cut:
            state[pending[0]] = pending[2]
            pending = next(changes, None)
        counts = defaultdict(int)
        for stage_id in state.values():
            counts[stage_id] += 1
        series.append({"week": end, "counts": counts})
    ordered = sorted((s for s in stages.values() if s.track_id == track.pk), key=lambda s: s.position)
    rows = [{"week": point["week"], "values": [point["counts"].get(s.pk, 0) for s in ordered]} for point in series]
    return {"track": track, "stages": ordered, "series": series, "rows": rows}


def latest_announcements(*, user, limit: int = 10):

    return list(
        announcement_list(user=user)
        .filter(announcement_policies.published_q())
        .prefetch_related(None)
        .prefetch_related("countries")
        .order_by("-published_at", "-id")[:limit]
    )


def liaison_choices():
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=roles.LIAISON)
        .order_by("first_name", "last_name", "username")
        .distinct()
    )
