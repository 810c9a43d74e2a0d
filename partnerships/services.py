"""Every write to partnership data. Each service checks who acts, validates, writes history and
emits an outbox event, in one transaction. Views, the API, admin actions and tasks call these.
"""

import datetime
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core.changes import apply_changes
from core.conflicts import ensure_version
from core.events import emit
from countries.models import Counterpart, Country
from countries.selectors import ensure_can_write_country, ensure_programme_staff, user_can_write_country

from .defaults import create_default_stages
from .models import (
    Agreement,
    Announcement,
    AnnouncementRevision,
    CountryTrack,
    Engagement,
    FollowUp,
    Partnership,
    Stage,
    StageChange,
    Track,
)
from .rollup import rollup_countries, rollup_country  # noqa: F401  (re-exported: the rollup is a service)
from .selectors import published_announcements_q

# --- tracks and partnerships ------------------------------------------------------------------


@transaction.atomic
def track_create(*, actor, key: str, name_en: str, name_fr: str = "", description: str = "") -> Track:
    """Add a track (for example reindustrialisation) with the default ladder, for every partnership."""
    ensure_programme_staff(actor)
    position = (Track.objects.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    track = Track(key=key, name_en=name_en, name_fr=name_fr, description=description, position=position)
    track.full_clean()
    track.save()
    stages = create_default_stages(Stage, track)
    start = stages[0]
    now = timezone.now()
    country_ids = []
    for partnership in Partnership.objects.select_related("country"):
        _country_track_open(actor=actor, country=partnership.country, track=track, start=start, now=now)
        country_ids.append(partnership.country_id)
    # Every country's readiness is now shared over one more track: recompute them all.
    emit(kind="track.created", subject=track, actor=actor, payload={"key": track.key, "country_ids": country_ids})
    return track


def _country_track_open(*, actor, country, track, start, now) -> CountryTrack:
    ct = CountryTrack.objects.create(country=country, track=track, stage=start, ladder_stage=start, stage_changed_at=now)
    StageChange.objects.create(country_track=ct, from_stage=None, to_stage=start, actor=actor, changed_at=now)
    return ct


@transaction.atomic
def partnership_create(
    *,
    actor,
    country: Country,
    started_on: datetime.date | None = None,
    status: str = Partnership.Status.PIPELINE,
    lead_liaison=None,
    notes: str = "",
) -> Partnership:
    """Bring a country into the programme: one partnership and one not-started cell per active track."""
    ensure_programme_staff(actor)
    if Partnership.objects.filter(country=country).exists():
        raise ValidationError(_("%(country)s is already in the programme.") % {"country": country})
    partnership = Partnership(
        country=country,
        started_on=started_on or timezone.localdate(),
        status=status,
        lead_liaison=lead_liaison,
        notes=notes,
    )
    partnership.full_clean()
    partnership.save()
    now = timezone.now()
    starts = {s.track_id: s for s in Stage.objects.filter(kind=Stage.Kind.LADDER, position=0)}
    for track in Track.objects.filter(is_active=True):
        if track.pk not in starts:
            raise ValidationError(
                _("Track “%(track)s” has no first stage on its ladder; give it one before adding countries.")
                % {"track": track.name}
            )
        _country_track_open(actor=actor, country=country, track=track, start=starts[track.pk], now=now)
    emit(kind="partnership.created", subject=partnership, actor=actor, country_id=country.pk, payload={"status": status})
    return partnership


@transaction.atomic
def partnership_update(*, actor, partnership: Partnership, **fields) -> Partnership:
    ensure_can_write_country(actor, partnership.country)
    if "lead_liaison" in fields and fields["lead_liaison"] != partnership.lead_liaison:
        ensure_programme_staff(actor)
    changes = apply_changes(partnership, fields, allowed=("status", "lead_liaison", "started_on", "notes"))
    if changes:
        partnership.save()
        emit(
            kind="partnership.updated",
            subject=partnership,
            actor=actor,
            country_id=partnership.country_id,
            payload={"changes": changes},
        )
    return partnership


# --- stage moves --------------------------------------------------------------------------------


def _lock(country_track: CountryTrack, expected_version: int | None = None) -> CountryTrack:
    """Re-read the cell under a row lock so two moves at once cannot both apply.

    The lock query has no joins: on PostgreSQL a joined FOR UPDATE would lock the track and stage
    rows too (serialising every move of a track in every country) and can lose the row when a
    concurrent move changed its stage. The related rows are read once the lock is held.

    With ``expected_version`` (the version the caller's form or ETag was built from) a cell changed since is
    refused with a ``ConflictError`` that says where it stands now; the comparison is made here, under the lock.
    """
    ct = CountryTrack.objects.select_for_update().get(pk=country_track.pk)
    ct.stage = Stage.objects.get(pk=ct.stage_id)
    ct.ladder_stage = Stage.objects.get(pk=ct.ladder_stage_id)
    ct.track = Track.objects.get(pk=ct.track_id)
    ct.country = Country.objects.get(pk=ct.country_id)
    ensure_version(
        ct,
        expected_version,
        _(
            "Someone else changed this track while you were editing: it is now at stage “%(stage)s” "
            "(changed by %(user)s at %(when)s). Your change was not saved."
        ),
        stage=ct.stage.name,
    )
    return ct


def _ensure_active(ct: CountryTrack) -> None:
    if not ct.track.is_active:
        raise ValidationError(
            _("The track “%(track)s” is no longer active: its stages cannot change.") % {"track": ct.track.name}
        )


def _is_published(announcement: Announcement) -> bool:
    return Announcement.objects.filter(published_announcements_q(), pk=announcement.pk).exists()


def _check_evidence(country_track, *, engagement, agreement, announcement) -> None:
    errors = {}
    if engagement is not None and engagement.country_id != country_track.country_id:
        errors["evidence_engagement"] = _("The engagement given as evidence is with another country.")
    if agreement is not None and agreement.country_id != country_track.country_id:
        errors["evidence_agreement"] = _("The agreement given as evidence is with another country.")
    if announcement is not None and not announcement.countries.filter(pk=country_track.country_id).exists():
        errors["evidence_announcement"] = _("The announcement given as evidence does not name this country.")
    elif announcement is not None and not _is_published(announcement):
        # Evidence shows on the country page, which every reader sees: only what is already public may be cited.
        errors["evidence_announcement"] = _("Only a published announcement can be given as evidence.")
    if errors:
        raise ValidationError(errors)


def _record_move(*, actor, ct, to_stage, note, kind, engagement=None, agreement=None, announcement=None, payload=None):
    now = timezone.now()
    change = StageChange.objects.create(
        country_track=ct,
        from_stage=ct.stage,
        to_stage=to_stage,
        actor=actor,
        changed_at=now,
        note=note,
        evidence_engagement=engagement,
        evidence_agreement=agreement,
        evidence_announcement=announcement,
    )
    from_key = ct.stage.key
    ct.stage = to_stage
    if to_stage.kind == Stage.Kind.LADDER:
        ct.ladder_stage = to_stage
    ct.stage_changed_at = now
    ct.version += 1  # under the row lock: written in the same UPDATE as the move
    ct.save()
    emit(
        kind=kind,
        subject=ct,
        actor=actor,
        country_id=ct.country_id,
        payload={
            "track": ct.track.key,
            "from": from_key,
            "to": to_stage.key,
            "stage_change": change.pk,
            **(payload or {}),
        },
    )
    return change


@transaction.atomic
def country_track_move(
    *,
    actor,
    country_track: CountryTrack,
    to_stage: Stage,
    note: str = "",
    evidence_engagement: Engagement | None = None,
    evidence_agreement: Agreement | None = None,
    evidence_announcement: Announcement | None = None,
    expected_version: int | None = None,
) -> StageChange:
    """Move a track along its ladder. Backwards needs a note; paused tracks are resumed, not moved.

    ``expected_version`` (here and in the other writes of a cell): the version the caller read; a cell changed
    since is refused with a ``ConflictError``. Without it the last write wins.
    """
    ensure_can_write_country(actor, country_track.country)
    ct = _lock(country_track, expected_version)
    _ensure_active(ct)
    note = (note or "").strip()
    if to_stage.track_id != ct.track_id:
        raise ValidationError({"to_stage": _("“%(stage)s” is a stage of another track.") % {"stage": to_stage.name}})
    if to_stage.kind != Stage.Kind.LADDER:
        raise ValidationError(
            {"to_stage": _("Use pause or withdraw to put a track in the “%(stage)s” state.") % {"stage": to_stage.name}}
        )
    if ct.stage.kind == Stage.Kind.PAUSED:
        raise ValidationError({"to_stage": _("This track is paused: resume it before moving it to another stage.")})
    if to_stage.pk == ct.stage_id:
        raise ValidationError({"to_stage": _("The track is already at “%(stage)s”.") % {"stage": to_stage.name}})
    if ct.stage.kind == Stage.Kind.WITHDRAWN and not note:
        raise ValidationError({"note": _("Re-opening a withdrawn track needs a note saying why.")})
    if ct.stage.kind == Stage.Kind.LADDER and to_stage.position < ct.stage.position and not note:
        raise ValidationError(
            {
                "note": _("Moving back from “%(from)s” to “%(to)s” needs a note saying why.")
                % {"from": ct.stage.name, "to": to_stage.name}
            }
        )
    _check_evidence(ct, engagement=evidence_engagement, agreement=evidence_agreement, announcement=evidence_announcement)
    ct.pause_reason, ct.resume_on = "", None
    change = _record_move(
        actor=actor,
        ct=ct,
        to_stage=to_stage,
        note=note,
        kind="stage.moved",
        engagement=evidence_engagement,
        agreement=evidence_agreement,
        announcement=evidence_announcement,
    )
    _refresh(country_track, ct)
    return change


@transaction.atomic
def country_track_pause(
    *, actor, country_track: CountryTrack, reason: str, resume_on: datetime.date | None, expected_version: int | None = None
) -> StageChange:
    """Pause a track: needs a reason and a resume date in the future."""
    ensure_can_write_country(actor, country_track.country)
    ct = _lock(country_track, expected_version)
    _ensure_active(ct)
    reason = (reason or "").strip()
    errors = {}
    if ct.stage.kind != Stage.Kind.LADDER:
        raise ValidationError(_("Only a track on its ladder can be paused; this one is “%(stage)s”.") % {"stage": ct.stage.name})
    if not reason:
        errors["reason"] = _("Pausing a track needs a reason.")
    if resume_on is None:
        errors["resume_on"] = _("Pausing a track needs a date to resume it.")
    elif resume_on <= timezone.localdate():
        errors["resume_on"] = _("The resume date must be in the future.")
    if errors:
        raise ValidationError(errors)
    paused = Stage.objects.get(track_id=ct.track_id, kind=Stage.Kind.PAUSED)
    ct.pause_reason, ct.resume_on = reason, resume_on
    change = _record_move(
        actor=actor, ct=ct, to_stage=paused, note=reason, kind="stage.paused", payload={"resume_on": resume_on.isoformat()}
    )
    _refresh(country_track, ct)
    return change


@transaction.atomic
def country_track_resume(
    *, actor, country_track: CountryTrack, note: str = "", expected_version: int | None = None
) -> StageChange:
    """Resume a paused track at the ladder stage it had reached."""
    ensure_can_write_country(actor, country_track.country)
    ct = _lock(country_track, expected_version)
    _ensure_active(ct)
    if ct.stage.kind != Stage.Kind.PAUSED:
        raise ValidationError(_("Only a paused track can be resumed."))
    ct.pause_reason, ct.resume_on = "", None
    change = _record_move(actor=actor, ct=ct, to_stage=ct.ladder_stage, note=(note or "").strip(), kind="stage.resumed")
    _refresh(country_track, ct)
    return change


@transaction.atomic
def country_track_withdraw(
    *, actor, country_track: CountryTrack, reason: str, expected_version: int | None = None
) -> StageChange:
    """Withdraw a track from a country (needs a reason). It can be re-opened later with a move and a note."""
    ensure_can_write_country(actor, country_track.country)
    ct = _lock(country_track, expected_version)
    _ensure_active(ct)
    reason = (reason or "").strip()
    if ct.stage.kind == Stage.Kind.WITHDRAWN:
        raise ValidationError(_("This track is already withdrawn."))
    if not reason:
        raise ValidationError({"reason": _("Withdrawing a track needs a reason.")})
    withdrawn = Stage.objects.get(track_id=ct.track_id, kind=Stage.Kind.WITHDRAWN)
    ct.pause_reason, ct.resume_on = reason, None
    change = _record_move(actor=actor, ct=ct, to_stage=withdrawn, note=reason, kind="stage.withdrawn")
    _refresh(country_track, ct)
    return change


@transaction.atomic
def country_track_update(*, actor, country_track: CountryTrack, expected_version: int | None = None, **fields) -> CountryTrack:
    """Owner, next step, its due date and priority of a country-track."""
    ensure_can_write_country(actor, country_track.country)
    ct = _lock(country_track, expected_version)
    changes = apply_changes(ct, fields, allowed=("owner", "next_step", "next_step_due", "priority"))
    if changes:
        ct.version += 1
        ct.save()
        emit(kind="country_track.updated", subject=ct, actor=actor, country_id=ct.country_id, payload={"changes": changes})
    _refresh(country_track, ct)
    return country_track


def _refresh(target: CountryTrack, source: CountryTrack) -> None:
    """Copy the locked, saved state back onto the caller's instance."""
    if target is not source:
        for field in CountryTrack._meta.concrete_fields:
            setattr(target, field.attname, getattr(source, field.attname))
        for cache in ("stage", "ladder_stage"):
            target._state.fields_cache[cache] = getattr(source, cache)


# --- engagements and follow-ups ----------------------------------------------------------------


def _validate_tracks(tracks) -> list[Track]:
    tracks = list(tracks or [])
    inactive = [t for t in tracks if not t.is_active]
    if inactive:
        raise ValidationError({"tracks": _("Track “%(track)s” is no longer active.") % {"track": inactive[0].name}})
    return tracks


def _validate_counterparts(country, counterparts) -> list[Counterpart]:
    counterparts = list(counterparts or [])
    foreign = [c for c in counterparts if c.country_id != country.pk]
    if foreign:
        raise ValidationError({"counterparts": _("%(name)s is a counterpart in another country.") % {"name": foreign[0].name}})
    return counterparts


def _build_follow_up(*, country, engagement, description, due_on, owner=None, track=None) -> FollowUp:
    description = (description or "").strip()
    errors = {}
    if not description:
        errors["description"] = _("Say what is to be done.")
    if due_on is None:
        errors["due_on"] = _("A follow-up needs a due date.")
    if track is not None and not track.is_active:
        errors["track"] = _("Track “%(track)s” is no longer active.") % {"track": track.name}
    if owner is not None and not user_can_write_country(owner, country):
        errors["owner"] = _("%(user)s cannot own a follow-up for %(country)s: they do not work on that country.") % {
            "user": owner.get_full_name() or owner.get_username(),
            "country": country,
        }
    if errors:
        raise ValidationError(errors)
    follow_up = FollowUp(country=country, engagement=engagement, description=description, due_on=due_on, owner=owner, track=track)
    follow_up.full_clean()
    return follow_up


@transaction.atomic
def engagement_log(
    *,
    actor,
    country: Country,
    occurred_on: datetime.date,
    kind: str,
    summary: str,
    outcome: str = "",
    tracks: Iterable[Track] = (),
    counterparts: Iterable[Counterpart] = (),
    sensitivity: str = Engagement.Sensitivity.NORMAL,
    follow_ups: Iterable[dict] = (),
) -> Engagement:
    """Log a meeting, call, visit... with a country, with its follow-ups, in one go."""
    ensure_can_write_country(actor, country)
    errors = {}
    if occurred_on is None:
        errors["occurred_on"] = _("Give the date of the engagement.")
    elif occurred_on > timezone.localdate():
        errors["occurred_on"] = _("An engagement cannot be logged in the future; plan it as a follow-up instead.")
    if not (summary or "").strip():
        errors["summary"] = _("Summarise what was discussed.")
    if errors:
        raise ValidationError(errors)
    tracks = _validate_tracks(tracks)
    counterparts = _validate_counterparts(country, counterparts)
    engagement = Engagement(
        country=country,
        occurred_on=occurred_on,
        kind=kind,
        summary=summary.strip(),
        outcome=(outcome or "").strip(),
        sensitivity=sensitivity,
        logged_by=actor,
    )
    # The country and the author are rows already in hand: no query to check that they exist.
    engagement.full_clean(exclude=["country", "logged_by"])
    engagement.save()
    if tracks:  # a new engagement has no links yet: only add, and only when there is something to add
        engagement.tracks.add(*tracks)
    if counterparts:
        engagement.counterparts.add(*counterparts)
    # A follow-up of an engagement on a single track belongs to that track unless said otherwise.
    default_track = tracks[0] if len(tracks) == 1 else None
    created, errors = [], {}
    for position, spec in enumerate(follow_ups):
        try:
            created.append(_build_follow_up(country=country, engagement=engagement, **{"track": default_track, **spec}))
        except ValidationError as exc:
            # Say which follow-up is wrong: "follow_ups.1.due_on".
            for field, messages in exc.message_dict.items():
                errors[f"follow_ups.{position}.{field}"] = messages
    if errors:
        raise ValidationError(errors)
    for follow_up in created:
        follow_up.save()
    emit(
        kind="engagement.logged",
        subject=engagement,
        actor=actor,
        country_id=country.pk,
        # Ids only: a confidential engagement's content must not travel in events.
        payload={
            "tracks": [t.key for t in tracks],
            "confidential": engagement.is_confidential,
            "follow_ups": [f.pk for f in created],
        },
    )
    return engagement


def _not_in_future(engagement) -> None:
    if engagement.occurred_on > timezone.localdate():
        raise ValidationError({"occurred_on": _("An engagement cannot be logged in the future.")})


@transaction.atomic
def engagement_update(
    *, actor, engagement: Engagement, tracks=None, counterparts=None, expected_version: int | None = None, **fields
) -> Engagement:
    """Edit an engagement (its fields, tracks and counterparts) under its row lock.

    ``expected_version``: the version the caller read; an engagement changed since is refused with a
    ``ConflictError`` and nothing is written. Without it the last write wins.
    """
    ensure_can_write_country(actor, engagement.country)
    locked = Engagement.objects.select_for_update().get(pk=engagement.pk)
    locked.country = engagement.country  # the country never changes; it is in hand already
    ensure_version(
        locked,
        expected_version,
        _(
            "Someone else changed this engagement while you were editing (changed by %(user)s at %(when)s). "
            "Your change was not saved."
        ),
    )
    changes = apply_changes(
        locked, fields, allowed=("occurred_on", "kind", "summary", "outcome", "sensitivity"), validate=_not_in_future
    )
    if tracks is not None:
        tracks = _validate_tracks(tracks)
        if {t.pk for t in tracks} != set(locked.tracks.values_list("pk", flat=True)):
            locked.tracks.set(tracks)
            changes["tracks"] = [t.key for t in tracks]
    if counterparts is not None:
        counterparts = _validate_counterparts(locked.country, counterparts)
        if {c.pk for c in counterparts} != set(locked.counterparts.values_list("pk", flat=True)):
            locked.counterparts.set(counterparts)
            changes["counterparts"] = [c.pk for c in counterparts]
    if changes:
        locked.version += 1  # one UPDATE with the changed fields (also when only the tracks or people changed)
        locked.save()
        emit(
            kind="engagement.updated",
            subject=locked,
            actor=actor,
            country_id=locked.country_id,
            payload={"fields": sorted(changes)},
        )
    for field in Engagement._meta.concrete_fields:  # the caller's instance shows what is stored now
        setattr(engagement, field.attname, getattr(locked, field.attname))
    return engagement


@transaction.atomic
def follow_up_create(*, actor, country: Country, description: str, due_on, owner=None, track=None, engagement=None) -> FollowUp:
    ensure_can_write_country(actor, country)
    if engagement is not None and engagement.country_id != country.pk:
        raise ValidationError({"engagement": _("The engagement is with another country.")})
    if track is None and engagement is not None:
        engagement_tracks = list(engagement.tracks.all())
        track = engagement_tracks[0] if len(engagement_tracks) == 1 else None
    follow_up = _build_follow_up(
        country=country, engagement=engagement, description=description, due_on=due_on, owner=owner, track=track
    )
    follow_up.save()
    emit(kind="follow_up.created", subject=follow_up, actor=actor, country_id=country.pk, payload={"due_on": due_on.isoformat()})
    return follow_up


def _lock_follow_up(follow_up: FollowUp) -> FollowUp:
    fu = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    fu.country = Country.objects.get(pk=fu.country_id)
    return fu


@transaction.atomic
def follow_up_complete(*, actor, follow_up: FollowUp) -> FollowUp:
    """Mark a follow-up done (anyone who writes for the country, which includes its owner)."""
    fu = _lock_follow_up(follow_up)
    ensure_can_write_country(actor, fu.country)
    if fu.done_at is not None:
        raise ValidationError(_("This follow-up was already marked done."))
    fu.done_at, fu.done_by = timezone.now(), actor
    fu.save(update_fields=["done_at", "done_by"])
    follow_up.done_at, follow_up.done_by = fu.done_at, fu.done_by
    emit(kind="follow_up.completed", subject=fu, actor=actor, country_id=fu.country_id)
    return follow_up


@transaction.atomic
def follow_up_reopen(*, actor, follow_up: FollowUp) -> FollowUp:
    fu = _lock_follow_up(follow_up)
    ensure_can_write_country(actor, fu.country)
    if fu.done_at is None:
        raise ValidationError(_("This follow-up is still open."))
    fu.done_at, fu.done_by = None, None
    fu.save(update_fields=["done_at", "done_by"])
    follow_up.done_at, follow_up.done_by = None, None
    emit(kind="follow_up.reopened", subject=fu, actor=actor, country_id=fu.country_id)
    return follow_up


@transaction.atomic
def follow_up_update(*, actor, follow_up: FollowUp, **fields) -> FollowUp:
    """Reschedule, reassign or reword a follow-up."""
    fu = _lock_follow_up(follow_up)
    ensure_can_write_country(actor, fu.country)

    def check(instance):
        if instance.owner_id and not user_can_write_country(instance.owner, instance.country):
            message = _("%(user)s does not work on %(country)s.")
            raise ValidationError({"owner": message % {"user": instance.owner, "country": instance.country}})
        if instance.track_id and not instance.track.is_active:
            raise ValidationError({"track": _("Track “%(track)s” is no longer active.") % {"track": instance.track.name}})

    changes = apply_changes(fu, fields, allowed=("description", "due_on", "owner", "track"), validate=check)
    if changes:
        fu.save()
        emit(kind="follow_up.updated", subject=fu, actor=actor, country_id=fu.country_id, payload={"changes": changes})
    for field in ("description", "due_on", "owner_id", "track_id"):
        setattr(follow_up, field, getattr(fu, field))
    return follow_up


# --- agreements ---------------------------------------------------------------------------------


@transaction.atomic
def agreement_create(
    *,
    actor,
    country: Country,
    kind: str,
    title: str,
    signed_on: datetime.date,
    expires_on: datetime.date | None = None,
    signatory_level: str = Agreement.SignatoryLevel.MINISTER,
    tracks: Iterable[Track] = (),
    source_url: str = "",
    notes: str = "",
) -> Agreement:
    ensure_can_write_country(actor, country)
    if signed_on is not None and signed_on > timezone.localdate():
        raise ValidationError({"signed_on": _("An agreement cannot be recorded as signed in the future.")})
    agreement = Agreement(
        country=country,
        kind=kind,
        title=(title or "").strip(),
        signed_on=signed_on,
        expires_on=expires_on,
        signatory_level=signatory_level,
        source_url=source_url,
        notes=notes,
        created_by=actor,
    )
    agreement.full_clean()
    agreement.save()
    agreement.tracks.set(_validate_tracks(tracks))
    emit(kind="agreement.signed", subject=agreement, actor=actor, country_id=country.pk, payload={"kind": kind})
    return agreement


@transaction.atomic
def agreement_update(*, actor, agreement: Agreement, tracks=None, **fields) -> Agreement:
    ensure_can_write_country(actor, agreement.country)

    def check(instance):
        if instance.signed_on > timezone.localdate():
            raise ValidationError({"signed_on": _("An agreement cannot be recorded as signed in the future.")})

    changes = apply_changes(
        agreement,
        fields,
        allowed=("kind", "title", "signed_on", "expires_on", "signatory_level", "source_url", "notes"),
        validate=check,
    )
    if changes:
        agreement.save()
    if tracks is not None:
        agreement.tracks.set(_validate_tracks(tracks))
        changes["tracks"] = [t.key for t in tracks]
    if changes:
        emit(
            kind="agreement.updated",
            subject=agreement,
            actor=actor,
            country_id=agreement.country_id,
            payload={"fields": sorted(changes)},
        )
    return agreement


# --- announcements ------------------------------------------------------------------------------


def _ensure_can_edit_announcement(actor, countries) -> None:
    """Staff write any announcement; a liaison drafts only for their own countries."""
    from core import roles

    if roles.is_programme_staff(actor):
        return
    countries = list(countries)
    if not countries:
        if roles.is_liaison(actor):
            raise ValidationError({"countries": _("Name at least one of your countries.")})
        ensure_programme_staff(actor)
    for country in countries:
        ensure_can_write_country(actor, country)


def _validate_links(countries, agreements, facilities) -> tuple[list, list]:
    """Agreements and facilities an announcement refers to must be of its countries (any, for the whole programme)."""
    agreements, facilities = list(agreements or []), list(facilities or [])
    country_ids = {c.pk for c in countries}
    errors = {}
    if country_ids:
        stray = [a for a in agreements if a.country_id not in country_ids]
        if stray:
            errors["agreements"] = _("“%(title)s” is an agreement with a country this announcement does not name.") % {
                "title": stray[0].title
            }
        stray = [f for f in facilities if f.country_id not in country_ids]
        if stray:
            errors["facilities"] = _("“%(name)s” is in a country this announcement does not name.") % {"name": stray[0].name}
    if errors:
        raise ValidationError(errors)
    return agreements, facilities


@transaction.atomic
def announcement_create(
    *,
    actor,
    title: str,
    body: str = "",
    countries: Iterable[Country] = (),
    tracks: Iterable[Track] = (),
    is_public: bool = True,
    source_url: str = "",
    agreements: Iterable[Agreement] = (),
    facilities: Iterable = (),
) -> Announcement:
    """Draft an announcement, optionally referring to agreements and facilities of its countries."""
    countries = list(countries)
    _ensure_can_edit_announcement(actor, countries)
    agreements, facilities = _validate_links(countries, agreements, facilities)
    announcement = Announcement(
        title=(title or "").strip(), body=body, is_public=is_public, source_url=source_url, created_by=actor
    )
    announcement.full_clean()
    announcement.save()
    announcement.countries.set(countries)
    announcement.tracks.set(_validate_tracks(tracks))
    announcement.agreements.set(agreements)
    announcement.facilities.set(facilities)
    _record_revision(announcement, actor)
    emit(kind="announcement.drafted", subject=announcement, actor=actor, payload={"country_ids": [c.pk for c in countries]})
    return announcement


@transaction.atomic
def announcement_update(
    *, actor, announcement: Announcement, countries=None, tracks=None, agreements=None, facilities=None, **fields
) -> Announcement:
    ann = Announcement.objects.select_for_update().get(pk=announcement.pk)
    current = list(ann.countries.all())
    from core import roles

    if not current and not roles.is_programme_staff(actor):
        raise PermissionDenied(_("Only programme staff may edit an announcement about the whole programme."))
    _ensure_can_edit_announcement(actor, current)
    if countries is not None:
        countries = list(countries)
        _ensure_can_edit_announcement(actor, countries)
    from core import roles

    if ann.status != Announcement.Status.DRAFT and not roles.is_programme_staff(actor):
        raise PermissionDenied(_("Only programme staff may edit an announcement once it is scheduled or published."))
    changes = apply_changes(ann, fields, allowed=("title", "body", "is_public", "source_url"))
    if changes:
        ann.save()
    if "title" in changes or "body" in changes:
        _record_revision(ann, actor)
    if countries is not None:
        ann.countries.set(countries)
        changes["countries"] = [c.pk for c in countries]
    if tracks is not None:
        ann.tracks.set(_validate_tracks(tracks))
        changes["tracks"] = [t.key for t in tracks]
    if agreements is not None or facilities is not None:
        named = countries if countries is not None else current
        links = _validate_links(
            named,
            agreements if agreements is not None else ann.agreements.all(),
            facilities if facilities is not None else ann.facilities.all(),
        )
        if agreements is not None:
            ann.agreements.set(links[0])
            changes["agreements"] = [a.pk for a in links[0]]
        if facilities is not None:
            ann.facilities.set(links[1])
            changes["facilities"] = [f.pk for f in links[1]]
    if changes:
        emit(
            kind="announcement.updated",
            subject=ann,
            actor=actor,
            payload={"fields": sorted(changes), "country_ids": [c.pk for c in (countries if countries is not None else current)]},
        )
    return ann


def _record_revision(ann: Announcement, actor) -> AnnouncementRevision:
    last = ann.revisions.order_by("-number").values_list("number", flat=True).first() or 0
    return AnnouncementRevision.objects.create(
        announcement=ann,
        number=last + 1,
        title=ann.title,
        body=ann.body,
        edited_by=actor if actor is not None and actor.is_authenticated else None,
        published=ann.status == Announcement.Status.PUBLISHED,
    )


def _publish(ann: Announcement, *, actor, when) -> Announcement:
    """Mark a locked announcement published at ``when`` and tell the handlers (inbox, e-mail, webhooks)."""
    ann.status, ann.published_at = Announcement.Status.PUBLISHED, when
    ann.save(update_fields=["status", "published_at", "updated_at"])
    emit(
        kind="announcement.published",
        subject=ann,
        actor=actor,
        payload={
            "country_ids": list(ann.countries.values_list("pk", flat=True)),
            "tracks": list(ann.tracks.values_list("key", flat=True)),  # so subscribers of a track hear of it
            "public": ann.is_public,
        },
    )
    return ann


@transaction.atomic
def announcement_release(*, announcement_id: int, now: datetime.datetime | None = None) -> bool:
    """Publish one scheduled announcement whose embargo has ended (the ETA task). Returns whether it did.

    Safe to run any number of times and alongside the sweep: the row is locked and only a scheduled
    announcement past its embargo is released, so publication happens once.
    """
    now = now or timezone.now()
    ann = Announcement.objects.select_for_update().filter(pk=announcement_id).first()
    if ann is None or ann.status != Announcement.Status.SCHEDULED or ann.embargo_until is None or ann.embargo_until > now:
        return False
    _publish(ann, actor=None, when=ann.embargo_until)
    return True


def announcement_release_due(*, now: datetime.datetime | None = None) -> int:
    """Release every scheduled announcement whose embargo has ended (the beat sweep; also run before public reads)."""
    now = now or timezone.now()
    due = Announcement.objects.filter(status=Announcement.Status.SCHEDULED, embargo_until__lte=now)
    return sum(announcement_release(announcement_id=pk, now=now) for pk in due.values_list("pk", flat=True))


# An ETA task waits in Redis; past the broker's visibility timeout (3 h) Redis would hand it out again and
# again. So only an embargo ending within this horizon gets its ETA task when scheduled; the minute sweep arms
# the later ones when their time comes near (``announcement_arm_releases``) and releases anything missed.
RELEASE_ETA_HORIZON = datetime.timedelta(hours=2)


def release_due_without_beat() -> int:
    """With tasks run in-process (the embedded default: no worker, no beat) nothing else releases announcements,
    so the public pages and feeds do it before they read. With a worker and beat, they only read."""
    from celery import current_app

    if not current_app.conf.task_always_eager:
        return 0
    return announcement_release_due()


def _enqueue_release(ann: Announcement) -> None:
    from core.broker import safe_enqueue

    from .tasks import release_announcement

    if ann.embargo_until - timezone.now() <= RELEASE_ETA_HORIZON:
        # If the broker is down, the beat sweep (every minute) releases it instead.
        safe_enqueue(release_announcement, args=[ann.pk], eta=ann.embargo_until)


def announcement_arm_releases(*, now: datetime.datetime | None = None, within=datetime.timedelta(minutes=2)) -> int:
    """Queue the ETA task of each announcement whose embargo ends within ``within`` (so it goes out on time)."""
    now = now or timezone.now()
    soon = Announcement.objects.filter(
        status=Announcement.Status.SCHEDULED, embargo_until__gt=now, embargo_until__lte=now + within
    )
    armed = 0
    for ann in soon.only("pk", "embargo_until"):
        _enqueue_release(ann)
        armed += 1
    return armed


@transaction.atomic
def announcement_schedule(*, actor, announcement: Announcement, embargo_until: datetime.datetime) -> Announcement:
    """Hold an announcement under embargo until a moment in the future (staff only)."""
    ensure_programme_staff(actor)
    ann = Announcement.objects.select_for_update().get(pk=announcement.pk)
    if ann.status not in (Announcement.Status.DRAFT, Announcement.Status.SCHEDULED):
        raise ValidationError(_("Only a draft or scheduled announcement can be scheduled."))
    if embargo_until is None or embargo_until <= timezone.now():
        raise ValidationError({"embargo_until": _("The embargo must end in the future.")})
    ann.status, ann.embargo_until = Announcement.Status.SCHEDULED, embargo_until
    ann.save(update_fields=["status", "embargo_until", "updated_at"])
    emit(kind="announcement.scheduled", subject=ann, actor=actor, payload={"embargo_until": embargo_until.isoformat()})
    transaction.on_commit(lambda: _enqueue_release(ann))
    return ann


@transaction.atomic
def announcement_publish(*, actor, announcement: Announcement) -> Announcement:
    """Publish now (staff only). An embargoed announcement cannot be published before its embargo ends."""
    ensure_programme_staff(actor)
    ann = Announcement.objects.select_for_update().get(pk=announcement.pk)
    if ann.status not in (Announcement.Status.DRAFT, Announcement.Status.SCHEDULED):
        raise ValidationError(_("Only a draft or scheduled announcement can be published."))
    now = timezone.now()
    if ann.status == Announcement.Status.SCHEDULED and ann.embargo_until and ann.embargo_until > now:
        raise ValidationError(
            _("This announcement is under embargo until %(when)s (%(zone)s).")
            % {
                "when": date_format(timezone.localtime(ann.embargo_until), "DATETIME_FORMAT"),
                "zone": timezone.get_current_timezone_name(),
            }
        )
    return _publish(ann, actor=actor, when=now)


@transaction.atomic
def announcement_withdraw(*, actor, announcement: Announcement, reason: str) -> Announcement:
    ensure_programme_staff(actor)
    ann = Announcement.objects.select_for_update().get(pk=announcement.pk)
    if ann.status == Announcement.Status.WITHDRAWN:
        raise ValidationError(_("This announcement is already withdrawn."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Withdrawing an announcement needs a reason.")})
    ann.status = Announcement.Status.WITHDRAWN
    ann.save(update_fields=["status", "updated_at"])
    emit(kind="announcement.withdrawn", subject=ann, actor=actor, payload={"reason": reason.strip()})
    return ann
