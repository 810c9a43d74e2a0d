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
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from countries import services as country_services
from countries.models import Counterpart, Country
from countries.policies import user_can_write_country
from engagements import services as engagement_services
from engagements.models import Agreement, Engagement
from infrastructure import services as infrastructure_services
from infrastructure.epoch import dms_to_decimal
from infrastructure.models import CapacityPhase, Facility, FacilityPartner, Organisation
from partnerships import services as partnership_services
from partnerships.models import CountryTrack
from tracks.models import Stage, Track

CREATE, UPDATE, UNCHANGED, ERROR = "create", "update", "unchanged", "error"


def normalise(text: str) -> str:
    """A header or name compared without case, accents, spaces or punctuation: "Date de l'échange" -> "datedelechange".
    A name with no Latin letter at all ("مركز أبوظبي") is compared by its case-folded letters and digits instead."""
    ascii_form = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().casefold()
    ascii_form = re.sub(r"[^a-z0-9]", "", ascii_form)
    if ascii_form or not str(text).strip():
        return ascii_form
    return "".join(ch for ch in unicodedata.normalize("NFKC", str(text)).casefold() if ch.isalnum())


@dataclass(frozen=True)
class Field:
    name: str
    label: object
    headers: tuple[str, ...]
    required: bool = False


# The columns most kinds share: a row's own id in the sheet, and its country (by name or ISO code).
EXTERNAL_ID = Field("external_id", gettext_lazy("External id"), ("external id", "id externe", "reference", "référence", "ref"))
COUNTRY = Field("country", gettext_lazy("Country"), ("country", "pays", "iso2", "country code", "code pays"), True)


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
        _("“%(value)s” is not one of: %(choices)s.") % {"value": value[:40], "choices": ", ".join(dict(choices))},
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
    # True when a row may find what an earlier row of the same file wrote (its dry run is then read whole).
    rows_build_on_earlier = False

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
        EXTERNAL_ID,
        COUNTRY,
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
        EXTERNAL_ID,
        COUNTRY,
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
        COUNTRY,
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
        EXTERNAL_ID,
        COUNTRY,
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


def parse_decimal(value: str, field_name: str) -> Decimal | None:
    """A number as spreadsheets write it: "1 200,5" or "1,200.5" or "$2,000,000"; empty is None."""
    text = re.sub(r"[\s\u00a0\u202f$€£]", "", value or "")
    if not text:
        return None
    if "," in text and "." not in text and re.fullmatch(r"-?\d+,\d{1,2}", text):
        text = text.replace(",", ".")  # a French decimal comma: "12,5"
    elif not re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?|-?\d+(\.\d+)?", text):
        # "1.200,5" or "1.200" (thousands with dots) would be read as 1.2: refused rather than guessed.
        raise RowError(field_name, _("“%(value)s” is not a number: write 1200.5 or 1,200.5.") % {"value": value[:40]})
    text = text.replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise RowError(field_name, _("“%(value)s” is not a number.") % {"value": value[:40]})
    if number < 0:
        raise RowError(field_name, _("This cannot be negative."))
    return number


class AgreementKind(Kind):
    """Signed agreements: a letter of intent, a memorandum or a binding agreement, with its tracks and expiry."""

    name = "agreements"
    label = gettext_lazy("Agreements")
    fields = (
        EXTERNAL_ID,
        COUNTRY,
        Field("kind", gettext_lazy("Kind"), ("kind", "type", "nature", "document"), True),
        Field("title", gettext_lazy("Title"), ("title", "titre", "name", "nom", "intitulé", "intitule"), True),
        Field(
            "signed_on", gettext_lazy("Signed on"), ("signed on", "signed", "date signed", "signé le", "signe le", "date"), True
        ),
        Field("expires_on", gettext_lazy("Expires on"), ("expires on", "expiry", "expires", "expire le", "échéance", "fin")),
        Field(
            "signatory_level",
            gettext_lazy("Signatory level"),
            ("signatory level", "signatory", "signed by", "niveau du signataire", "signataire"),
        ),
        Field("tracks", gettext_lazy("Tracks"), ("tracks", "track", "volets", "volet", "axes")),
        Field("source_url", gettext_lazy("Source"), ("source", "source url", "link", "lien", "url")),
        Field("notes", gettext_lazy("Notes"), ("notes", "remarques", "commentaires")),
    )
    example_rows = (
        {"country": "KE", "kind": "mou", "title": "Memorandum on AI skills", "signed_on": "2026-02-10",
         "expires_on": "2029-02-10", "signatory_level": "minister", "tracks": "workforce",
         "source_url": "https://example.org/ke-mou", "notes": ""},
        {"country": "Kenya", "kind": "Letter of intent", "title": "Letter of intent on a national data centre",
         "signed_on": "15/06/2026", "expires_on": "", "signatory_level": "Senior official", "tracks": "data_centres",
         "source_url": "", "notes": "Site to be chosen"},
    )  # fmt: skip

    def prepare(self, values, ctx):
        values["_country"] = ctx.country(values.get("country", ""))
        values["title"] = " ".join(values.get("title", "").split())
        if not values["title"]:
            raise RowError("title", _("Give the agreement's title."))
        values["_kind"] = _choice(values.get("kind", ""), _french_labels(Agreement.Kind.choices), "kind", "")
        if not values["_kind"]:
            raise RowError("kind", _("Say what kind of agreement it is: loi, mou or binding."))
        values["_signatory_level"] = _choice(
            values.get("signatory_level", ""),
            _french_labels(Agreement.SignatoryLevel.choices),
            "signatory_level",
            Agreement.SignatoryLevel.MINISTER,
        )
        values["_signed_on"] = parse_date(values.get("signed_on", ""), "signed_on")
        if values["_signed_on"] is None:
            raise RowError("signed_on", _("Give the date the agreement was signed."))
        values["_expires_on"] = parse_date(values.get("expires_on", ""), "expires_on")
        if values["_expires_on"] and values["_expires_on"] <= values["_signed_on"]:
            raise RowError("expires_on", _("An agreement expires after the day it was signed."))
        values["_tracks"] = [ctx.track(name, "tracks") for name in split_list(values.get("tracks", ""))]
        values["source_url"] = values.get("source_url", "").strip()
        if values["source_url"]:
            try:
                URLValidator(schemes=["http", "https"])(values["source_url"])
            except ValidationError as exc:
                raise RowError("source_url", _("Give the source as a web address (https://...).")) from exc

    def key(self, values, ctx):
        if values.get("external_id"):
            return ("external", values["external_id"].strip())
        return ("natural", values["_country"].pk, normalise(values["title"]), values["_signed_on"].isoformat())

    def find(self, values, ctx):
        wanted = normalise(values["title"])
        for agreement in Agreement.objects.filter(country=values["_country"], signed_on=values["_signed_on"]).order_by("pk"):
            if normalise(agreement.title) == wanted:
                return agreement
        return None

    def fetch(self, object_id):
        return Agreement.objects.select_related("country").filter(pk=object_id).first()

    def _fields(self, values):
        return {
            "kind": values["_kind"],
            "title": values["title"],
            "signed_on": values["_signed_on"],
            "expires_on": values["_expires_on"],
            "signatory_level": values["_signatory_level"],
            "source_url": values["source_url"],
            "notes": values.get("notes", "").strip(),
        }

    def write(self, values, ctx, existing):
        country, fields = values["_country"], self._fields(values)
        if existing is None:
            agreement = engagement_services.agreement_create(actor=ctx.actor, country=country, tracks=values["_tracks"], **fields)
            return Outcome(CREATE, agreement.pk, country.pk)
        # An empty optional cell leaves the portal's value as it is (its default is for a new agreement only).
        optional = ("expires_on", "signatory_level", "source_url", "notes")
        fields = {k: v for k, v in fields.items() if k not in optional or values.get(k, "").strip()}
        changed = {k: v for k, v in fields.items() if getattr(existing, k) != v}
        tracks = None
        if values.get("tracks", "").strip() and {t.pk for t in values["_tracks"]} != set(
            existing.tracks.values_list("pk", flat=True)
        ):
            tracks = values["_tracks"]
        if not changed and tracks is None:
            return Outcome(UNCHANGED, existing.pk, country.pk)
        engagement_services.agreement_update(actor=ctx.actor, agreement=existing, tracks=tracks, **changed)
        return Outcome(UPDATE, existing.pk, country.pk)


PARTNER = re.compile(r"^(?P<name>.+?)\s*\((?P<role>[^()]+)\)\s*$")


class FacilityKind(Kind):
    """Data centres and supercomputers, a row per capacity phase: the facility's fields (repeated on each of its
    rows), the phase's figures, and its partners as "Organisation (role)" separated by semicolons.

    A row whose phase columns are empty is the facility alone. Partners are added, never removed (a partner left
    off a row stays); an organisation not yet in the portal is created for programme staff, and is a row error for
    a liaison (staff keep the list of organisations)."""

    name = "facilities"
    label = gettext_lazy("Facilities with capacity phases and partners")
    rows_build_on_earlier = True  # a phase's row finds the facility an earlier row created
    PHASE = ("online_on", "state", "power_mw", "accelerator_count", "accelerator_type", "h100_equivalents",
             "capital_cost_usd")  # fmt: skip
    fields = (
        COUNTRY,
        Field("name", gettext_lazy("Facility"), ("facility", "name", "installation", "nom", "site", "project", "projet"), True),
        Field("kind", gettext_lazy("Kind"), ("kind", "type", "nature")),
        Field("city", gettext_lazy("City"), ("city", "ville", "location", "lieu")),
        Field("status", gettext_lazy("Status"), ("status", "statut", "état", "etat")),
        Field("sector", gettext_lazy("Sector"), ("sector", "secteur")),
        Field("certainty", gettext_lazy("Certainty"), ("certainty", "certitude", "confidence", "confiance")),
        Field("latitude", gettext_lazy("Latitude"), ("latitude", "lat")),
        Field("longitude", gettext_lazy("Longitude"), ("longitude", "lon", "lng", "long")),
        Field("announced_on", gettext_lazy("Announced on"), ("announced on", "announced", "annoncé le", "annonce le")),
        Field("expected_online", gettext_lazy("Expected online"), ("expected online", "en service prévu", "mise en service")),
        Field("source_url", gettext_lazy("Source"), ("source", "source url", "link", "lien", "url")),
        Field("description", gettext_lazy("Description"), ("description", "notes", "remarques")),
        Field("phase", gettext_lazy("Phase"), ("phase", "capacity phase", "tranche")),
        Field("online_on", gettext_lazy("Phase online on"), ("phase online on", "online on", "en service le")),
        Field("state", gettext_lazy("Phase state"), ("phase state", "state", "planned or online", "état de la phase")),
        Field("power_mw", gettext_lazy("Power (MW)"), ("power (mw)", "power mw", "power", "mw", "puissance (mw)", "puissance")),
        Field("accelerator_count", gettext_lazy("Accelerators"), ("accelerators", "gpus", "accélérateurs", "accelerateurs")),
        Field("accelerator_type", gettext_lazy("Accelerator type"), ("accelerator type", "gpu type", "type d'accélérateur")),
        Field("h100_equivalents", gettext_lazy("H100-equivalents"), ("h100-equivalents", "h100 equivalents", "h100e")),
        Field(
            "capital_cost_usd",
            gettext_lazy("Capital cost (USD)"),
            ("capital cost (usd)", "capital cost", "cost", "coût (usd)", "cout", "coût"),
        ),
        Field("partners", gettext_lazy("Partners"), ("partners", "partenaires", "organisations")),
    )
    example_rows = (
        {"country": "KE", "name": "Nairobi AI Campus", "kind": "data_centre", "city": "Nairobi", "status": "planned",
         "sector": "public_private", "certainty": "likely", "latitude": "-1.28638", "longitude": "36.81722",
         "announced_on": "2026-04-01", "expected_online": "2028-01-01", "source_url": "https://example.org/nairobi",
         "description": "", "phase": "Phase 1", "online_on": "2027-06-30", "state": "planned", "power_mw": "40",
         "accelerator_count": "8000", "accelerator_type": "H100", "h100_equivalents": "8000",
         "capital_cost_usd": "400000000", "partners": "Example Builders Ltd (builder); Example Power (energy)"},
        {"country": "KE", "name": "Nairobi AI Campus", "kind": "data_centre", "city": "Nairobi", "status": "planned",
         "sector": "public_private", "certainty": "likely", "latitude": "-1.28638", "longitude": "36.81722",
         "announced_on": "2026-04-01", "expected_online": "2028-01-01", "source_url": "https://example.org/nairobi",
         "description": "", "phase": "Phase 2", "online_on": "2028-01-01", "state": "planned", "power_mw": "60",
         "accelerator_count": "", "accelerator_type": "", "h100_equivalents": "", "capital_cost_usd": "",
         "partners": ""},
    )  # fmt: skip

    def prepare(self, values, ctx):
        values["_country"] = ctx.country(values.get("country", ""))
        values["name"] = " ".join(values.get("name", "").split())
        if not values["name"]:
            raise RowError("name", _("Name the facility."))
        found = {}
        for name, choices in (("kind", Facility.Kind.choices), ("status", Facility.Status.choices),
                              ("sector", Facility.Sector.choices), ("certainty", Facility.Certainty.choices)):  # fmt: skip
            if values.get(name, "").strip():
                found[name] = _choice(values[name], _french_labels(choices), name, "")
        for name, low, high in (("latitude", -90, 90), ("longitude", -180, 180)):
            if values.get(name, "").strip():
                try:
                    text = values[name].strip()
                    text = text.replace(",", ".") if re.fullmatch(r"-?\d+,\d+", text) else text  # "48,85" in French
                    found[name] = dms_to_decimal(text)
                    if not found[name].is_finite():
                        raise ValueError(text)
                except ValueError as exc:
                    raise RowError(name, _("“%(value)s” is not a coordinate: write 51.5072 or 51°30'26\"N.")
                                   % {"value": values[name][:40]}) from exc  # fmt: skip
                if not low <= found[name] <= high:
                    raise RowError(name, _("Must be between %(low)s and %(high)s.") % {"low": low, "high": high})
        for name in ("announced_on", "expected_online"):
            if values.get(name, "").strip():
                found[name] = parse_date(values[name], name)
        if values.get("source_url", "").strip():
            found["source_url"] = values["source_url"].strip()
            try:
                URLValidator(schemes=["http", "https"])(found["source_url"])
            except ValidationError as exc:
                raise RowError("source_url", _("Give the source as a web address (https://...).")) from exc
        if values.get("description", "").strip():
            found["description"] = values["description"].strip()
        if values.get("city", "").strip():
            found["city"] = " ".join(values["city"].split())
        values["_facility"] = found

        phase = {}
        values["phase"] = " ".join(values.get("phase", "").split())
        has_phase = values["phase"] or any(values.get(name, "").strip() for name in self.PHASE)
        if has_phase:
            phase["name"] = values["phase"] or "Phase 1"
            phase["online_on"] = parse_date(values.get("online_on", ""), "online_on")
            if phase["online_on"] is None:
                raise RowError("online_on", _("Give the date the phase comes online (expected, or actual)."))
            phase["state"] = _choice(
                values.get("state", ""), _french_labels(CapacityPhase.State.choices), "state", CapacityPhase.State.PLANNED
            )
            for name in ("power_mw", "h100_equivalents", "capital_cost_usd", "accelerator_count"):
                number = parse_decimal(values.get(name, ""), name)
                if name == "accelerator_count" and number is not None:
                    if number != number.to_integral_value():
                        raise RowError(name, _("Give a whole number."))
                    number = int(number)
                if number is not None or name == "capital_cost_usd":
                    phase[name] = number
                else:
                    phase[name] = 0
            phase["accelerator_type"] = values.get("accelerator_type", "").strip()
        values["_phase"] = phase
        # The phase's cells the row fills: on a phase already there, only those are compared and written.
        values["_phase_given"] = {"name", "online_on"} | {n for n in self.PHASE if values.get(n, "").strip()}

        partners = []
        for item in split_list(values.get("partners", "")):
            match = PARTNER.match(item)
            if match is None:
                raise RowError("partners", _("Write each partner as “Organisation (role)”: “%(item)s”.") % {"item": item[:60]})
            role = _choice(match["role"], _french_labels(FacilityPartner.Role.choices), "partners", "")
            partners.append((" ".join(match["name"].split()), role))
        values["_partners"] = partners

    def key(self, values, ctx):
        return ("natural", values["_country"].pk, normalise(values["name"]), normalise(values["_phase"].get("name", "")))

    def find(self, values, ctx):
        wanted = normalise(values["name"])
        for facility in Facility.objects.filter(country=values["_country"]).order_by("pk"):
            if normalise(facility.name) == wanted:
                return facility
        return None

    def fetch(self, object_id):
        return Facility.objects.select_related("country").filter(pk=object_id).first()

    def _organisation(self, name, ctx):
        organisation = Organisation.objects.filter(name__iexact=name).first()
        if organisation is None:
            try:  # the service says who may add an organisation (programme staff)
                organisation = infrastructure_services.organisation_create(actor=ctx.actor, name=name)
            except PermissionDenied as exc:
                raise RowError(
                    "partners", _("No organisation is called “%(name)s”: programme staff add it first.") % {"name": name[:60]}
                ) from exc
        return organisation

    def write(self, values, ctx, existing):
        country, wrote = values["_country"], False
        facility = existing
        if facility is None:
            facility = infrastructure_services.facility_create(
                actor=ctx.actor, country=country, name=values["name"], **values["_facility"]
            )
            wrote = True
        else:
            changed = {k: v for k, v in values["_facility"].items() if getattr(facility, k) != v}
            if changed:
                infrastructure_services.facility_update(actor=ctx.actor, facility=facility, **changed)
                wrote = True
        phase_fields = dict(values["_phase"])
        if phase_fields:
            wanted = normalise(phase_fields["name"])
            phase = next((p for p in CapacityPhase.objects.filter(facility=facility) if normalise(p.name) == wanted), None)
            if phase is None:
                infrastructure_services.capacity_phase_add(actor=ctx.actor, facility=facility, **phase_fields)
                wrote = True
            else:
                phase.facility = facility
                changed = {k: v for k, v in phase_fields.items() if k in values["_phase_given"] and getattr(phase, k) != v}
                if changed:
                    infrastructure_services.capacity_phase_update(actor=ctx.actor, phase=phase, **changed)
                    wrote = True
        for name, role in values["_partners"]:
            organisation = self._organisation(name, ctx)
            if not FacilityPartner.objects.filter(facility=facility, organisation=organisation, role=role).exists():
                infrastructure_services.facility_partner_add(
                    actor=ctx.actor, facility=facility, organisation=organisation, role=role
                )
                wrote = True
        if existing is None:
            return Outcome(CREATE, facility.pk, country.pk)
        return Outcome(UPDATE if wrote else UNCHANGED, facility.pk, country.pk)


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (EngagementKind(), CounterpartKind(), StageKind(), FollowUpKind(), AgreementKind(), FacilityKind())
}
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
