"""Every write to announcements: drafts, edits, embargo, release, publication and withdrawal."""

import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core import catalogue
from core.audit import add_links_audited
from core.changes import apply_changes
from core.conflicts import lock
from core.events import emit
from countries.models import Country
from countries.policies import ensure_programme_staff
from engagements.models import Agreement
from tracks.models import Track
from tracks.policies import ensure_active_tracks

from . import policies
from .models import Announcement, AnnouncementRevision


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
    policies.ensure_can_edit(actor, countries)
    agreements, facilities = _validate_links(countries, agreements, facilities)
    announcement = Announcement(
        title=(title or "").strip(), body=body, is_public=is_public, source_url=source_url, created_by=actor
    )
    announcement.full_clean(exclude=["created_by"])  # the author is the user in hand: no query to see they exist
    announcement.save()
    # A new announcement has no links yet: one INSERT per relation, with its audit entry.
    for relation, rows in (("countries", countries), ("tracks", ensure_active_tracks(tracks)),
                           ("agreements", agreements), ("facilities", facilities)):  # fmt: skip
        add_links_audited(announcement, relation, rows)
    _record_revision(announcement, actor)
    emit(
        kind=catalogue.ANNOUNCEMENT_DRAFTED, subject=announcement, actor=actor, payload={"country_ids": [c.pk for c in countries]}
    )
    return announcement


@transaction.atomic
def announcement_update(
    *,
    actor,
    announcement: Announcement,
    countries=None,
    tracks=None,
    agreements=None,
    facilities=None,
    expected_version: int | None = None,
    **fields,
) -> Announcement:
    """Edit an announcement under its row lock (refused if it changed since ``expected_version``)."""
    ann = lock(announcement, expected_version)
    current = list(ann.countries.all())
    policies.ensure_can_edit_existing(actor, ann, current)
    if countries is not None:
        countries = list(countries)
        policies.ensure_can_edit(actor, countries)
    changes = apply_changes(ann, fields, allowed=("title", "body", "is_public", "source_url"))
    if "title" in changes or "body" in changes:
        _record_revision(ann, actor)
    if countries is not None:
        ann.countries.set(countries)
        changes["countries"] = [c.pk for c in countries]
    if tracks is not None:
        ann.tracks.set(ensure_active_tracks(tracks))
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
        ann.version += 1
        ann.save()
        emit(
            kind=catalogue.ANNOUNCEMENT_UPDATED,
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
    ann.version += 1
    ann.save(update_fields=["status", "published_at", "version", "updated_at"])
    emit(
        kind=catalogue.ANNOUNCEMENT_PUBLISHED,
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
def announcement_schedule(
    *, actor, announcement: Announcement, embargo_until: datetime.datetime, expected_version: int | None = None
) -> Announcement:
    """Hold an announcement under embargo until a moment in the future (staff only)."""
    ensure_programme_staff(actor)
    ann = lock(announcement, expected_version)
    if ann.status not in (Announcement.Status.DRAFT, Announcement.Status.SCHEDULED):
        raise ValidationError(_("Only a draft or scheduled announcement can be scheduled."))
    if embargo_until is None or embargo_until <= timezone.now():
        raise ValidationError({"embargo_until": _("The embargo must end in the future.")})
    ann.status, ann.embargo_until = Announcement.Status.SCHEDULED, embargo_until
    ann.version += 1
    ann.save(update_fields=["status", "embargo_until", "version", "updated_at"])
    emit(kind=catalogue.ANNOUNCEMENT_SCHEDULED, subject=ann, actor=actor, payload={"embargo_until": embargo_until.isoformat()})
    transaction.on_commit(lambda: _enqueue_release(ann))
    return ann


@transaction.atomic
def announcement_publish(*, actor, announcement: Announcement, expected_version: int | None = None) -> Announcement:
    """Publish now (staff only). An embargoed announcement cannot be published before its embargo ends."""
    ensure_programme_staff(actor)
    ann = lock(announcement, expected_version)
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
def announcement_withdraw(*, actor, announcement: Announcement, reason: str, expected_version: int | None = None) -> Announcement:
    ensure_programme_staff(actor)
    ann = lock(announcement, expected_version)
    if ann.status == Announcement.Status.WITHDRAWN:
        raise ValidationError(_("This announcement is already withdrawn."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Withdrawing an announcement needs a reason.")})
    ann.status = Announcement.Status.WITHDRAWN
    ann.version += 1
    ann.save(update_fields=["status", "version", "updated_at"])
    emit(kind=catalogue.ANNOUNCEMENT_WITHDRAWN, subject=ann, actor=actor, payload={"reason": reason.strip()})
    return ann
