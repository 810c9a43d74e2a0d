"""Every write to engagements, follow-ups and agreements: checked, validated, audited, with its outbox event."""

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core import catalogue
from core.audit import add_links_audited, bulk_create_audited, erase_history
from core.changes import apply_changes
from core.conflicts import ensure_version, lock
from core.events import emit, emit_many
from core.limits import REASON_MAX_LENGTH
from countries.models import Counterpart, Country
from countries.policies import (
    OWNER_REFUSED,
    ensure_can_write_country,
    ensure_may_own_work,
    ensure_programme_staff,
    may_own_work,
    user_can_write_country,
)
from tracks.models import Track
from tracks.policies import ensure_active_tracks

from .models import Agreement, Engagement, EngagementTrack, FollowUp
from .policies import visible_follow_ups_q


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
    if owner is not None and not may_own_work(owner, country):
        errors["owner"] = _(OWNER_REFUSED)
    if errors:
        raise ValidationError(errors)
    follow_up = FollowUp(country=country, engagement=engagement, description=description, due_on=due_on, owner=owner, track=track)
    # The related rows are instances in hand, checked above: no query per follow-up to see that each exists.
    follow_up.full_clean(exclude=["country", "engagement", "owner", "track"])
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
    tracks = ensure_active_tracks(tracks)
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
    # A new engagement has no links yet: one INSERT per relation, with its audit entry.
    add_links_audited(engagement, "tracks", tracks, through_defaults=engagement.track_link_fields())
    add_links_audited(engagement, "counterparts", counterparts)
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
    bulk_create_audited(FollowUp, created)  # one INSERT for the follow-ups and one for their audit entries
    emit(
        kind=catalogue.ENGAGEMENT_LOGGED,
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
    if locked.is_voided:
        raise ValidationError(_("This engagement is voided: restore it before correcting it."))
    changes = apply_changes(
        locked, fields, allowed=("occurred_on", "kind", "summary", "outcome", "sensitivity"), validate=_not_in_future
    )
    if "occurred_on" in changes:  # the links to tracks carry the date (EngagementTrack)
        EngagementTrack.objects.filter(engagement=locked).update(occurred_on=locked.occurred_on)
    if tracks is not None:
        tracks = ensure_active_tracks(tracks)
        if {t.pk for t in tracks} != set(locked.tracks.values_list("pk", flat=True)):
            locked.tracks.set(tracks, through_defaults=locked.track_link_fields())
            changes["tracks"] = [t.key for t in tracks]
    if counterparts is not None:
        counterparts = _validate_counterparts(locked.country, counterparts)
        named = set(locked.counterparts.values_list("pk", flat=True))
        if any(c.erased_at and c.pk not in named for c in counterparts):
            raise ValidationError({"counterparts": _("An erased person cannot be named on another engagement.")})
        if {c.pk for c in counterparts} != named:
            locked.counterparts.set(counterparts)
            changes["counterparts"] = [c.pk for c in counterparts]
    if changes:
        locked.version += 1  # one UPDATE with the changed fields (also when only the tracks or people changed)
        locked.save()
        emit(
            kind=catalogue.ENGAGEMENT_UPDATED,
            subject=locked,
            actor=actor,
            country_id=locked.country_id,
            payload={"fields": sorted(changes)},
        )
    for field in Engagement._meta.concrete_fields:  # the caller's instance shows what is stored now
        setattr(engagement, field.attname, getattr(locked, field.attname))
    return engagement


@transaction.atomic
def engagement_void(*, actor, engagement: Engagement, reason: str, expected_version: int | None = None) -> Engagement:
    """Void an engagement logged twice or by mistake: it stays on record (struck through for staff, who may restore
    it) but leaves every list, count and health figure. Anyone who writes for the country may; a reason is needed."""
    ensure_can_write_country(actor, engagement.country)
    locked = lock(engagement, expected_version)
    reason = (reason or "").strip()
    if locked.is_voided:
        raise ValidationError(_("This engagement is already voided."))
    if not reason:
        raise ValidationError({"reason": _("Say why the engagement is voided (for example “logged twice”).")})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": _("The reason is too long.")})
    return _set_void(actor, engagement, locked, (timezone.now(), actor, reason), catalogue.ENGAGEMENT_VOIDED)


@transaction.atomic
def engagement_restore(*, actor, engagement: Engagement, expected_version: int | None = None) -> Engagement:
    """Bring a voided engagement back into lists and figures (programme staff)."""
    ensure_programme_staff(actor)
    locked = lock(engagement, expected_version)
    if not locked.is_voided:
        raise ValidationError(_("This engagement is not voided."))
    return _set_void(actor, engagement, locked, (None, None, ""), catalogue.ENGAGEMENT_RESTORED)


def _set_void(actor, engagement: Engagement, locked: Engagement, values: tuple, kind: str) -> Engagement:
    """Write the locked engagement's void fields (when, by whom, why) as a new version, with its event; the caller's
    instance then shows them."""
    locked.voided_at, locked.voided_by, locked.void_reason = values
    locked.version += 1
    locked.save(update_fields=["voided_at", "voided_by", "void_reason", "version", "updated_at"])
    emit(kind=kind, subject=locked, actor=actor, country_id=locked.country_id, payload={"confidential": locked.is_confidential})
    _show_stored(engagement, locked, ("voided_at", "voided_by_id", "void_reason"))
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
    emit(
        kind=catalogue.FOLLOW_UP_CREATED,
        subject=follow_up,
        actor=actor,
        country_id=country.pk,
        payload={"due_on": due_on.isoformat()},
    )
    return follow_up


def _lock_follow_up(follow_up: FollowUp, expected_version: int | None = None) -> FollowUp:
    fu = lock(follow_up, expected_version)
    fu.country = Country.objects.get(pk=fu.country_id)
    return fu


def _show_stored(target, source, fields) -> None:
    """The caller's instance shows what is stored now (its version included)."""
    for field in (*fields, "version"):
        setattr(target, field, getattr(source, field))


@transaction.atomic
def follow_up_complete(*, actor, follow_up: FollowUp, expected_version: int | None = None) -> FollowUp:
    """Mark a follow-up done (anyone who writes for the country, which includes its owner)."""
    fu = _lock_follow_up(follow_up, expected_version)
    ensure_can_write_country(actor, fu.country)
    if fu.done_at is not None:
        raise ValidationError(_("This follow-up was already marked done."))
    fu.done_at, fu.done_by = timezone.now(), actor
    fu.version += 1
    fu.save(update_fields=["done_at", "done_by", "version"])
    _show_stored(follow_up, fu, ("done_at", "done_by_id"))
    emit(kind=catalogue.FOLLOW_UP_COMPLETED, subject=fu, actor=actor, country_id=fu.country_id)
    return follow_up


@transaction.atomic
def follow_up_reopen(*, actor, follow_up: FollowUp, expected_version: int | None = None) -> FollowUp:
    fu = _lock_follow_up(follow_up, expected_version)
    ensure_can_write_country(actor, fu.country)
    if fu.done_at is None:
        raise ValidationError(_("This follow-up is still open."))
    fu.done_at, fu.done_by = None, None
    fu.version += 1
    fu.save(update_fields=["done_at", "done_by", "version"])
    _show_stored(follow_up, fu, ("done_at", "done_by_id"))
    emit(kind=catalogue.FOLLOW_UP_REOPENED, subject=fu, actor=actor, country_id=fu.country_id)
    return follow_up


@transaction.atomic
def follow_up_update(*, actor, follow_up: FollowUp, expected_version: int | None = None, **fields) -> FollowUp:
    """Reschedule, reassign or reword a follow-up (refused if it changed since ``expected_version``)."""
    fu = _lock_follow_up(follow_up, expected_version)
    ensure_can_write_country(actor, fu.country)

    def check(instance):
        # Only a newly named owner or track is checked: one who has since left the country stays until replaced.
        if "owner" in fields and instance.owner_id:
            ensure_may_own_work(instance.owner, instance.country_id)
        if "track" in fields and instance.track_id and not instance.track.is_active:
            raise ValidationError({"track": _("Track “%(track)s” is no longer active.") % {"track": instance.track.name}})

    changes = apply_changes(fu, fields, allowed=("description", "due_on", "owner", "track"), validate=check)
    if changes:
        fu.version += 1
        fu.save()
        emit(kind=catalogue.FOLLOW_UP_UPDATED, subject=fu, actor=actor, country_id=fu.country_id, payload={"changes": changes})
    _show_stored(follow_up, fu, ("description", "due_on", "owner_id", "track_id"))
    return follow_up


# A bulk action takes at most this many follow-ups (a page of the list holds 50): checked before any query.
FOLLOW_UP_BULK_MAX = 100


def _lock_follow_ups(actor, expected_versions: dict[int, int]) -> list[FollowUp]:
    """Lock the follow-ups named by ``expected_versions`` ({pk: version the caller saw}), in one query, after the
    cheap checks; every one must exist, be of a country the actor writes for, and be unchanged since it was read."""
    if not expected_versions:
        raise ValidationError(_("Select at least one follow-up."))
    if len(expected_versions) > FOLLOW_UP_BULK_MAX:
        raise ValidationError(_("Select at most %(max)d follow-ups at a time.") % {"max": FOLLOW_UP_BULK_MAX})
    rows = FollowUp.objects.select_for_update(of=("self",)).select_related("country").filter(pk__in=list(expected_versions))
    visible = visible_follow_ups_q(actor)  # one the actor may not see is reported as one that does not exist
    rows = list((rows if visible is None else rows.filter(visible)).order_by("pk"))
    if len(rows) != len(expected_versions):
        raise ValidationError(_("Some of the selected follow-ups no longer exist. Nothing was saved."))
    refused = sorted({fu.country.name for fu in rows if not user_can_write_country(actor, fu.country_id)})
    if refused:
        raise PermissionDenied(
            _("You may not change data for %(country)s: it is not one of your countries.") % {"country": ", ".join(refused)}
        )
    stale = [fu for fu in rows if fu.version != expected_versions[fu.pk]]
    if stale:
        raise ValidationError(
            _("Someone else changed %(what)s since you loaded the page. Nothing was saved: check and try again.")
            % {"what": ", ".join(f"“{fu.description}”" for fu in stale)},
            code="conflict",
        )
    return rows


@transaction.atomic
def follow_ups_complete(*, actor, expected_versions: dict[int, int]) -> dict[str, int]:
    """Mark several follow-ups done at once: all or none (a refusal or a stale one saves nothing). Those already
    done are left as they are. Returns the counts ``done`` and ``already_done``."""
    rows = _lock_follow_ups(actor, expected_versions)
    now, events, already_done = timezone.now(), [], 0
    for fu in rows:
        if fu.done_at is not None:
            already_done += 1
            continue
        fu.done_at, fu.done_by = now, actor
        fu.version += 1
        fu.save(update_fields=["done_at", "done_by", "version"])  # one save per row: each gets its audit entry
        events.append({"kind": catalogue.FOLLOW_UP_COMPLETED, "subject": fu, "actor": actor, "country_id": fu.country_id})
    if events:
        emit_many(events)
    return {"done": len(events), "already_done": already_done}


@transaction.atomic
def follow_ups_reassign(*, actor, expected_versions: dict[int, int], owner) -> dict[str, int]:
    """Give several follow-ups to ``owner`` (or to nobody, with None): all or none. The owner must be active and
    work on the country of every one of them, as for a single follow-up. Returns the counts ``changed`` and
    ``unchanged``."""
    rows = _lock_follow_ups(actor, expected_versions)
    if owner is not None:
        outside = sorted({fu.country.name for fu in rows if not may_own_work(owner, fu.country_id)})
        if outside:
            message = _("%(user)s does not work on %(country)s.")
            raise ValidationError({"owner": message % {"user": owner, "country": ", ".join(outside)}})
    events, unchanged = [], 0
    for fu in rows:
        if fu.owner_id == getattr(owner, "pk", None):
            unchanged += 1
            continue
        changes = {"owner": [fu.owner_id, getattr(owner, "pk", None)]}
        fu.owner = owner
        fu.version += 1
        fu.save(update_fields=["owner", "version"])
        events.append(
            {"kind": catalogue.FOLLOW_UP_UPDATED, "subject": fu, "actor": actor, "country_id": fu.country_id,
             "payload": {"changes": changes}}
        )  # fmt: skip
    if events:
        emit_many(events)
    return {"changed": len(events), "unchanged": unchanged}


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
    agreement.tracks.set(ensure_active_tracks(tracks))
    emit(kind=catalogue.AGREEMENT_SIGNED, subject=agreement, actor=actor, country_id=country.pk, payload={"kind": kind})
    return agreement


@transaction.atomic
def agreement_update(*, actor, agreement: Agreement, tracks=None, expected_version: int | None = None, **fields) -> Agreement:
    """Edit an agreement under its row lock (refused if it changed since ``expected_version``)."""
    ensure_can_write_country(actor, agreement.country)
    caller, agreement = agreement, lock(agreement, expected_version)
    agreement.country = caller.country  # the country never changes; it is in hand already

    def check(instance):
        if instance.signed_on > timezone.localdate():
            raise ValidationError({"signed_on": _("An agreement cannot be recorded as signed in the future.")})

    changes = apply_changes(
        agreement,
        fields,
        allowed=("kind", "title", "signed_on", "expires_on", "signatory_level", "source_url", "notes"),
        validate=check,
    )
    if tracks is not None:
        agreement.tracks.set(ensure_active_tracks(tracks))
        changes["tracks"] = [t.key for t in tracks]
    if changes:
        agreement.version += 1
        agreement.save()
        emit(
            kind=catalogue.AGREEMENT_UPDATED,
            subject=agreement,
            actor=actor,
            country_id=agreement.country_id,
            payload={"fields": sorted(changes)},
        )
    _show_stored(caller, agreement, [f.attname for f in Agreement._meta.concrete_fields])
    return caller


# What a voided engagement, and its follow-ups, say once past the retention period.
PURGED_TEXT = "[removed after the retention period]"


@transaction.atomic
def engagement_apply_retention(*, now=None) -> int:
    """Past ``RETENTION_VOIDED_DAYS`` after it was voided, an engagement keeps its country, date, kind, tracks and
    void (when, by whom, why) but not what it said: its summary, outcome and follow-ups' text become
    ``PURGED_TEXT`` and it names nobody, in the audit log too. Run nightly (``apply_retention``); safe to run twice."""
    days = settings.RETENTION_VOIDED_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    ids = list(Engagement.objects.filter(voided_at__lt=cutoff).exclude(summary=PURGED_TEXT).values_list("pk", flat=True))
    if not ids:
        return 0
    follow_ups = list(FollowUp.objects.filter(engagement_id__in=ids).values_list("pk", flat=True))
    erase_history(Engagement, ids, ("summary", "outcome", "counterparts"), PURGED_TEXT)
    erase_history(FollowUp, follow_ups, ("description",), PURGED_TEXT)
    Engagement.counterparts.through.objects.filter(engagement_id__in=ids).delete()
    # update(): no signal, so no audit entry repeats the text removed; the version moves, so no stale form saves it back.
    Engagement.objects.filter(pk__in=ids).update(summary=PURGED_TEXT, outcome="", version=F("version") + 1)
    FollowUp.objects.filter(pk__in=follow_ups).update(description=PURGED_TEXT)
    return len(ids)
