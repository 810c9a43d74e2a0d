"""What each kind of import reads from a row and how it writes it: through the apps' services only.

A kind names its fields (with the English and French headers that map to them), how a row's key is made (its
external id, else its natural key), how the record already there is found, and how a row is written: created,
updated or left unchanged. Every write goes through the service of the record's app, so its rules, permissions,
audit entries and outbox events apply exactly as for a form or the API.
"""

import datetime
import re
import unicodedata
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from countries import services as country_services
from countries.models import Counterpart, Country
from countries.policies import user_can_write_country
from engagements import services as engagement_services
from engagements.models import Engagement
from partnerships import services as partnership_services
from partnerships.models import CountryTrack
from tracks.models import Stage, Track

CREATE, UPDATE, UNCHANGED, ERROR = "create", "update", "unchanged", "error"


def normalise(text: str) -> str:
    """A header or name compared without case, accents, spaces or punctuation: "Date de l'échange" -> "datedelechange"."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().casefold()
    return re.sub(r"[^a-z0-9]", "", text)


@dataclass(frozen=True)
class Field:
    name: str
    label: object
    headers: tuple[str, ...]
    required: bool = False


class RowError(Exception):
    """A row refused: the field it is about (or "") and the reason."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = str(message)


@dataclass
class Outcome:
    action: str
    object_id: int | None = None
    country_id: int | None = None
    message: str = ""


DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d")


def parse_date(value: str, field_name: str) -> datetime.date | None:
    value = value.strip()
    if not value:
        return None
    value = value[:10] if re.match(r"^\d{4}-\d{2}-\d{2}T", value) else value
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise RowError(field_name, _("“%(value)s” is not a date: write it 2026-03-31 or 31/03/2026.") % {"value": value[:40]})


def split_list(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;\n|]", value or "") if part.strip()]


@dataclass
class Context:
    """What every row of one import reads: the actor, the reference data (read once), the keys seen so far."""

    actor: object
    countries: dict = field(default_factory=dict)
    tracks: dict = field(default_factory=dict)
    _counterparts: dict = field(default_factory=dict)

    @classmethod
    def load(cls, actor) -> "Context":
        ctx = cls(actor=actor)
        for country in Country.objects.all():
            for name in (country.iso2, country.iso3, country.name_en, country.name_fr):
                if name:
                    ctx.countries.setdefault(normalise(name), country)
        for track in Track.objects.all():
            for name in (track.key, track.name_en, track.name_fr):
                if name:
                    ctx.tracks.setdefault(normalise(name), track)
        return ctx

    def country(self, value: str) -> Country:
        value = (value or "").strip()
        if not value:
            raise RowError("country", _("Name the country (its name or ISO code)."))
        country = self.countries.get(normalise(value))
        if country is None:
            raise RowError("country", _("No country is called “%(value)s”.") % {"value": value[:60]})
        if not user_can_write_country(self.actor, country):
            raise RowError(
                "country", _("You may not import data for %(country)s: it is not one of your countries.") % {"country": country}
            )
        return country

    def track(self, value: str, field_name: str = "track") -> Track:
        track = self.tracks.get(normalise(value))
        if track is None:
            raise RowError(field_name, _("No track is called “%(value)s”.") % {"value": value[:60]})
        return track

    def counterparts_of(self, country: Country) -> dict:
        """Every counterpart of the country by name, merged-away ones resolved to the record kept."""
        if country.pk not in self._counterparts:
            by_name = {}
            rows = list(Counterpart.objects.filter(country=country).order_by("merged_into_id", "pk"))
            kept = {c.pk: c for c in rows}
            for c in rows:
                target = c
                while target.merged_into_id and target.merged_into_id in kept:
                    target = kept[target.merged_into_id]
                if not c.is_erased:
                    by_name.setdefault(normalise(c.name), target)
            self._counterparts[country.pk] = by_name
        return self._counterparts[country.pk]

    def forget_counterparts(self, country_id: int) -> None:
        self._counterparts.pop(country_id, None)

    def forget_all(self) -> None:
        self._counterparts.clear()


def _choice(value: str, choices, field_name: str, default: str) -> str:
    value = (value or "").strip()
    if not value:
        return default
    for key, label in choices:
        if normalise(value) in (normalise(key), normalise(str(label))):
            return key
    raise RowError(
        field_name,
        _("“%(value)s” is not one of: %(choices)s.") % {"value": value[:40], "choices": ", ".join(k for k, _ in choices)},
    )


def _french_labels(choices) -> list:
    """The choices with their French labels as well (a French sheet says "Réunion", not "Meeting")."""
    from django.utils import translation

    with translation.override("fr"):
        french = [(key, str(label)) for key, label in choices]
    return [*choices, *french]


class Kind:
    name = ""
    label = ""
    fields: tuple[Field, ...] = ()
    example_rows: tuple[dict, ...] = ()

    def key(self, values: dict, ctx: Context) -> tuple:
        raise NotImplementedError

    def find(self, values: dict, ctx: Context):
        """The record already there for this row by its natural key, or None."""
        raise NotImplementedError

    def write(self, values: dict, ctx: Context, existing) -> Outcome:
        raise NotImplementedError

    def is_retired(self, record) -> str:
        """Why a record found for a row is left alone (voided, erased, merged away), or ""."""
        return ""

    def fetch(self, object_id: int):
        raise NotImplementedError


class EngagementKind(Kind):
    name = "engagements"
    label = gettext_lazy("Engagements")
    fields = (
        Field("external_id", gettext_lazy("External id"), ("external id", "id externe", "reference", "référence", "ref")),
        Field("country", gettext_lazy("Country"), ("country", "pays", "iso2", "country code", "code pays"), True),
        Field("date", gettext_lazy("Date"), ("date", "occurred on", "date de l'échange", "le"), True),
        Field("kind", gettext_lazy("Kind"), ("kind", "type", "nature", "genre")),
        Field("summary", gettext_lazy("Summary"), ("summary", "résumé", "resume", "subject", "objet", "sujet"), True),
        Field("outcome", gettext_lazy("Outcome"), ("outcome", "résultat", "resultat", "result", "issue")),
        Field("tracks", gettext_lazy("Tracks"), ("tracks", "track", "volets", "volet", "axes")),
        Field("counterparts", gettext_lazy("Counterparts"), ("counterparts", "people", "interlocuteurs", "contacts")),
        Field("sensitivity", gettext_lazy("Sensitivity"), ("sensitivity", "sensibilité", "confidentiality", "confidentialité")),
    )
    example_rows = (
        {"country": "KE", "date": "2026-03-02", "kind": "meeting", "summary": "Workforce plan kick-off with the ministry",
         "outcome": "Agreed to draft a training plan", "tracks": "workforce", "counterparts": "", "sensitivity": "normal"},
        {"country": "Kenya", "date": "12/03/2026", "kind": "call", "summary": "Data-centre site options",
         "outcome": "", "tracks": "data_centres; workforce", "counterparts": "", "sensitivity": "confidential"},
    )  # fmt: skip

    def key(self, values, ctx):
        if values.get("external_id"):
            return ("external", values["external_id"].strip())
        return ("natural", values["_country"].pk, values["_date"].isoformat(), values["_kind"], normalise(values["summary"]))

    def prepare(self, values, ctx):
        values["_country"] = ctx.country(values.get("country", ""))
        values["_date"] = parse_date(values.get("date", ""), "date")
        if values["_date"] is None:
            raise RowError("date", _("Give the date of the engagement."))
        if not values.get("summary", "").strip():
            raise RowError("summary", _("Summarise what was discussed."))
        values["_kind"] = _choice(
            values.get("kind", ""), _french_labels(Engagement.Kind.choices), "kind", Engagement.Kind.MEETING
        )
        values["_sensitivity"] = _choice(
            values.get("sensitivity", ""),
            _french_labels(Engagement.Sensitivity.choices),
            "sensitivity",
            Engagement.Sensitivity.NORMAL,
        )
        values["_tracks"] = [ctx.track(name, "tracks") for name in split_list(values.get("tracks", ""))]
        people = ctx.counterparts_of(values["_country"])
        found = []
        for name in split_list(values.get("counterparts", "")):
            person = people.get(normalise(name))
            if person is None:
                raise RowError(
                    "counterparts",
                    _("%(country)s has no counterpart called “%(name)s”: import the counterparts first.")
                    % {"country": values["_country"], "name": name[:60]},
                )
            if person not in found:
                found.append(person)
        values["_counterparts"] = found

    def find(self, values, ctx):
        return (
            Engagement.objects.filter(
                country=values["_country"], occurred_on=values["_date"], kind=values["_kind"], summary=values["summary"].strip()
            )
            .order_by("pk")
            .first()
        )

    def fetch(self, object_id):
        return Engagement.objects.select_related("country").filter(pk=object_id).first()

    def is_retired(self, record):
        return _("voided, left as it is") if record.is_voided else ""

    def write(self, values, ctx, existing):
        country = values["_country"]
        fields = {
            "kind": values["_kind"],
            "summary": values["summary"].strip(),
            "outcome": values.get("outcome", "").strip(),
            "sensitivity": values["_sensitivity"],
            "occurred_on": values["_date"],
        }
        if existing is None:
            engagement = engagement_services.engagement_log(
                actor=ctx.actor, country=country, occurred_on=fields.pop("occurred_on"), tracks=values["_tracks"],
                counterparts=values["_counterparts"], **fields,
            )  # fmt: skip
            return Outcome(CREATE, engagement.pk, country.pk)
        same = all(getattr(existing, k) == v for k, v in fields.items())
        same = same and {t.pk for t in values["_tracks"]} == set(existing.tracks.values_list("pk", flat=True))
        same = same and {c.pk for c in values["_counterparts"]} == set(existing.counterparts.values_list("pk", flat=True))
        if same:
            return Outcome(UNCHANGED, existing.pk, country.pk)
        engagement_services.engagement_update(
            actor=ctx.actor, engagement=existing, tracks=values["_tracks"], counterparts=values["_counterparts"], **fields
        )
        return Outcome(UPDATE, existing.pk, country.pk)


class CounterpartKind(Kind):
    name = "counterparts"
    label = gettext_lazy("Counterparts")
    WRITTEN = ("title", "organisation", "email", "phone", "active_from", "active_to", "notes")
    fields = (
        Field("external_id", gettext_lazy("External id"), ("external id", "id externe", "reference", "référence", "ref")),
        Field("country", gettext_lazy("Country"), ("country", "pays", "iso2", "country code", "code pays"), True),
        Field("name", gettext_lazy("Name"), ("name", "nom", "full name", "nom complet", "person", "personne"), True),
        Field("title", gettext_lazy("Title"), ("title", "titre", "fonction", "position", "poste")),
        Field(
            "organisation",
            gettext_lazy("Ministry or agency"),
            ("organisation", "organization", "ministry", "ministère", "agency", "agence"),
        ),
        Field("email", gettext_lazy("E-mail"), ("email", "e-mail", "courriel", "mail")),
        Field("phone", gettext_lazy("Phone"), ("phone", "téléphone", "telephone", "tel")),
        Field("active_from", gettext_lazy("In post from"), ("in post from", "active from", "en poste depuis", "depuis", "from")),
        Field(
            "active_to", gettext_lazy("In post until"), ("in post until", "active to", "en poste jusqu'au", "jusqu'au", "until")
        ),
        Field("notes", gettext_lazy("Notes"), ("notes", "remarques", "commentaires")),
    )
    example_rows = (
        {"country": "KE", "name": "Jane Wanjiru", "title": "Principal Secretary", "organisation": "Ministry of ICT",
         "email": "jane.wanjiru@example.org", "phone": "+254 20 000 0000", "active_from": "2025-01-15", "active_to": "",
         "notes": ""},
    )  # fmt: skip

    def prepare(self, values, ctx):
        values["_country"] = ctx.country(values.get("country", ""))
        values["name"] = values.get("name", "").strip()
        if not values["name"]:
            raise RowError("name", _("Give the person's name."))
        for date_field in ("active_from", "active_to"):
            values[f"_{date_field}"] = parse_date(values.get(date_field, ""), date_field)

    def key(self, values, ctx):
        if values.get("external_id"):
            return ("external", values["external_id"].strip())
        return ("natural", values["_country"].pk, normalise(values["name"]))

    def find(self, values, ctx):
        wanted = normalise(values["name"])
        for person in Counterpart.objects.filter(country=values["_country"]).exclude(erased_at__isnull=False).order_by("pk"):
            if normalise(person.name) == wanted:
                return person
        return None

    def fetch(self, object_id):
        return Counterpart.objects.select_related("country").filter(pk=object_id).first()

    def is_retired(self, record):
        if record.is_erased:
            return _("this person's data was erased: not brought back")
        if record.merged_into_id:
            return _("merged into another record: left as it is")
        return ""

    def _fields(self, values):
        out = {}
        for name in self.WRITTEN:
            out[name] = values.get(f"_{name}") if name.startswith("active_") else values.get(name, "").strip()
        return out

    def write(self, values, ctx, existing):
        country = values["_country"]
        fields = self._fields(values)
        if existing is None:
            person = country_services.counterpart_create(actor=ctx.actor, country=country, name=values["name"], **fields)
            ctx.forget_counterparts(country.pk)
            return Outcome(CREATE, person.pk, country.pk)
        changed = {k: v for k, v in fields.items() if getattr(existing, k) != v}
        if existing.name != values["name"]:
            changed["name"] = values["name"]
        if not changed:
            return Outcome(UNCHANGED, existing.pk, country.pk)
        country_services.counterpart_update(actor=ctx.actor, counterpart=existing, **changed)
        ctx.forget_counterparts(country.pk)
        return Outcome(UPDATE, existing.pk, country.pk)


class StageKind(Kind):
    """The current stage of a country's track: a move along the ladder (or a pause, a withdrawal) written as stage
    history by the stage services, with the row's note."""

    name = "stages"
    label = gettext_lazy("Current stage of country tracks")
    fields = (
        Field("country", gettext_lazy("Country"), ("country", "pays", "iso2", "country code", "code pays"), True),
        Field("track", gettext_lazy("Track"), ("track", "volet", "axe"), True),
        Field("stage", gettext_lazy("Stage"), ("stage", "étape", "etape", "stade", "current stage", "étape actuelle"), True),
        Field("note", gettext_lazy("Note"), ("note", "reason", "raison", "motif", "commentaire")),
        Field("resume_on", gettext_lazy("Resume on"), ("resume on", "reprise le", "reprise")),
    )
    example_rows = (
        {"country": "KE", "track": "workforce", "stage": "negotiating", "note": "Draft plan shared", "resume_on": ""},
        {"country": "KE", "track": "data_centres", "stage": "paused", "note": "Elections", "resume_on": "2027-01-15"},
    )

    def prepare(self, values, ctx):
        country = ctx.country(values.get("country", ""))
        track = ctx.track(values.get("track", ""))
        cell = CountryTrack.objects.select_related("stage", "country", "track").filter(country=country, track=track).first()
        if cell is None:
            raise RowError(
                "track", _("%(country)s has no partnership on this track yet: staff open it first.") % {"country": country}
            )
        wanted = normalise(values.get("stage", ""))
        stage = next(
            (
                s
                for s in Stage.objects.filter(track=track)
                if wanted in (normalise(s.key), normalise(s.name_en), normalise(s.name_fr or ""))
            ),
            None,
        )
        if stage is None:
            raise RowError(
                "stage",
                _("Track “%(track)s” has no stage “%(stage)s”.") % {"track": track.name, "stage": values.get("stage", "")[:60]},
            )
        values.update(_country=country, _cell=cell, _stage=stage, _resume_on=parse_date(values.get("resume_on", ""), "resume_on"))

    def key(self, values, ctx):
        return ("natural", values["_cell"].pk)

    def find(self, values, ctx):
        return values["_cell"]

    def fetch(self, object_id):
        return CountryTrack.objects.select_related("stage", "country", "track").filter(pk=object_id).first()

    def write(self, values, ctx, existing):
        cell, stage, note = existing, values["_stage"], values.get("note", "").strip()
        if cell.stage_id == stage.pk:
            return Outcome(UNCHANGED, cell.pk, cell.country_id)
        if stage.kind == Stage.Kind.PAUSED:
            partnership_services.country_track_pause(
                actor=ctx.actor, country_track=cell, reason=note, resume_on=values["_resume_on"]
            )
        elif stage.kind == Stage.Kind.WITHDRAWN:
            partnership_services.country_track_withdraw(actor=ctx.actor, country_track=cell, reason=note)
        else:
            if cell.stage.kind == Stage.Kind.PAUSED:
                partnership_services.country_track_resume(actor=ctx.actor, country_track=cell, note=note)
            if cell.stage_id != stage.pk:
                partnership_services.country_track_move(actor=ctx.actor, country_track=cell, to_stage=stage, note=note)
        return Outcome(UPDATE, cell.pk, cell.country_id)


YES = {"yes", "oui", "true", "vrai", "1", "x", "done", "fait"}
NO = {"", "no", "non", "false", "faux", "0", "open", "ouvert"}


class FollowUpKind(Kind):
    """Follow-ups not tied to an engagement (a list of things to do per country), with an owner and a track."""

    name = "follow-ups"
    label = gettext_lazy("Follow-ups")
    fields = (
        Field("external_id", gettext_lazy("External id"), ("external id", "id externe", "reference", "référence", "ref")),
        Field("country", gettext_lazy("Country"), ("country", "pays", "iso2", "country code", "code pays"), True),
        Field(
            "description", gettext_lazy("What to do"), ("what to do", "description", "action", "à faire", "tache", "tâche"), True
        ),
        Field("due_on", gettext_lazy("Due on"), ("due on", "due", "due date", "échéance", "echeance", "pour le"), True),
        Field("track", gettext_lazy("Track"), ("track", "volet", "axe")),
        Field("owner", gettext_lazy("Owner"), ("owner", "responsable", "assigned to", "assigné à", "qui")),
        Field("done", gettext_lazy("Done"), ("done", "fait", "completed", "terminé", "termine")),
    )
    example_rows = (
        {"country": "KE", "description": "Send the draft training plan", "due_on": "2026-12-20", "track": "workforce",
         "owner": "", "done": "no"},
    )  # fmt: skip

    def prepare(self, values, ctx):
        from django.contrib.auth import get_user_model
        from django.db.models import Q

        values["_country"] = ctx.country(values.get("country", ""))
        values["description"] = " ".join(values.get("description", "").split())
        values["_due_on"] = parse_date(values.get("due_on", ""), "due_on")
        values["_track"] = ctx.track(values["track"]) if values.get("track", "").strip() else None
        owner = values.get("owner", "").strip()
        values["_owner"] = None
        if owner:
            values["_owner"] = get_user_model().objects.filter(Q(username=owner) | Q(email__iexact=owner), is_active=True).first()
            if values["_owner"] is None:
                raise RowError("owner", _("No active user is called “%(owner)s”.") % {"owner": owner[:60]})
        done = normalise(values.get("done", ""))
        if done not in YES | NO:
            raise RowError("done", _("Write yes or no."))
        values["_done"] = done in YES

    def key(self, values, ctx):
        if values.get("external_id"):
            return ("external", values["external_id"].strip())
        return ("natural", values["_country"].pk, normalise(values["description"]), values["_due_on"].isoformat())

    def find(self, values, ctx):
        from engagements.models import FollowUp

        return (
            FollowUp.objects.filter(country=values["_country"], description=values["description"], due_on=values["_due_on"])
            .order_by("pk")
            .first()
        )

    def fetch(self, object_id):
        from engagements.models import FollowUp

        return FollowUp.objects.select_related("country", "engagement").filter(pk=object_id).first()

    def is_retired(self, record):
        return _("its engagement is voided: left as it is") if record.engagement_id and record.engagement.is_voided else ""

    def write(self, values, ctx, existing):
        country = values["_country"]
        if existing is None:
            follow_up = engagement_services.follow_up_create(
                actor=ctx.actor, country=country, description=values["description"], due_on=values["_due_on"],
                owner=values["_owner"], track=values["_track"],
            )  # fmt: skip
            if values["_done"]:
                engagement_services.follow_up_complete(actor=ctx.actor, follow_up=follow_up)
            return Outcome(CREATE, follow_up.pk, country.pk)
        changed = {}
        if values.get("owner", "").strip() and existing.owner_id != getattr(values["_owner"], "pk", None):
            changed["owner"] = values["_owner"]
        if values.get("track", "").strip() and existing.track_id != getattr(values["_track"], "pk", None):
            changed["track"] = values["_track"]
        wrote = False
        if changed:
            engagement_services.follow_up_update(actor=ctx.actor, follow_up=existing, **changed)
            wrote = True
        if values.get("done", "").strip() and values["_done"] != existing.is_done:
            service = engagement_services.follow_up_complete if values["_done"] else engagement_services.follow_up_reopen
            service(actor=ctx.actor, follow_up=existing)
            wrote = True
        return Outcome(UPDATE if wrote else UNCHANGED, existing.pk, country.pk)


KINDS: dict[str, Kind] = {kind.name: kind for kind in (EngagementKind(), CounterpartKind(), StageKind(), FollowUpKind())}
# Errors of the services, named by their field: the column of the sheet they come from.
SERVICE_FIELDS = {"occurred_on": "date", "to_stage": "stage", "reason": "note", "__all__": ""}  # others keep their name


def guess_mapping(kind: Kind, header: list[str]) -> dict[str, int]:
    """The column of each field, guessed from the header row (English or French); a field with no match is left out."""
    normalised = [normalise(h) for h in header]
    mapping = {}
    for f in kind.fields:
        candidates = [normalise(f.name), normalise(str(f.label)), *(normalise(h) for h in f.headers)]
        for wanted in candidates:
            if wanted in normalised and normalised.index(wanted) not in mapping.values():
                mapping[f.name] = normalised.index(wanted)
                break
    return mapping


def service_error(exc: Exception) -> RowError:
    """A service's refusal as a row error on the column it is about."""
    if isinstance(exc, PermissionDenied):
        return RowError("country", str(exc))
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        name, messages = next(iter(exc.message_dict.items()))
        return RowError(SERVICE_FIELDS.get(name, name), " ".join(messages))
    if isinstance(exc, ValidationError):
        return RowError("", " ".join(exc.messages))
    return RowError("", str(exc))
