"""The audit log: who changed what and when, with the values before and after (django-auditlog).

Every model a user can change through the portal, the API or the admin is registered (``AUDITED``); the
rows that only the machinery writes are left out on purpose, each with its reason (``NOT_AUDITED``).
Secrets never reach the log: password hashes and token digests are not tracked, and a webhook secret
shows only that it changed.

The actor is the signed-in user for pages and the admin, the token's user for API calls
(``AuditActorMiddleware``), and empty for Celery tasks and commands, which have no request: "system".

The page (``core.views.audit_log``) reads entries through ``audit_entries`` and shows them with
``describe``, which resolves the ids of related rows a page at a time (one query per kind of row).
"""

import dataclasses
import datetime
import ipaddress

from auditlog.cid import get_cid
from auditlog.context import auditlog_disabled
from auditlog.diff import model_instance_diff
from auditlog.middleware import AuditlogMiddleware
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Q
from django.db.models.signals import pre_save
from django.utils import timezone
from django.utils.encoding import smart_str
from django.utils.formats import date_format
from django.utils.functional import SimpleLazyObject
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.throttling import BaseThrottle

# app_label.model: how each audited model is registered (fields left out, masked, many-to-many fields followed).
# Fields that Django stamps on every save (``auto_now``) are left out too (the entry has its own time), and so
# are reverse relations.
AUDITED: dict[str, dict] = {
    "auth.user": {"exclude_fields": ["password", "last_login"], "m2m_fields": {"groups", "user_permissions"}},
    "auth.group": {"m2m_fields": {"permissions"}},
    # A token's primary key is its digest: neither tracked nor used to name the entry (see _keep_entry_safe).
    "core.apitoken": {"exclude_fields": ["digest", "last_used_at"]},
    "core.demodataset": {},
    "core.publicrecordsource": {},
    "countries.country": {},
    "countries.liaisonassignment": {},
    "countries.counterpart": {},
    "countries.countrygrouping": {"m2m_fields": {"countries"}},
    "infrastructure.organisation": {},
    "infrastructure.facility": {},
    "infrastructure.capacityphase": {},
    "infrastructure.facilitypartner": {},
    "tracks.track": {},
    "tracks.stage": {},
    "partnerships.partnership": {},
    "partnerships.countrytrack": {},
    "partnerships.stagechange": {},
    "engagements.engagement": {"m2m_fields": {"tracks", "counterparts"}},
    "engagements.followup": {},
    "engagements.agreement": {"m2m_fields": {"tracks"}},
    "announcements.announcement": {"m2m_fields": {"countries", "tracks", "agreements", "facilities"}},
    "announcements.announcementrevision": {},
    "notifications.preference": {},
    "notifications.subscription": {},
    "notifications.webhookendpoint": {"mask_fields": ["secret"], "mask_callable": "core.audit.redact"},
    # Created and revoked by its user, like a token: the digest of its secret is never tracked.
    "notifications.calendarfeed": {"exclude_fields": ["secret_digest", "last_used_at"]},
    # Who was invited, by whom, when accepted or withdrawn: never the digest of the link's token.
    "accounts.invitation": {"exclude_fields": ["token_digest"]},
}

# Rows no user changes: logging them would add a query or two to the machinery's writes and bury the
# people's changes under its own. The outbox (core.Event) records what happened to them.
NOT_AUDITED: dict[str, str] = {
    "core.event": "the outbox itself, already the activity log of every service write",
    "core.idempotencykey": "the stored answers of creates already done (24 hours), written with the write itself",
    "engagements.engagementtrack": "an engagement's links to tracks, audited on the engagement as its tracks field "
    "(an add or a change of the many-to-many field); the country and date they copy are the engagement's",
    "countries.countrystatus": "read model rewritten by the rollup (one bulk upsert, no per-row save)",
    "partnerships.rolluprequest": "the rollup's work queue: each row lives for seconds",
    "partnerships.briefingpack": "a user's own download, written by the task that builds it (progress, the PDF) and "
    "purged after days; its request, completion and failure are outbox events",
    "notifications.notification": "inbox rows written per event by the dispatcher",
    "notifications.emaildelivery": "delivery bookkeeping of the e-mail task",
    "notifications.digest": "delivery bookkeeping of the digest task",
    "notifications.reminder": "delivery bookkeeping of the reminder task",
    "notifications.webhookdelivery": "delivery bookkeeping of the webhook task",
    "accounts.signedinsession": "written at every sign-in and refreshed as a session is used; ending one is a service"
    " with its own event",
    # An import's own rows: what it writes into the portal goes through the services, audited there, marked import:<id>.
    "imports.importjob": "an upload and where its dry run or apply stands; the records it writes are audited",
    "imports.importfilechunk": "the bytes of an uploaded file",
    "imports.importrowresult": "what a dry run or apply did with each row, shown on its page",
    "imports.importedrecord": "the ledger of keys an import wrote (digests only), read by the next import",
}

# Bookkeeping fields that every write bumps: the optimistic-locking counter (core.conflicts) says nothing to a reader.
COUNTERS = ("version",)

REDACTED = "********"


def redact(value: str) -> str:
    """What the log keeps of a secret: that there was one (and so that it changed), never any of it."""
    return "" if value in ("", "None") else REDACTED


def register_models() -> None:
    """Register ``AUDITED`` with django-auditlog (from ``CoreConfig.ready``)."""
    for label, options in AUDITED.items():
        model = apps.get_model(label)
        stamped = [f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
        # The rows pointing at this one are not its values (left in, a creation would list "app.Model.None" for each).
        reverse = [f.name for f in model._meta.get_fields() if f.auto_created and not f.concrete]
        counters = [name for name in COUNTERS if any(f.name == name for f in model._meta.concrete_fields)]
        excluded = [*options.get("exclude_fields", ()), *stamped, *reverse, *counters]
        auditlog.register(model, **{**options, "exclude_fields": excluded})
    pre_save.connect(_keep_entry_safe, sender=LogEntry, dispatch_uid="core.audit.keep_entry_safe")


CID_MAX_LENGTH = LogEntry._meta.get_field("cid").max_length


def _keep_entry_safe(sender, instance, **kwargs):
    """Just before an entry is written: a token is named by its key, never by its digest (its primary key);
    the correlation id, copied from a request header, is cut to its column (longer, PostgreSQL refuses the write)."""
    if instance.cid:
        instance.cid = instance.cid[:CID_MAX_LENGTH]
    content_type = instance.content_type
    if (content_type.app_label, content_type.model) == ("core", "apitoken"):
        instance.object_pk = _token_key(instance)


def _token_key(entry) -> str:
    for value in (entry.changes or {}).get("token_key", ()):
        if isinstance(value, str) and value not in ("", "None"):
            return value
    from .models import ApiToken

    return ApiToken.objects.filter(pk=entry.object_pk).values_list("token_key", flat=True).first() or ""


class AuditActorMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware, with the actor read when an entry is written rather than when the request
    comes in.

    The REST API authenticates tokens in the view (DRF), after every middleware has run, and then sets the
    user on the request: read at the start, the actor of an API call would be anonymous. (Opening a second
    ``set_actor`` context inside the view instead leaks a signal receiver per request, django-auditlog#846.)
    The client address is the one the API throttling uses (``NUM_PROXIES``), never a header any client can
    write, and the port is not kept: a forged header must not name someone else's address, nor make the
    write fail (an address that is not one, a negative port).
    """

    @staticmethod
    def _get_actor(request):
        return SimpleLazyObject(lambda: AuditlogMiddleware._get_actor(request))

    @staticmethod
    def _get_remote_addr(request):
        try:
            return str(ipaddress.ip_address(BaseThrottle().get_ident(request) or ""))
        except ValueError:
            return None

    @staticmethod
    def _get_remote_port(request):
        return None


# --- rows written in bulk ---------------------------------------------------------------------------------


def bulk_create_audited(model, objects: list) -> list:
    """Insert ``objects`` in one statement, with the audit entries that saving each one would have written, in one
    statement too. ``bulk_create`` sends no signals, so django-auditlog sees nothing of it by itself: each entry is
    built as its receiver would (the same changes, name and serialised data) and passes through ``pre_save`` as a
    saved entry does, which gives it the actor, the address and the correlation id of the request or task, and
    ``_keep_entry_safe``. The rows need primary keys back from the insert (PostgreSQL and SQLite give them)."""
    created = model.objects.bulk_create(objects)
    if not created or not auditlog.contains(model) or auditlog_disabled.get():
        return created
    from django.contrib.contenttypes.models import ContentType
    from django.db import router

    content_type = ContentType.objects.get_for_model(model)
    cid, using = get_cid(), router.db_for_write(LogEntry)
    entries = []
    for instance in created:
        changes = model_instance_diff(None, instance, use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES)
        entry = LogEntry(
            content_type=content_type,
            object_pk=str(instance.pk),
            object_id=instance.pk if isinstance(instance.pk, int) else None,
            object_repr=smart_str(instance),
            serialized_data=LogEntry.objects._get_serialized_data_or_none(instance),
            action=LogEntry.Action.CREATE,
            changes=changes,
            cid=cid,
        )
        pre_save.send(sender=LogEntry, instance=entry, raw=False, using=using, update_fields=None)
        entries.append(entry)
    LogEntry.objects.bulk_create(entries)
    return created


def add_links_audited(instance, field_name: str, rows, through_defaults: dict | None = None) -> None:
    """Link ``instance``, created in this transaction and so without links yet, to ``rows`` through its many-to-many
    field ``field_name``: one INSERT, and the audit entry django-auditlog's receiver writes for an ``add``.

    ``add()`` on a relation django-auditlog follows reads the existing links first, checks each row one by one, and
    its receiver then reads every added row back to name it: for an announcement naming 249 countries, more than
    the rest of the write. Here the rows are in hand and named as they are; the entry is the receiver's own
    (``LogEntry.objects.log_m2m_changes``), given a list instead of a query. ``through_defaults``: the other
    columns of each link, as ``add()`` takes them."""
    rows = list({row.pk: row for row in rows}.values())  # each row once, as the receiver's set of keys has it
    if not rows:
        return
    manager = getattr(instance, field_name)
    through, source, target = manager.through, manager.source_field_name, manager.target_field_name
    extra = through_defaults or {}
    through.objects.bulk_create([through(**{f"{source}_id": instance.pk, f"{target}_id": row.pk}, **extra) for row in rows])
    followed = AUDITED.get(instance._meta.label_lower, {}).get("m2m_fields", ())
    if field_name in followed and not auditlog_disabled.get():
        LogEntry.objects.log_m2m_changes(rows, instance, "add", field_name)


# --- personal data ----------------------------------------------------------------------------------


def erase_history(model, pks, fields, marker: str) -> int:
    """Rewrite the entries about the rows ``pks`` of ``model`` so that none holds the values of ``fields`` any more
    (each value that was there becomes ``marker``), nor names the row as it was (``object_repr``); the entries stay,
    with who changed what and when. The number of entries rewritten."""
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(model)
    entries = LogEntry.objects.filter(content_type=content_type, object_pk__in=[str(pk) for pk in pks])
    count = 0
    for entry in entries.iterator(chunk_size=500):
        changes = entry.changes if isinstance(entry.changes, dict) else {}
        for name in fields:
            value = changes.get(name)
            if isinstance(value, list):
                changes[name] = [v if v in (None, "", "None") else marker for v in value]
            elif isinstance(value, dict) and isinstance(value.get("objects"), list):  # a many-to-many change
                changes[name] = {**value, "objects": [marker for _v in value["objects"]]}
        LogEntry.objects.filter(pk=entry.pk).update(object_repr=marker, changes=changes, changes_text="", serialized_data=None)
        count += 1
    return count


def log_access(instance, *, actor, what: str) -> LogEntry:
    """An entry saying that ``actor`` read ``instance`` out of the portal (``what``: for example "personal data
    exported as csv"); it names the record as it is now and holds no values."""
    return LogEntry.objects.log_create(
        instance, force_log=True, action=LogEntry.Action.ACCESS, changes={}, actor=actor, additional_data={"access": what}
    )


# --- the page ------------------------------------------------------------------------------------------


SYSTEM = "system"
ACTIONS = {
    LogEntry.Action.CREATE: gettext_lazy("Created"),
    LogEntry.Action.UPDATE: gettext_lazy("Changed"),
    LogEntry.Action.DELETE: gettext_lazy("Deleted"),
    LogEntry.Action.ACCESS: gettext_lazy("Read out"),
}
ACTION_KEYS = {
    "created": LogEntry.Action.CREATE,
    "changed": LogEntry.Action.UPDATE,
    "deleted": LogEntry.Action.DELETE,
    "read": LogEntry.Action.ACCESS,
}
# An export holds at most this many entries, newest first (the page says so).
EXPORT_LIMIT = 50_000


def audited_models() -> list:
    return sorted((apps.get_model(label) for label in AUDITED), key=lambda m: str(m._meta.verbose_name_plural).lower())


def user_label(user) -> str:
    return user.get_full_name() or user.get_username()


class AuditFilterForm(forms.Form):
    """The filters above the audit log. An invalid value is reported and ignored; the valid ones apply."""

    model = forms.ChoiceField(label=gettext_lazy("Kind of record"), required=False)
    object = forms.CharField(
        label=gettext_lazy("Record"), required=False, max_length=200, help_text=gettext_lazy("Its name, or its id.")
    )
    actor = forms.ChoiceField(label=gettext_lazy("Changed by"), required=False)
    action = forms.ChoiceField(label=gettext_lazy("Change"), required=False)
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=gettext_lazy("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [
            ("", _("All kinds")),
            *((m._meta.label_lower, capfirst(m._meta.verbose_name_plural)) for m in audited_models()),
        ]
        users = get_user_model().objects.order_by("username").only("pk", "username", "first_name", "last_name")
        self.fields["actor"].choices = [
            ("", _("Anyone")),
            (SYSTEM, _("System (background tasks)")),
            *((str(u.pk), user_label(u)) for u in users),
        ]
        self.fields["action"].choices = [("", _("Any change")), *((key, ACTIONS[value]) for key, value in ACTION_KEYS.items())]

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("“Until” cannot be before “From”."))
        return data

    def filters(self) -> dict:
        """The valid filters (call after ``is_valid()``; invalid fields are left out)."""
        data = getattr(self, "cleaned_data", {})
        return {name: value for name, value in data.items() if value not in (None, "")}


def file_filters(filters: dict) -> dict:
    """The filters as an export's file name shows them: the kind of record by its model's name, the person by their
    user name (or "system"), the dates in ISO 8601."""
    shown = dict(filters)
    if "model" in shown:
        shown["model"] = shown["model"].rpartition(".")[2]
    if "actor" in shown and shown["actor"] != SYSTEM:
        user = get_user_model().objects.filter(pk=shown["actor"]).only("username").first()
        shown["actor"] = user.get_username() if user else shown["actor"]
    for key in ("date_from", "date_to"):
        if key in shown:
            shown[key] = shown[key].isoformat()
    return shown


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def audit_entries(filters: dict):
    """Log entries of the audited models, newest first, narrowed by ``filters`` (see ``AuditFilterForm``)."""
    entries = LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-id")
    if filters.get("model"):
        app_label, _dot, model = filters["model"].partition(".")
        entries = entries.filter(content_type__app_label=app_label, content_type__model=model)
    if filters.get("object"):
        text = filters["object"].strip()
        # An id is exact; a name is looked for in each record's name as it was written (a token is named by its key).
        entries = entries.filter(Q(object_pk=text) if text.isdigit() else Q(object_pk=text) | Q(object_repr__icontains=text))
    actor = filters.get("actor")
    if actor == SYSTEM:
        entries = entries.filter(actor__isnull=True)
    elif actor:
        entries = entries.filter(actor_id=int(actor))
    if filters.get("action"):
        entries = entries.filter(action=ACTION_KEYS[filters["action"]])
    if filters.get("date_from"):
        entries = entries.filter(timestamp__gte=_day_start(filters["date_from"]))
    if filters.get("date_to"):
        entries = entries.filter(timestamp__lt=_day_start(filters["date_to"] + datetime.timedelta(days=1)))
    return entries


@dataclasses.dataclass
class Change:
    field: str
    before: str
    after: str


@dataclasses.dataclass
class Row:
    entry: LogEntry
    actor: str
    action: str
    kind: str
    changes: list


def _field(model, name):
    if model is None:
        return None
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field if field.concrete or field.many_to_many else None


def _is_reference(field) -> bool:
    return field is not None and (field.many_to_one or field.one_to_one) and field.concrete


def _references(rows) -> dict:
    """``{(model, pk): label}`` for every related row named in the changes of ``rows``: one query per kind of row."""
    wanted: dict = {}
    for entry in rows:
        model = entry.content_type.model_class()
        for name, values in (entry.changes or {}).items():
            field = _field(model, name)
            if not _is_reference(field) or not isinstance(values, list):
                continue
            target = field.related_model
            for value in values:
                if value in (None, "", "None"):
                    continue
                try:
                    wanted.setdefault(target, set()).add(target._meta.pk.to_python(value))
                except ValidationError:
                    continue
    labels = {}
    user_model = get_user_model()
    for target, pks in wanted.items():
        for pk, obj in target._base_manager.select_related().in_bulk(pks).items():
            labels[(target, str(pk))] = user_label(obj) if isinstance(obj, user_model) else str(obj)
    return labels


def _show(field, value, references, iso: bool = False) -> str:
    """A value as the log stored it (text), as a reader understands it: dates in the reader's format on the page,
    ISO 8601 in exports (``iso``)."""
    if value in (None, "None"):
        return ""
    if field is None:
        return str(value)
    if _is_reference(field):
        return references.get((field.related_model, str(value)), _("#%(id)s (no longer exists)") % {"id": value})
    if field.choices:
        return str({str(key): label for key, label in field.flatchoices}.get(str(value), value))
    internal = field.get_internal_type()
    if internal == "BooleanField":
        return _("yes") if value == "True" else _("no") if value == "False" else str(value)
    if internal == "DateTimeField":
        try:
            moment = datetime.datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        if timezone.is_naive(moment):  # stored in UTC, without its zone
            moment = moment.replace(tzinfo=datetime.UTC)
        return date_format(timezone.localtime(moment), "Y-m-d H:i" if iso else "DATETIME_FORMAT")
    if internal == "DateField" and not iso:
        try:
            return date_format(datetime.date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    return str(value)


def _changes(entry, model, references, iso: bool = False) -> list[Change]:
    changes = []
    for name, values in (entry.changes or {}).items():
        field = _field(model, name)
        label = capfirst(field.verbose_name) if field is not None and hasattr(field, "verbose_name") else name
        if isinstance(values, dict) and values.get("type") == "m2m":
            objects = ", ".join(values.get("objects", []))
            if values.get("operation") == "add":
                changes.append(Change(label, "", _("added: %(names)s") % {"names": objects}))
            else:
                changes.append(Change(label, _("removed: %(names)s") % {"names": objects}, ""))
        elif isinstance(values, list) and len(values) == 2 and not getattr(field, "primary_key", False):
            before, after = _show(field, values[0], references, iso), _show(field, values[1], references, iso)
            if before != after:  # a creation also lists the fields left empty
                changes.append(Change(label, before, after))
    return sorted(changes, key=lambda change: change.field.lower())


def describe(entries, iso: bool = False) -> list[Row]:
    """The entries as the page and the exports show them: who, what kind of change, which fields, before and after
    (dates in the reader's format, or in ISO 8601 for an export: ``iso``)."""
    entries = list(entries)
    references = _references(entries)
    rows = []
    for entry in entries:
        model = entry.content_type.model_class()
        if entry.actor is not None:
            actor = user_label(entry.actor)
        elif entry.actor_email:  # the user was deleted since
            actor = _("%(email)s (deleted user)") % {"email": entry.actor_email}
        else:
            actor = _("System")
        kind = capfirst(model._meta.verbose_name) if model is not None else entry.content_type.model
        action = str(ACTIONS.get(entry.action, entry.action))
        changes = _changes(entry, model, references, iso)
        if entry.action == LogEntry.Action.ACCESS and isinstance(entry.additional_data, dict):
            changes = [Change(_("What was read"), "", str(entry.additional_data.get("access", "")))]
        rows.append(Row(entry, actor, action, str(kind), changes))
    return rows


def export_rows(entries, chunk: int = 1000):
    """One line per changed field (an entry without fields gets one line), ``chunk`` entries read at a time."""
    batch = []
    for entry in entries[:EXPORT_LIMIT].iterator(chunk_size=chunk):
        batch.append(entry)
        if len(batch) == chunk:
            yield from _lines(describe(batch, iso=True))
            batch = []
    yield from _lines(describe(batch, iso=True))


def _lines(rows):
    for row in rows:
        when = timezone.localtime(row.entry.timestamp).replace(tzinfo=None, microsecond=0)
        head = [when, row.actor, row.action, row.kind, row.entry.object_pk, row.entry.object_repr]
        for change in row.changes or [Change("", "", "")]:
            yield [*head, change.field, change.before, change.after]


def export_headers() -> list[str]:
    return [
        _("Time (%(zone)s)") % {"zone": timezone.get_current_timezone_name()},
        _("Changed by"),
        _("Change"),
        _("Kind of record"),
        _("Record id"),
        _("Record"),
        _("Field"),
        _("Before"),
        _("After"),
    ]
