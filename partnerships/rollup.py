"""The status rollup: per-track health onto CountryTrack, country figures onto countries.CountryStatus.

It is set-based: a fixed handful of aggregate queries over the whole tables, whatever the number
of countries, then two bulk writes. Running it twice gives the same figures.

Health of a country-track:
- not started or withdrawn: not active;
- paused: paused;
- no engagement on the track (nor a stage move) for longer than its stage's threshold: stalled;
- an overdue follow-up on the track: at risk;
- otherwise on track.
Stalled wins over at risk because it is the worse of the two.

Confidential engagements count as activity for health (a track is not stalled because its last
meeting was confidential), but the figures everyone may read (engagement counts and dates,
follow-up counts) include only normal engagements and their follow-ups, so the status never
reveals a confidential engagement.
"""

import contextlib
import contextvars
import datetime
import logging
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from core import catalogue
from core.events import emit_many
from countries.models import HEALTH_RANK, CountryStatus, Health
from countries.status_cache import status_changed
from engagements import policies as engagement_policies
from engagements.models import Engagement, FollowUp
from engagements.selectors import newest_link_on_track
from infrastructure.models import CapacityPhase, Facility
from tracks.models import Stage, Track

from . import policies
from .models import CountryTrack, Partnership, RollupRequest

logger = logging.getLogger(__name__)

ALERT_HEALTH = (Health.STALLED, Health.AT_RISK)
CT_FIGURES = ["health", "last_engagement_on", "open_follow_ups", "overdue_follow_ups"]
CT_FIELDS = [*CT_FIGURES, "health_computed_at"]
STATUS_FIELDS = [
    "furthest_stage_key",
    "furthest_stage_name",
    "furthest_stage_position",
    "readiness",
    "worst_health",
    "engagement_count",
    "last_engagement_on",
    "open_follow_ups",
    "overdue_follow_ups",
    "mw_planned",
    "mw_operational",
    "tracks",
    "computed_at",
]


def track_health(*, stage: Stage, stage_changed_on: datetime.date, last_engagement_on, overdue: int, today) -> str:
    if stage.kind == Stage.Kind.WITHDRAWN or (stage.kind == Stage.Kind.LADDER and stage.position == 0):
        return Health.INACTIVE
    if stage.kind == Stage.Kind.PAUSED:
        return Health.PAUSED
    last_activity = max(filter(None, [last_engagement_on, stage_changed_on]))
    if stage.stalled_after_days is not None and (today - last_activity).days > stage.stalled_after_days:
        return Health.STALLED
    if overdue:
        return Health.AT_RISK
    return Health.ON_TRACK


@transaction.atomic
def rollup_countries(country_ids=None, *, now: datetime.datetime | None = None) -> int:
    """Recompute the status of the given countries (all partnership countries when None). Returns how many."""
    now = now or timezone.now()
    today = timezone.localdate(now)

    def scoped(qs, field="country_id"):
        return qs if country_ids is None else qs.filter(**{f"{field}__in": list(country_ids)})

    partner_country_ids = set(scoped(Partnership.objects.all()).values_list("country_id", flat=True))
    if not partner_country_ids:
        return 0

    tracks = list(Track.objects.filter(is_active=True).order_by("position", "key"))
    ladder_top = dict(
        Stage.objects.filter(kind=Stage.Kind.LADDER)
        .values("track_id")
        .annotate(top=Max("position"))
        .values_list("track_id", "top")
    )

    # Each track's last activity and last published engagement: the newest link to it that each rule counts. At
    # 1,000,000 engagements the full rollup with nothing changed took 1.26 s grouping every link through the
    # engagements, 0.76 s this way (docs/benchmarks.md).
    country_tracks = list(
        scoped(CountryTrack.objects.filter(track__is_active=True))
        .select_related("track", "stage", "ladder_stage")
        .annotate(
            found_last_activity=newest_link_on_track(engagement_policies.in_activity_q("engagement__")),
            found_last_published=newest_link_on_track(engagement_policies.in_published_figures_q("engagement__")),
        )
    )
    open_fu = scoped(FollowUp.objects.filter(engagement_policies.follow_up_live_q(), done_at__isnull=True))
    published_follow_up = engagement_policies.follow_up_in_published_figures_q()
    # Health counts every overdue follow-up; the published counts leave out those of confidential engagements.
    fu_by_track = {
        (row["country_id"], row["track_id"]): (row["open"], row["overdue"], row["overdue_all"])
        for row in open_fu.values("country_id", "track_id").annotate(
            open=Count("id", filter=published_follow_up),
            overdue=Count("id", filter=Q(due_on__lt=today) & published_follow_up),
            overdue_all=Count("id", filter=Q(due_on__lt=today)),
        )
    }
    fu_by_country = defaultdict(lambda: [0, 0])
    for (country_id, _track_id), (n_open, n_overdue, _all) in fu_by_track.items():
        fu_by_country[country_id][0] += n_open
        fu_by_country[country_id][1] += n_overdue
    engagements = {
        row["country_id"]: (row["n"], row["last"])
        for row in scoped(Engagement.objects.filter(engagement_policies.in_published_figures_q()))
        .values("country_id")
        .annotate(n=Count("id"), last=Max("occurred_on"))
    }
    capacity = {
        row["facility__country_id"]: (row["planned"] or Decimal(0), row["operational"] or Decimal(0))
        for row in scoped(CapacityPhase.objects.exclude(facility__status=Facility.Status.CANCELLED), "facility__country_id")
        .values("facility__country_id")
        .annotate(
            planned=Sum("power_mw", filter=Q(state=CapacityPhase.State.PLANNED)),
            operational=Sum("power_mw", filter=Q(state=CapacityPhase.State.ACTUAL)),
        )
    }

    cts_by_country = defaultdict(dict)
    worsened = []
    changed = []
    for ct in country_tracks:
        previous_health = ct.health
        before = tuple(getattr(ct, field) for field in CT_FIGURES)
        n_open, n_overdue, n_overdue_all = fu_by_track.get((ct.country_id, ct.track_id), (0, 0, 0))
        ct.last_engagement_on = ct.found_last_published
        ct.open_follow_ups, ct.overdue_follow_ups = n_open, n_overdue
        ct.health = track_health(
            stage=ct.stage,
            stage_changed_on=timezone.localdate(ct.stage_changed_at),
            last_engagement_on=ct.found_last_activity,
            overdue=n_overdue_all,
            today=today,
        )
        ct.health_computed_at = now
        if tuple(getattr(ct, field) for field in CT_FIGURES) != before:
            changed.append(ct)
        if ct.health in ALERT_HEALTH and ct.health != previous_health:
            worsened.append((ct, previous_health))
        cts_by_country[ct.country_id][ct.track_id] = ct
    # Only the tracks whose figures moved are written value by value (bulk_update builds a CASE per row and field,
    # which dominated a full rollup); the others only get the time of this computation.
    CountryTrack.objects.bulk_update(changed, CT_FIELDS, batch_size=500)
    changed_ids = {ct.pk for ct in changed}
    unchanged = [ct.pk for ct in country_tracks if ct.pk not in changed_ids]
    if unchanged:
        CountryTrack.objects.filter(pk__in=unchanged).update(health_computed_at=now)
    if worsened:
        # A track that falls stalled or at risk (often by the passing of time alone) is news for its people.
        emit_many(
            [
                {
                    "kind": catalogue.TRACK_HEALTH_CHANGED,
                    "subject": ct,
                    "country_id": ct.country_id,
                    "payload": {"track": ct.track.key, "from": previous_health, "to": ct.health},
                }
                for ct, previous_health in worsened
            ]
        )

    statuses = []
    for country_id in sorted(partner_country_ids):
        cells = cts_by_country.get(country_id, {})
        climbs, furthest, worst, per_track = [], None, Health.INACTIVE, []
        for track in tracks:
            ct = cells.get(track.pk)
            if ct is None:
                continue
            withdrawn = ct.stage.kind == Stage.Kind.WITHDRAWN
            climbs.append((ct.ladder_stage.position, ladder_top.get(track.pk) or 1, withdrawn))
            if not withdrawn and (furthest is None or ct.ladder_stage.position > furthest.position):
                furthest = ct.ladder_stage
            if HEALTH_RANK[ct.health] > HEALTH_RANK[worst]:
                worst = ct.health
            per_track.append(
                {
                    "track": track.key,
                    "stage": ct.stage.key,
                    "stage_position": ct.ladder_stage.position,
                    "health": ct.health,
                    "days_in_stage": (today - timezone.localdate(ct.stage_changed_at)).days,
                    "last_engagement_on": ct.last_engagement_on.isoformat() if ct.last_engagement_on else None,
                    "open_follow_ups": ct.open_follow_ups,
                    "overdue_follow_ups": ct.overdue_follow_ups,
                    "resume_on": ct.resume_on.isoformat() if ct.resume_on else None,
                }
            )
        n_engagements, last_engagement = engagements.get(country_id, (0, None))
        n_open, n_overdue = fu_by_country.get(country_id, (0, 0))
        planned, operational = capacity.get(country_id, (Decimal(0), Decimal(0)))
        statuses.append(
            CountryStatus(
                country_id=country_id,
                furthest_stage_key=furthest.key if furthest else "",
                furthest_stage_name=furthest.name_en if furthest else "",
                furthest_stage_position=furthest.position if furthest else 0,
                readiness=policies.readiness(climbs, len(tracks)),
                worst_health=worst,
                engagement_count=n_engagements,
                last_engagement_on=last_engagement,
                open_follow_ups=n_open,
                overdue_follow_ups=n_overdue,
                mw_planned=planned,
                mw_operational=operational,
                tracks=per_track,
                computed_at=now,
            )
        )
    CountryStatus.objects.bulk_create(
        statuses, update_conflicts=True, unique_fields=["country"], update_fields=STATUS_FIELDS, batch_size=500
    )
    status_changed()  # and the portal's data version: health, last engagements and follow-ups of the tracks
    return len(statuses)


def rollup_country(*, country_id: int, now: datetime.datetime | None = None) -> CountryStatus | None:
    """Recompute one country's status synchronously and return it (None if it has no partnership)."""
    rollup_countries([country_id], now=now)
    return CountryStatus.objects.filter(country_id=country_id).first()


# Events the rollup itself (or a reminder) raises: they change no figure, so they request no rollup.
NO_ROLLUP_KINDS = (catalogue.TRACK_HEALTH_CHANGED, catalogue.FOLLOW_UP_REMINDER)


def handle_event(event) -> None:
    """Outbox handler: an event that touches countries asks for their status to be recomputed.

    The request is a row per country; one task, enqueued after commit, recomputes every requested
    country at once, so many changes in a burst cost one rollup.
    """
    if event.kind in NO_ROLLUP_KINDS:
        return
    ids = set(event.payload.get("country_ids", [])) if isinstance(event.payload, dict) else set()
    if event.country_id:
        ids.add(event.country_id)
    if not ids:
        return
    existing = set(Partnership.objects.filter(country_id__in=ids).values_list("country_id", flat=True))
    if not existing:
        return
    RollupRequest.objects.bulk_create([RollupRequest(country_id=i) for i in existing], ignore_conflicts=True)
    if not _coalescing.get():
        transaction.on_commit(enqueue_requested_rollups)


_coalescing = contextvars.ContextVar("partnerships_rollup_coalescing", default=False)


@contextlib.contextmanager
def rollups_coalesced():
    """Inside the block, events still request their countries' rollup (a row per country) but start none; at the
    end every requested country is recomputed once, together: a bulk import's thousands of events cost one rollup
    per country."""
    token = _coalescing.set(True)
    try:
        yield
    finally:
        _coalescing.reset(token)
    run_requested_rollups()


def enqueue_requested_rollups() -> None:
    from django.conf import settings

    from core.broker import safe_enqueue

    from .tasks import rollup_requested

    # If the broker is down, the per-minute beat task runs the requested rollups.
    safe_enqueue(rollup_requested, countdown=settings.ROLLUP_COALESCE_SECONDS)


def run_requested_rollups() -> int:
    """Recompute every country whose status was requested; rows taken under lock, skipping locked ones."""
    with transaction.atomic():
        requests = RollupRequest.objects.select_for_update(skip_locked=True)
        ids = list(requests.values_list("country_id", flat=True))
        if not ids:
            return 0
        RollupRequest.objects.filter(country_id__in=ids).delete()
        return rollup_countries(ids)
