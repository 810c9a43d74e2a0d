"""Every write to countries: counterparts and liaison assignments."""

import datetime

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core import catalogue, roles
from core.audit import erase_history, log_access
from core.changes import apply_changes
from core.conflicts import ensure_version
from core.erasure import scrub
from core.events import emit
from core.limits import REASON_MAX_LENGTH
from core.models import Event

from .models import Counterpart, Country, CountryGrouping, LiaisonAssignment
from .policies import (
    ensure_can_handle_personal_data,
    ensure_can_manage_groupings,
    ensure_can_write_country,
    ensure_programme_staff,
)

COUNTERPART_FIELDS = ("name", "title", "organisation", "email", "phone", "active_from", "active_to", "notes")


@transaction.atomic
def counterpart_create(*, actor, country: Country, name: str, **fields) -> Counterpart:
    ensure_can_write_country(actor, country)
    unknown = set(fields) - set(COUNTERPART_FIELDS)
    if unknown:
        raise TypeError(f"Unknown counterpart fields: {sorted(unknown)}")
    counterpart = Counterpart(country=country, name=(name or "").strip(), **fields)
    counterpart.full_clean()
    counterpart.save()
    emit(
        kind=catalogue.COUNTERPART_CREATED,
        subject=counterpart,
        actor=actor,
        country_id=country.pk,
        payload={"name": counterpart.name},
    )
    return counterpart


def _lock_counterpart(counterpart: Counterpart, expected_version: int | None = None) -> Counterpart:
    """The counterpart's row under a lock (no joins), refused with a ``ConflictError`` if it is no longer at
    ``expected_version``: the comparison is made while the lock is held, so no write can slip in between."""
    locked = Counterpart.objects.select_for_update().get(pk=counterpart.pk)
    locked.country = counterpart.country  # the country never changes; it is in hand already
    if locked.merged_into_id:
        raise ValidationError(_("%(name)s was merged into another record: change that one.") % {"name": locked.name})
    if locked.erased_at:
        raise ValidationError(_("This person's data was erased: the record cannot be changed any more."))
    ensure_version(
        locked,
        expected_version,
        _("Someone else changed %(name)s while you were editing (changed by %(user)s at %(when)s). Your change was not saved."),
        name=locked.name,
    )
    return locked


@transaction.atomic
def counterpart_update(*, actor, counterpart: Counterpart, expected_version: int | None = None, **fields) -> Counterpart:
    """Edit a counterpart. ``expected_version``: the version the caller read (an edit form's hidden field); a
    counterpart changed since is refused with a ``ConflictError``. Without it the last write wins."""
    ensure_can_write_country(actor, counterpart.country)
    locked = _lock_counterpart(counterpart, expected_version)
    changes = apply_changes(locked, fields, allowed=COUNTERPART_FIELDS)
    if changes:
        locked.version += 1  # under the row lock: written in the same UPDATE as the change
        locked.save()
        emit(
            kind=catalogue.COUNTERPART_UPDATED,
            subject=locked,
            actor=actor,
            country_id=locked.country_id,
            payload={"changes": changes},
        )
    for field in Counterpart._meta.concrete_fields:  # the caller's instance shows what is stored now
        setattr(counterpart, field.attname, getattr(locked, field.attname))
    return counterpart


@transaction.atomic
def counterpart_leave_post(*, actor, counterpart: Counterpart, left_on: datetime.date | None = None) -> Counterpart:
    """Record that a counterpart left their post: they stay in the history, no longer active."""
    ensure_can_write_country(actor, counterpart.country)
    left_on = left_on or timezone.localdate()
    # Checked under the lock: two people recording the departure at once cannot both write their date.
    locked = _lock_counterpart(counterpart)
    if locked.active_to is not None:
        raise ValidationError(
            _("%(name)s already left this post on %(date)s.") % {"name": locked.name, "date": date_format(locked.active_to)}
        )
    return counterpart_update(actor=actor, counterpart=counterpart, active_to=left_on)


@transaction.atomic
def counterpart_merge(*, actor, keep: Counterpart, duplicate: Counterpart) -> Counterpart:
    """Merge a duplicate into the record kept (programme staff): the engagements that name the duplicate name the one
    kept instead; the duplicate stays on record with its own dates, marked as merged into it, and leaves every list.
    Both must be counterparts of the same country, neither merged already."""
    ensure_programme_staff(actor)
    keep_row, dup_row = (Counterpart.objects.select_for_update().get(pk=c.pk) for c in (keep, duplicate))
    if keep_row.pk == dup_row.pk:
        raise ValidationError(_("Choose two different counterparts."))
    if keep_row.country_id != dup_row.country_id:
        raise ValidationError(_("Only counterparts of the same country can be merged."))
    if keep_row.merged_into_id or dup_row.merged_into_id:
        raise ValidationError(_("One of them was already merged into another record."))
    if keep_row.erased_at or dup_row.erased_at:
        # Merging would bring an erased person's engagements back under a name, or hide a live record in an erased one.
        raise ValidationError(_("One of them was erased: an erased person cannot be merged."))
    # The engagements' links move without a reach into the engagements app: the relation's own table.
    links = Counterpart.engagements.through.objects
    named_both = links.filter(counterpart=keep_row).values("engagement_id")
    moved = list(links.filter(counterpart=dup_row).exclude(engagement_id__in=named_both).values_list("engagement_id", flat=True))
    touched = list(links.filter(counterpart=dup_row).values_list("engagement_id", flat=True))
    links.filter(counterpart=dup_row, engagement_id__in=moved).update(counterpart=keep_row)
    links.filter(counterpart=dup_row).delete()
    # The engagements now name someone else: a form read before the merge is refused as out of date (a 409).
    engagement_model = Counterpart.engagements.field.model
    engagement_model.objects.filter(pk__in=touched).update(version=F("version") + 1)
    dup_row.merged_into = keep_row
    dup_row.version += 1
    dup_row.save(update_fields=["merged_into", "version", "updated_at"])
    emit(
        kind=catalogue.COUNTERPART_MERGED,
        subject=dup_row,
        actor=actor,
        country_id=dup_row.country_id,
        payload={"into": keep_row.pk, "engagements": sorted(touched)},
    )
    return keep_row


# --- personal data ----------------------------------------------------------------------------------


def _same_person(counterpart: Counterpart) -> list[Counterpart]:
    """The record and every duplicate merged into it (at any depth): the records held on one person."""
    people, frontier = [counterpart], [counterpart.pk]
    while frontier:
        merged = list(Counterpart.objects.filter(merged_into_id__in=frontier).order_by("pk"))
        people += merged
        frontier = [c.pk for c in merged]
    return people


def _needles(people) -> dict[str, str]:
    """What stands for the person in free text, and what it becomes: their names, e-mails and phone numbers."""
    replacements = {}
    for person in people:
        for value, marker in ((person.name, Counterpart.ERASED_NAME), (person.email, Counterpart.ERASED_TEXT)):
            if value and value.strip() and value != Counterpart.ERASED_NAME:
                replacements[value.strip()] = marker
        if person.phone and person.phone.strip():
            replacements[person.phone.strip()] = Counterpart.ERASED_TEXT
    return replacements


@transaction.atomic
def counterpart_erase(*, actor, counterpart: Counterpart, reason: str) -> Counterpart:
    """Erase a person (programme staff): a request under the GDPR, or data no longer needed.

    Their record, and every duplicate merged into it, keeps its country, ministry and dates but loses the name (now
    ``Counterpart.ERASED_NAME``), title, e-mail, phone and notes, for good: nothing can change an erased record or
    merge it. The engagements that named them still do ("a counterpart (erased)"); the person's name, e-mail and
    phone are replaced wherever the portal copied them: the audit log, event payloads, and the summary, outcome and
    follow-ups of those engagements. One audit entry and one event record the erasure, holding none of it."""
    ensure_can_handle_personal_data(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why this person's data is erased (without naming them).")})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": _("At most %(n)d characters.") % {"n": REASON_MAX_LENGTH}})
    locked = Counterpart.objects.select_for_update().get(pk=counterpart.pk)
    if locked.merged_into_id:
        raise ValidationError(_("This record was merged into another one: erase the record kept."))
    if locked.erased_at:
        raise ValidationError(_("This person's data was already erased."))
    people = _same_person(locked)
    ids = [p.pk for p in people]
    replacements = _needles(people)
    now = timezone.now()

    # The history of the records themselves: every value of a personal field, and the name they were shown by.
    erase_history(Counterpart, ids, Counterpart.PERSONAL_FIELDS, Counterpart.ERASED_TEXT)
    own = Event.objects.filter(subject_type=catalogue.subject_type(Counterpart), subject_id__in=[str(pk) for pk in ids])
    for event in own.filter(kind__in=[catalogue.COUNTERPART_CREATED, catalogue.COUNTERPART_UPDATED]):
        payload = dict(event.payload or {})
        if "name" in payload:
            payload["name"] = Counterpart.ERASED_NAME
        changes = payload.get("changes")
        if isinstance(changes, dict):
            payload["changes"] = {
                k: ([Counterpart.ERASED_TEXT if v not in (None, "") else v for v in vs] if isinstance(vs, list) else vs)
                if k in Counterpart.PERSONAL_FIELDS
                else vs
                for k, vs in changes.items()
            }
        Event.objects.filter(pk=event.pk).update(payload=payload)
    # Wherever else the portal copied them: any audit entry or event, and the text of the engagements naming them.
    scrub(LogEntry.objects.all(), ["object_repr", "changes_text", "changes", "serialized_data", "additional_data"], replacements)
    scrub(Event.objects.all(), ["payload", "last_error"], replacements)
    # The engagements are reached through the relation's own table (countries does not import engagements).
    links = Counterpart.engagements.through.objects.filter(counterpart_id__in=ids)
    engagement_ids = sorted(set(links.values_list("engagement_id", flat=True)))
    engagement_model = Counterpart.engagements.field.model
    scrubbed = scrub(engagement_model.objects.filter(pk__in=engagement_ids), ["summary", "outcome"], replacements)
    follow_up_model = engagement_model._meta.get_field("follow_ups").related_model
    scrub(follow_up_model.objects.filter(engagement_id__in=engagement_ids), ["description"], replacements)
    if scrubbed:  # a form read before the erasure is refused as out of date, not saved back with the name in it
        engagement_model.objects.filter(pk__in=engagement_ids).update(version=F("version") + 1)

    blank = {"name": Counterpart.ERASED_NAME, "title": "", "email": "", "phone": "", "notes": ""}
    Counterpart.objects.filter(pk__in=ids).update(**blank)  # no signal: the audit log never sees the old values
    for person in people:
        person.refresh_from_db()
        person.erased_at, person.erased_by, person.version = now, actor, person.version + 1
        person.erasure_reason = reason if person.pk == locked.pk else ""
        # Audited: who erased, when and why (the values erased were blanked above, so the entry holds none of them).
        person.save(update_fields=["erased_at", "erased_by", "erasure_reason", "version", "updated_at"])
    emit(
        kind=catalogue.COUNTERPART_ERASED,
        subject=locked,
        actor=actor,
        country_id=locked.country_id,
        payload={"records": ids, "engagements": engagement_ids},
    )
    for field in Counterpart._meta.concrete_fields:
        setattr(counterpart, field.attname, getattr(people[0], field.attname))
    return counterpart


def counterpart_personal_data(counterpart: Counterpart) -> dict:
    """Everything the portal holds on one person, as plain values: their record and the duplicates merged into it,
    the engagements naming them (with their follow-ups), the changes to their record (audit log) and its events."""
    people = _same_person(counterpart)
    ids = [p.pk for p in people]

    def record(person):
        return {
            "id": person.pk,
            "country": person.country.iso2 if person.country_id else None,
            "name": person.name,
            "title": person.title,
            "organisation": person.organisation,
            "email": person.email,
            "phone": person.phone,
            "active_from": person.active_from,
            "active_to": person.active_to,
            "notes": person.notes,
            "merged_into": person.merged_into_id,
            "erased_at": person.erased_at,
            "created_at": person.created_at,
            "updated_at": person.updated_at,
        }

    engagement_model = Counterpart.engagements.field.model
    engagements = (
        engagement_model.objects.filter(counterparts__in=ids)
        .distinct()
        .prefetch_related("tracks", "follow_ups")
        .order_by("occurred_on", "pk")
    )
    content_type = ContentType.objects.get_for_model(Counterpart)
    entries = (
        LogEntry.objects.filter(content_type=content_type, object_pk__in=[str(pk) for pk in ids])
        .select_related("actor")
        .order_by("timestamp", "pk")
    )
    events = Event.objects.filter(
        subject_type=catalogue.subject_type(Counterpart), subject_id__in=[str(pk) for pk in ids]
    ).order_by("created_at", "pk")
    return {
        "person": record(people[0]),
        "merged_records": [record(p) for p in people[1:]],
        "engagements": [
            {
                "id": e.pk,
                "occurred_on": e.occurred_on,
                "kind": e.kind,
                "summary": e.summary,
                "outcome": e.outcome,
                "sensitivity": e.sensitivity,
                "voided_at": e.voided_at,
                "tracks": sorted(t.key for t in e.tracks.all()),
                "follow_ups": [{"description": f.description, "due_on": f.due_on} for f in e.follow_ups.all()],
            }
            for e in engagements
        ],
        "changes": [
            {
                "record": int(entry.object_pk),
                "timestamp": entry.timestamp,
                "action": entry.get_action_display(),
                "by": entry.actor.get_username() if entry.actor else None,
                "changes": entry.changes or {},
            }
            for entry in entries
        ],
        "events": [
            {"record": int(event.subject_id), "kind": event.kind, "created_at": event.created_at, "payload": event.payload}
            for event in events
        ],
    }


def counterpart_export_personal_data(*, actor, counterpart: Counterpart, fmt: str) -> dict:
    """What is held on a person, for a subject access request (programme staff); the audit log records who read it
    out, when and in which format (and none of it)."""
    ensure_can_handle_personal_data(actor)
    data = counterpart_personal_data(counterpart)
    log_access(counterpart, actor=actor, what=f"personal data exported ({fmt})")
    return data


@transaction.atomic
def counterpart_apply_retention(*, now=None) -> int:
    """Past ``RETENTION_ERASED_DAYS`` after an erasure, the record forgets why and by whom it was erased, in its
    audit entries too (it stays erased, with the date). Run nightly (``apply_retention``); safe to run twice."""
    days = settings.RETENTION_ERASED_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    due = Counterpart.objects.filter(erased_at__lt=cutoff).exclude(erasure_reason="", erased_by__isnull=True)
    ids = list(due.values_list("pk", flat=True))
    if ids:
        erase_history(Counterpart, ids, ("erasure_reason", "erased_by"), Counterpart.ERASED_TEXT)
        Counterpart.objects.filter(pk__in=ids).update(erasure_reason="", erased_by=None)
    return len(ids)


@transaction.atomic
def liaison_assign(*, actor, user, country: Country) -> LiaisonAssignment:
    ensure_programme_staff(actor)
    if not roles.is_in_role_group(user, roles.LIAISON):
        raise ValidationError(_("%(user)s is not in the liaison group.") % {"user": user})
    assignment, created = LiaisonAssignment.objects.get_or_create(user=user, country=country)
    if created:
        emit(
            kind=catalogue.LIAISON_ASSIGNED,
            subject=assignment,
            actor=actor,
            country_id=country.pk,
            payload={"user": user.get_username()},
        )
    return assignment


@transaction.atomic
def liaison_unassign(*, actor, user, country: Country) -> None:
    ensure_programme_staff(actor)
    deleted, _rows = LiaisonAssignment.objects.filter(user=user, country=country).delete()
    if deleted:
        emit(
            kind=catalogue.LIAISON_UNASSIGNED,
            subject=country,
            actor=actor,
            country_id=country.pk,
            payload={"user": user.get_username()},
        )


def _grouping_countries(countries) -> list[Country]:
    countries = list(countries)
    if not countries:
        raise ValidationError({"countries": _("Choose at least one country.")})
    return countries


def _grouping_payload(grouping: CountryGrouping, countries) -> dict:
    return {"name": grouping.name, "countries": sorted(c.iso2 for c in countries)}


@transaction.atomic
def grouping_create(*, actor, name: str, countries, description: str = "") -> CountryGrouping:
    ensure_can_manage_groupings(actor)
    countries = _grouping_countries(countries)
    grouping = CountryGrouping(name=(name or "").strip(), description=(description or "").strip(), created_by=actor)
    grouping.full_clean()
    grouping.save()
    grouping.countries.set(countries)
    emit(kind=catalogue.GROUPING_CREATED, subject=grouping, actor=actor, payload=_grouping_payload(grouping, countries))
    return grouping


@transaction.atomic
def grouping_update(*, actor, grouping: CountryGrouping, name: str, countries, description: str = "") -> CountryGrouping:
    ensure_can_manage_groupings(actor)
    countries = _grouping_countries(countries)
    grouping = CountryGrouping.objects.select_for_update().get(pk=grouping.pk)
    grouping.name, grouping.description = (name or "").strip(), (description or "").strip()
    grouping.full_clean()
    grouping.save()
    grouping.countries.set(countries)
    emit(kind=catalogue.GROUPING_UPDATED, subject=grouping, actor=actor, payload=_grouping_payload(grouping, countries))
    return grouping


@transaction.atomic
def grouping_delete(*, actor, grouping: CountryGrouping) -> None:
    ensure_can_manage_groupings(actor)
    emit(kind=catalogue.GROUPING_DELETED, subject=grouping, actor=actor, payload={"name": grouping.name})
    grouping.delete()


@transaction.atomic
def liaison_assignments_set_by_identity_provider(*, user, countries) -> None:
    """Make the liaison's assignments exactly ``countries``, as the identity provider's claims say at sign-in
    (core/identity.py). There is no staff actor (the provider decides): the events name none ("system")."""
    wanted = {country.pk: country for country in countries}
    current = {a.country_id: a for a in LiaisonAssignment.objects.filter(user=user).select_related("country")}
    for country_id, assignment in current.items():
        if country_id not in wanted:
            assignment.delete()
            emit(
                kind=catalogue.LIAISON_UNASSIGNED,
                subject=assignment.country,
                actor=None,
                country_id=country_id,
                payload={"user": user.get_username()},
            )
    for country_id, country in wanted.items():
        if country_id not in current:
            assignment = LiaisonAssignment.objects.create(user=user, country=country)
            emit(
                kind=catalogue.LIAISON_ASSIGNED,
                subject=assignment,
                actor=None,
                country_id=country_id,
                payload={"user": user.get_username()},
            )
