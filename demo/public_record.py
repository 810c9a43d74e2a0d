"""Load the curated public record (``demo/public_record/partnerships.json``) through the services.

Every record it touches (the country's partnership, the tracks it moves, agreements, facilities with their
phases and partners) gets a ``PublicRecordSource`` row per fact: the source URLs or, where the address is not
known, the source as reported, the date reported, the certainty and how it was checked. Loading again finds the
records by their natural keys (country; country and track; country, kind and title; country and name; facility
and phase name; facility, organisation and role) and creates nothing new. Tracks only move forward: a stage
already further along (in demo data or entered by staff) is left as it is.
"""

import datetime
import json
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import transaction

from core import roles
from core.services import public_record_source_attach
from countries.models import Country
from engagements.models import Agreement
from engagements.services import agreement_create
from infrastructure.models import CapacityPhase, Facility, FacilityPartner, Organisation
from infrastructure.services import capacity_phase_add, facility_create, facility_partner_add, organisation_create
from partnerships.models import CountryTrack, Partnership
from partnerships.services import country_track_move, partnership_create
from tracks.models import Stage, Track

DATASET = Path(__file__).resolve().parent / "public_record" / "partnerships.json"
ACTOR_USERNAME = "public-record"
PUBLIC_RECORD_CACHE_KEY = "portal:public-record"
AGREED_STAGES = {"agreed", "implementing", "operational"}


def read_dataset(path: Path = DATASET) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def public_record_actor():
    """The account the load is recorded under (programme staff; it has no password and cannot sign in)."""
    user, created = get_user_model().objects.get_or_create(
        username=ACTOR_USERNAME, defaults={"first_name": "Public", "last_name": "record", "is_active": True}
    )
    if created:
        user.set_unusable_password()
        user.save()
    group, _created = Group.objects.get_or_create(name=roles.STAFF)
    user.groups.add(group)
    return user


class _Loader:
    def __init__(self, dataset: dict, actor):
        self.actor = actor
        self.curated_on = datetime.date.fromisoformat(dataset["curated_on"])
        self.note = dataset["verification_note"]
        self.shared = {s["key"]: s for s in dataset.get("shared_sources", [])}
        self.counts = dict.fromkeys(
            ("partnerships", "stage_moves", "agreements", "facilities", "phases", "partners", "sources"), 0
        )
        self.sources_by_key = {}

    def attach(self, subject, source: dict):
        _row, created = public_record_source_attach(
            actor=self.actor,
            subject=subject,
            key=source["key"],
            fact=source["fact"],
            reported_on=source["reported_on"],
            source_urls=list(source.get("urls", [])),
            source_text=source["text"],
            certainty=source["certainty"],
            verified=bool(source.get("verified", False)),
            verification_note=source.get("verification_note", self.note),
            curated_on=self.curated_on,
        )
        self.counts["sources"] += created

    def load(self, dataset: dict) -> dict:
        for entry in dataset["countries"]:
            self.load_country(entry)
        return self.counts

    def load_country(self, entry: dict):
        country = Country.objects.get(iso2=entry["iso2"].upper())
        # Sources declared inline on agreements, facilities and tracks; tracks may refer to them by key.
        sources = dict(self.shared)
        for item in entry.get("agreements", []) + entry.get("facilities", []) + entry.get("tracks", []):
            if "source" in item:
                sources[item["source"]["key"]] = item["source"]
        partnership = Partnership.objects.filter(country=country).first()
        if partnership is None:
            started = datetime.date.fromisoformat(entry["partnership"]["started_on"])
            agreed = any(item["stage"] in AGREED_STAGES for item in entry.get("tracks", []))
            status = Partnership.Status.PARTNERED if agreed else Partnership.Status.ENGAGED
            partnership = partnership_create(actor=self.actor, country=country, started_on=started, status=status)
            self.counts["partnerships"] += 1
        agreements = {}
        for item in entry.get("agreements", []):
            agreements[item["source"]["key"]] = self.load_agreement(country, item)
        for item in entry.get("facilities", []):
            self.load_facility(country, item)
        for item in entry.get("tracks", []):
            key = item["source"]["key"] if "source" in item else item["source_key"]
            self.load_track(country, item, sources[key], agreements.get(key))
        used = {item["source"]["key"] if "source" in item else item["source_key"] for item in entry.get("tracks", [])}
        used |= {item["source"]["key"] for item in entry.get("agreements", []) + entry.get("facilities", [])}
        for key in sorted(used):  # the country page lists every fact of the country through its partnership
            self.attach(partnership, sources[key])

    def load_track(self, country, item: dict, source: dict, agreement):
        ct = CountryTrack.objects.select_related("stage").get(country=country, track__key=item["track"])
        target = Stage.objects.get(track=ct.track, key=item["stage"])
        if ct.stage.kind == Stage.Kind.LADDER and ct.stage.position < target.position:
            country_track_move(
                actor=self.actor,
                country_track=ct,
                to_stage=target,
                note=f"Public record, reported {source['reported_on']}: {source['text']}",
                evidence_agreement=agreement,
            )
            self.counts["stage_moves"] += 1
        self.attach(ct, source)

    def load_agreement(self, country, item: dict):
        agreement = Agreement.objects.filter(country=country, kind=item["kind"], title=item["title"]).first()
        if agreement is None:
            agreement = agreement_create(
                actor=self.actor,
                country=country,
                kind=item["kind"],
                title=item["title"],
                signed_on=datetime.date.fromisoformat(item["signed_on"]),
                signatory_level=item.get("signatory_level", Agreement.SignatoryLevel.MINISTER),
                tracks=Track.objects.filter(key__in=item.get("tracks", [])),
                source_url=(item["source"].get("urls") or [""])[0],
                notes=item.get("notes", ""),
            )
            self.counts["agreements"] += 1
        self.attach(agreement, item["source"])
        return agreement

    def load_facility(self, country, item: dict):
        facility = Facility.objects.filter(country=country, name=item["name"]).first()
        if facility is None:
            facility = facility_create(
                actor=self.actor,
                country=country,
                name=item["name"],
                city=item.get("city", ""),
                status=item.get("status", Facility.Status.PROPOSED),
                sector=item.get("sector", Facility.Sector.PUBLIC_PRIVATE),
                announced_on=datetime.date.fromisoformat(item["announced_on"]) if item.get("announced_on") else None,
                source_url=(item["source"].get("urls") or [""])[0],
                description=item.get("description", ""),
            )
            self.counts["facilities"] += 1
        for phase in item.get("phases", []):
            if not CapacityPhase.objects.filter(facility=facility, name=phase["name"]).exists():
                capacity_phase_add(
                    actor=self.actor,
                    facility=facility,
                    name=phase["name"],
                    online_on=datetime.date.fromisoformat(phase["online_on"]),
                    state=CapacityPhase.State.PLANNED,
                    power_mw=Decimal(phase.get("power_mw", "0")),
                    accelerator_count=phase.get("accelerator_count", 0),
                )
                self.counts["phases"] += 1
        for partner in item.get("partners", []):
            organisation = Organisation.objects.filter(name=partner["name"]).first()
            if organisation is None:
                organisation = organisation_create(actor=self.actor, name=partner["name"])
            if not FacilityPartner.objects.filter(facility=facility, organisation=organisation, role=partner["role"]).exists():
                facility_partner_add(actor=self.actor, facility=facility, organisation=organisation, role=partner["role"])
                self.counts["partners"] += 1
        self.attach(facility, item["source"])


def load_public_record(*, path: Path = DATASET, actor=None) -> dict:
    """Load the curated dataset; returns how many rows of each kind were created (all zero on a second run)."""
    dataset = read_dataset(path)
    with transaction.atomic():
        counts = _Loader(dataset, actor or public_record_actor()).load(dataset)
    cache.delete(PUBLIC_RECORD_CACHE_KEY)  # the banner says at once that the database holds the public record
    return counts
