"""Every write to partnerships and the country x track matrix: entering the programme, adding a track,
moving, pausing, resuming and withdrawing a track. Each service checks who acts, validates, writes history
and emits an outbox event, in one transaction.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from announcements import policies as announcement_policies
from announcements.models import Announcement
from core import catalogue
from core.changes import apply_changes
from core.conflicts import ensure_version, lock
from core.events import emit
from countries.models import Country
from countries.policies import ensure_can_write_country, ensure_may_own_work, ensure_programme_staff
from engagements.models import Agreement, Engagement
from tracks.defaults import create_default_stages
from tracks.models import Stage, Track

from .models import CountryTrack, Partnership, StageChange
from .rollup import rollup_countries, rollup_country  # noqa: F401  (re-exported: the rollup is a service)


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
    emit(kind=catalogue.TRACK_CREATED, subject=track, actor=actor, payload={"key": track.key, "country_ids": country_ids})
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
    emit(kind=catalogue.PARTNERSHIP_CREATED, subject=partnership, actor=actor, country_id=country.pk, payload={"status": status})
    return partnership


@transaction.atomic
def partnership_update(*, actor, partnership: Partnership, expected_version: int | None = None, **fields) -> Partnership:
    """Edit a partnership under its row lock (refused if it changed since ``expected_version``)."""
    ensure_can_write_country(actor, partnership.country)
    caller, partnership = partnership, lock(partnership, expected_version)
    partnership.country = caller.country  # the country never changes; it is in hand already
    if "lead_liaison" in fields and fields["lead_liaison"] != partnership.lead_liaison:
        ensure_programme_staff(actor)
    changes = apply_changes(partnership, fields, allowed=("status", "lead_liaison", "started_on", "notes"))
    if changes:
        partnership.version += 1
        partnership.save()
        emit(
            kind=catalogue.PARTNERSHIP_UPDATED,
            subject=partnership,
            actor=actor,
            country_id=partnership.country_id,
            payload={"changes": changes},
        )
    for field in Partnership._meta.concrete_fields:  # the caller's instance shows what is stored now
        setattr(caller, field.attname, getattr(partnership, field.attname))
    return caller


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
    return Announcement.objects.filter(announcement_policies.published_q(), pk=announcement.pk).exists()


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


def _open_cell(actor, country_track: CountryTrack, expected_version: int | None) -> CountryTrack:
    """The cell a stage service changes: the actor may write for its country, it is locked at the version the caller
    read, and its track is still active."""
    ensure_can_write_country(actor, country_track.country)
    ct = _lock(country_track, expected_version)
    _ensure_active(ct)
    return ct


def _record_move(
    *,
    actor,
    caller: CountryTrack,
    ct: CountryTrack,
    to_stage,
    note,
    kind,
    pause_reason="",
    resume_on=None,
    engagement=None,
    agreement=None,
    announcement=None,
    payload=None,
) -> StageChange:
    """Write the move of the locked cell ``ct`` with its history row and event; the caller's instance then shows
    the saved cell."""
    now = timezone.now()
    ct.pause_reason, ct.resume_on = pause_reason, resume_on
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
    _refresh(caller, ct)
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
    ct = _open_cell(actor, country_track, expected_version)
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
    return _record_move(
        actor=actor,
        caller=country_track,
        ct=ct,
        to_stage=to_stage,
        note=note,
        kind=catalogue.STAGE_MOVED,
        engagement=evidence_engagement,
        agreement=evidence_agreement,
        announcement=evidence_announcement,
    )


@transaction.atomic
def country_track_pause(
    *, actor, country_track: CountryTrack, reason: str, resume_on: datetime.date | None, expected_version: int | None = None
) -> StageChange:
    """Pause a track: needs a reason and a resume date in the future."""
    ct = _open_cell(actor, country_track, expected_version)
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
    return _record_move(
        actor=actor,
        caller=country_track,
        ct=ct,
        to_stage=Stage.objects.get(track_id=ct.track_id, kind=Stage.Kind.PAUSED),
        note=reason,
        kind=catalogue.STAGE_PAUSED,
        pause_reason=reason,
        resume_on=resume_on,
        payload={"resume_on": resume_on.isoformat()},
    )


@transaction.atomic
def country_track_resume(
    *, actor, country_track: CountryTrack, note: str = "", expected_version: int | None = None
) -> StageChange:
    """Resume a paused track at the ladder stage it had reached."""
    ct = _open_cell(actor, country_track, expected_version)
    if ct.stage.kind != Stage.Kind.PAUSED:
        raise ValidationError(_("Only a paused track can be resumed."))
    return _record_move(
        actor=actor,
        caller=country_track,
        ct=ct,
        to_stage=ct.ladder_stage,
        note=(note or "").strip(),
        kind=catalogue.STAGE_RESUMED,
    )


@transaction.atomic
def country_track_withdraw(
    *, actor, country_track: CountryTrack, reason: str, expected_version: int | None = None
) -> StageChange:
    """Withdraw a track from a country (needs a reason). It can be re-opened later with a move and a note."""
    ct = _open_cell(actor, country_track, expected_version)
    reason = (reason or "").strip()
    if ct.stage.kind == Stage.Kind.WITHDRAWN:
        raise ValidationError(_("This track is already withdrawn."))
    if not reason:
        raise ValidationError({"reason": _("Withdrawing a track needs a reason.")})
    withdrawn = Stage.objects.get(track_id=ct.track_id, kind=Stage.Kind.WITHDRAWN)
    return _record_move(
        actor=actor,
        caller=country_track,
        ct=ct,
        to_stage=withdrawn,
        note=reason,
        kind=catalogue.STAGE_WITHDRAWN,
        pause_reason=reason,
    )


@transaction.atomic
def country_track_update(*, actor, country_track: CountryTrack, expected_version: int | None = None, **fields) -> CountryTrack:
    """Owner, next step, its due date and priority of a country-track."""
    ensure_can_write_country(actor, country_track.country)
    ct = _lock(country_track, expected_version)

    def check(instance):
        # Only a newly named owner is checked, as for a follow-up: one who has since left the country stays until replaced.
        if "owner" in fields and instance.owner_id:
            ensure_may_own_work(instance.owner, instance.country_id)

    changes = apply_changes(ct, fields, allowed=("owner", "next_step", "next_step_due", "priority"), validate=check)
    if changes:
        ct.version += 1
        ct.save()
        emit(
            kind=catalogue.COUNTRY_TRACK_UPDATED, subject=ct, actor=actor, country_id=ct.country_id, payload={"changes": changes}
        )
    _refresh(country_track, ct)
    return country_track


def _refresh(target: CountryTrack, source: CountryTrack) -> None:
    """Copy the locked, saved state back onto the caller's instance."""
    if target is not source:
        for field in CountryTrack._meta.concrete_fields:
            setattr(target, field.attname, getattr(source, field.attname))
        for cache in ("stage", "ladder_stage"):
            target._state.fields_cache[cache] = getattr(source, cache)
