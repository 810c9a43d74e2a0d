"""Import Epoch AI's data (CC BY): its GPU-cluster CSV and its frontier data-centre CSVs.

``data_centers.csv`` gives one facility per row (the country is the last part of the address, coordinates are
degree-minute-second strings such as ``32°29'59"N``, partners carry confidence tags such as ``#confident``);
``data_center_timelines.csv`` gives its capacity phases, one per row. In the GPU-cluster CSV a record that
"Builds Upon" another is a phase of the facility it upgrades.

Facilities already in the portal are matched by country and name (case-insensitive) and reconciled field by
field: an empty field is filled, an equal one is unchanged, and a different one is reported as a conflict and
left as the portal has it, never overwritten. Every write goes through the services; every imported facility
carries its sources with the attribution "Data: Epoch AI, CC BY".
"""

import csv
import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.text import slugify

from core.public_record import EPOCH_ATTRIBUTION
from core.services import public_record_source_attach
from countries.models import Country

from .models import CapacityPhase, Facility, FacilityPartner, Organisation
from .services import capacity_phase_add, facility_create, facility_partner_add, facility_update, organisation_create

ATTRIBUTION = EPOCH_ATTRIBUTION
DMS = re.compile(r"""^\s*(\d+(?:\.\d+)?)\s*°\s*(?:(\d+(?:\.\d+)?)\s*['′]\s*)?(?:(\d+(?:\.\d+)?)\s*(?:"|″|'')\s*)?([NSEW])\s*$""")
TAG = re.compile(r"#([a-z_-]+)", re.IGNORECASE)
RECONCILED = ("city", "latitude", "longitude", "status", "certainty", "sector")


def dms_to_decimal(value: str) -> Decimal | None:
    """``32°29'59"N`` → 32.49972; a plain decimal passes through; empty → None."""
    value = (value or "").strip()
    if not value:
        return None
    match = DMS.match(value)
    if match is None:
        try:
            return Decimal(value).quantize(Decimal("0.00001"))
        except InvalidOperation as error:
            raise ValueError(f"not a coordinate: {value!r}") from error
    degrees, minutes, seconds, hemisphere = match.groups()
    decimal = Decimal(degrees) + Decimal(minutes or 0) / 60 + Decimal(seconds or 0) / 3600
    if hemisphere in "SW":
        decimal = -decimal
    return decimal.quantize(Decimal("0.00001"))


def parse_tagged(value: str) -> list[tuple[str, str]]:
    """``"Microsoft #confident, OpenAI #speculative"`` → [("Microsoft", "confident"), ("OpenAI", "speculative")]."""
    items = []
    for part in re.split(r"[,;\n]", value or ""):
        tags = TAG.findall(part)
        name = TAG.sub("", part).strip()
        if name:
            items.append((name, tags[0].lower() if tags else ""))
    return items


def _number(value) -> Decimal:
    text = re.sub(r"[,\s$]", "", str(value or ""))
    try:
        return Decimal(text) if text else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _date(value: str) -> datetime.date | None:
    value = (value or "").strip()
    for pattern in ("%Y-%m-%d", "%Y-%m", "%Y"):
        try:
            return datetime.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    return None


def _rows(path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)
    phases: int = 0
    partners: int = 0
    # (facility, field, portal's value, Epoch's value): kept as the portal has it.
    conflicts: list[tuple[str, str, str, str]] = field(default_factory=list)
    filled: list[tuple[str, str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"{ATTRIBUTION}.",
            f"created {len(self.created)}, matched {len(self.matched)}, phases {self.phases}, partners {self.partners}",
        ]
        out += [f"filled {name}.{f}: {new}" for name, f, new in self.filled]
        out += [f"conflict {name}.{f}: portal {old!r} kept, Epoch {new!r}" for name, f, old, new in self.conflicts]
        out += [f"error: {e}" for e in self.errors]
        return out


class _Importer:
    def __init__(self, actor, report: ImportReport, file_label: str):
        self.actor = actor
        self.report = report
        self.file_label = file_label
        self.countries = {c.name_en.lower(): c for c in Country.objects.all()}
        self.countries.update({c.iso2.lower(): c for c in Country.objects.all()})

    def country(self, name: str):
        return self.countries.get((name or "").strip().lower())

    def facility(self, country, name: str, values: dict, sources: list[str], key: str) -> Facility:
        facility = Facility.objects.filter(country=country, name__iexact=name).first()
        if facility is None:
            facility = facility_create(actor=self.actor, country=country, name=name, **values)
            self.report.created.append(name)
        else:
            self.reconcile(facility, values)
            self.report.matched.append(name)
        public_record_source_attach(
            actor=self.actor,
            subject=facility,
            key=key,
            fact=f"{name}: imported from Epoch AI's {self.file_label}.",
            reported_on=datetime.date.today().isoformat(),
            source_urls=[u for u in sources if u.startswith("https://")],
            source_text=f"{ATTRIBUTION} ({self.file_label})" + (f"; {'; '.join(sources)}" if sources else ""),
            certainty="secondary",
            verified=False,
            verification_note="Not verifiable here: imported from Epoch AI's file, not checked against its sources.",
            curated_on=datetime.date.today(),
        )
        return facility

    def reconcile(self, facility: Facility, values: dict):
        """Fill what the portal leaves empty; report every difference and keep the portal's value."""
        fill = {}
        for name in RECONCILED:
            if name not in values or values[name] in (None, ""):
                continue
            ours, theirs = getattr(facility, name), values[name]
            if ours in (None, ""):
                fill[name] = theirs
                self.report.filled.append((facility.name, name, str(theirs)))
            elif str(ours) != str(theirs):
                self.report.conflicts.append((facility.name, name, str(ours), str(theirs)))
        if fill:
            facility_update(actor=self.actor, facility=facility, **fill)

    def phase(self, facility: Facility, name: str, **values):
        if not CapacityPhase.objects.filter(facility=facility, name=name).exists():
            capacity_phase_add(actor=self.actor, facility=facility, name=name, **values)
            self.report.phases += 1

    def partners(self, facility: Facility, value: str, role: str):
        for name, confidence in parse_tagged(value):
            organisation = Organisation.objects.filter(name__iexact=name).first() or organisation_create(
                actor=self.actor, name=name[:200]
            )
            if not FacilityPartner.objects.filter(facility=facility, organisation=organisation, role=role).exists():
                facility_partner_add(
                    actor=self.actor, facility=facility, organisation=organisation, role=role, confidence=confidence
                )
                self.report.partners += 1


STATUS = {"existing": Facility.Status.OPERATIONAL, "planned": Facility.Status.PLANNED}
SECTOR = {"private": Facility.Sector.PRIVATE, "public": Facility.Sector.PUBLIC, "public/private": Facility.Sector.PUBLIC_PRIVATE}
BUILDING = {"operational": Facility.Status.OPERATIONAL, "under construction": Facility.Status.UNDER_CONSTRUCTION}


def import_data_centres(*, actor, data_centres, timelines=None) -> ImportReport:
    """``data_centers.csv`` (and optionally ``data_center_timelines.csv``) into facilities, phases and partners."""
    report = ImportReport()
    with transaction.atomic():
        importer = _Importer(actor, report, "frontier data centres")
        by_title = {}
        for number, row in enumerate(_rows(data_centres), start=2):
            name = row.get("Title") or row.get("Handle")
            country = importer.country((row.get("Address") or "").split(",")[-1])
            if not name or country is None:
                report.errors.append(f"data_centers.csv line {number}: no name or no known country in {row.get('Address')!r}")
                continue
            try:
                values = {"latitude": dms_to_decimal(row.get("Latitude")), "longitude": dms_to_decimal(row.get("Longitude"))}
            except ValueError as error:
                report.errors.append(f"data_centers.csv line {number}: {error}")
                continue
            parts = [p.strip() for p in (row.get("Address") or "").split(",")]
            if len(parts) > 1:
                values["city"] = parts[-2][:120]
            values = {k: v for k, v in values.items() if v not in (None, "")}
            facility = importer.facility(country, name, values, [], "epoch-dc-" + slugify(row.get("Handle") or name)[:100])
            for column, role in (("Owner", FacilityPartner.Role.OWNER), ("Users", FacilityPartner.Role.USER),
                                 ("Investors", FacilityPartner.Role.FINANCIER),
                                 ("Construction companies", FacilityPartner.Role.BUILDER),
                                 ("Energy companies", FacilityPartner.Role.ENERGY)):  # fmt: skip
                importer.partners(facility, row.get(column, ""), role)
            by_title[name.lower()] = facility
            by_title[(row.get("Handle") or "").lower()] = facility
        for number, row in enumerate(_rows(timelines) if timelines else [], start=2):
            facility = by_title.get((row.get("Data center") or "").lower())
            day = _date(row.get("Date"))
            if facility is None or day is None:
                report.errors.append(f"data_center_timelines.csv line {number}: unknown data centre or date")
                continue
            state = CapacityPhase.State.ACTUAL if day <= datetime.date.today() else CapacityPhase.State.PLANNED
            importer.phase(
                facility,
                f"{day.isoformat()} ({row.get('Construction status') or 'timeline'})"[:100],
                online_on=day,
                state=state,
                power_mw=_number(row.get("Power (MW)")),
                h100_equivalents=int(_number(row.get("H100 equivalents"))),
                capital_cost_usd=_number(row.get("Total capital cost")) or None,
            )
    return report


def import_gpu_clusters(*, actor, path) -> ImportReport:
    """Epoch's GPU-cluster CSV: one facility per record, except that a record that "Builds Upon" another is a phase
    of the facility at the root of its chain."""
    report = ImportReport()
    rows = {row["Name"]: row for row in _rows(path) if row.get("Name")}

    def root(name, seen=()):
        base = rows.get(name, {}).get("Builds Upon", "")
        return root(base, (*seen, name)) if base in rows and base not in seen else name

    with transaction.atomic():
        importer = _Importer(actor, report, "GPU clusters")
        facilities = {}
        for name in sorted(rows, key=lambda n: (root(n) != n, _date(rows[n].get("First Operational Date")) or datetime.date.max)):
            row = rows[name]
            base = root(name)
            country = importer.country(row.get("Country"))
            if country is None:
                report.errors.append(f"{name}: unknown country {row.get('Country')!r}")
                continue
            certainty = (row.get("Certainty") or "").lower()
            values = {
                "status": STATUS.get((row.get("Status") or "").lower(), ""),
                "certainty": certainty if certainty in Facility.Certainty.values else "",
                "sector": SECTOR.get((row.get("Sector") or "").lower(), ""),
                "kind": Facility.Kind.SUPERCOMPUTER,
                "city": (row.get("Location") or "")[:120],
            }
            values = {k: v for k, v in values.items() if v}
            sources = [row[f"Source {i}"] for i in range(1, 6) if row.get(f"Source {i}")]
            if base == name:
                facility = importer.facility(country, name, values, sources, "epoch-gpu-" + slugify(name)[:100])
                facilities[name] = facility
                importer.partners(facility, row.get("Owner", ""), FacilityPartner.Role.OWNER)
                importer.partners(facility, row.get("Users", ""), FacilityPartner.Role.USER)
            facility = facilities.get(base)
            if facility is None:
                continue
            day = _date(row.get("First Operational Date")) or datetime.date.today()
            status = (row.get("Status") or "").lower()
            importer.phase(
                facility,
                name[:100],
                online_on=day,
                state=CapacityPhase.State.ACTUAL if status == "existing" else CapacityPhase.State.PLANNED,
                power_mw=_number(row.get("Power Capacity (MW)") or row.get("Calculated/Reported Power Capacity (MW)")),
                accelerator_count=int(_number(row.get("Chip quantity (primary)") or row.get("Total number of AI chips"))),
                accelerator_type=(row.get("Chip type (primary)") or "")[:100],
                h100_equivalents=int(_number(row.get("H100 equivalents"))),
            )
    return report
