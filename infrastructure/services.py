"""Every write to infrastructure: organisations, facilities, capacity phases and partner roles."""

from django.db import transaction

from core import catalogue
from core.changes import apply_changes
from core.conflicts import lock
from core.events import emit
from countries.models import Country
from countries.policies import ensure_can_write_country, ensure_programme_staff

from .models import CapacityPhase, Facility, FacilityPartner, Organisation

FACILITY_FIELDS = (
    "name", "kind", "city", "latitude", "longitude", "status", "sector",
    "announced_on", "expected_online", "source_url", "description", "certainty",
)  # fmt: skip
PHASE_FIELDS = (
    "name", "online_on", "state", "power_mw", "accelerator_count", "accelerator_type",
    "h100_equivalents", "capital_cost_usd",
)  # fmt: skip


@transaction.atomic
def organisation_create(*, actor, name: str, **fields) -> Organisation:
    ensure_programme_staff(actor)
    organisation = Organisation(name=(name or "").strip(), **fields)
    organisation.full_clean()
    organisation.save()
    emit(kind=catalogue.ORGANISATION_CREATED, subject=organisation, actor=actor, payload={"name": organisation.name})
    return organisation


@transaction.atomic
def facility_create(*, actor, country: Country, name: str, **fields) -> Facility:
    ensure_can_write_country(actor, country)
    facility = Facility(country=country, name=(name or "").strip())
    apply_changes(facility, fields, allowed=FACILITY_FIELDS)
    facility.full_clean()  # also when no optional field was given
    facility.save()
    emit(
        kind=catalogue.FACILITY_CREATED,
        subject=facility,
        actor=actor,
        country_id=country.pk,
        payload={"name": facility.name, "status": facility.status},
    )
    return facility


@transaction.atomic
def facility_update(*, actor, facility: Facility, expected_version: int | None = None, **fields) -> Facility:
    """Edit a facility under its row lock (refused if it changed since ``expected_version``)."""
    ensure_can_write_country(actor, facility.country)
    caller, facility = facility, lock(facility, expected_version)
    facility.country = caller.country
    changes = apply_changes(facility, fields, allowed=FACILITY_FIELDS)
    if changes:
        facility.version += 1
        facility.save()
        emit(
            kind=catalogue.FACILITY_UPDATED,
            subject=facility,
            actor=actor,
            country_id=facility.country_id,
            payload={"changes": changes},
        )
    for field in Facility._meta.concrete_fields:  # the caller's instance shows what is stored now
        setattr(caller, field.attname, getattr(facility, field.attname))
    return caller


@transaction.atomic
def capacity_phase_add(*, actor, facility: Facility, **fields) -> CapacityPhase:
    ensure_can_write_country(actor, facility.country)
    phase = CapacityPhase(facility=facility)
    apply_changes(phase, fields, allowed=PHASE_FIELDS)
    phase.full_clean()  # also when no optional field was given
    phase.save()
    emit(
        kind=catalogue.FACILITY_PHASE_ADDED,
        subject=phase,
        actor=actor,
        country_id=facility.country_id,
        payload={"facility": facility.pk, "power_mw": str(phase.power_mw), "state": phase.state},
    )
    return phase


@transaction.atomic
def capacity_phase_update(*, actor, phase: CapacityPhase, **fields) -> CapacityPhase:
    ensure_can_write_country(actor, phase.facility.country)
    changes = apply_changes(phase, fields, allowed=PHASE_FIELDS)
    if changes:
        phase.save()
        emit(
            kind=catalogue.FACILITY_PHASE_UPDATED,
            subject=phase,
            actor=actor,
            country_id=phase.facility.country_id,
            payload={"changes": changes},
        )
    return phase


@transaction.atomic
def facility_partner_add(
    *, actor, facility: Facility, organisation: Organisation, role: str, confidence: str = ""
) -> FacilityPartner:
    ensure_can_write_country(actor, facility.country)
    partner = FacilityPartner(facility=facility, organisation=organisation, role=role, confidence=confidence)
    partner.full_clean()
    partner.save()
    emit(
        kind=catalogue.FACILITY_PARTNER_ADDED,
        subject=partner,
        actor=actor,
        country_id=facility.country_id,
        payload={"organisation": organisation.name, "role": role},
    )
    return partner
