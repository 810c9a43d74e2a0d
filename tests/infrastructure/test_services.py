"""Rules of the infrastructure services: organisations, facilities, capacity phases, partner roles."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import Event
from infrastructure.models import CapacityPhase, Facility, FacilityPartner, Organisation
from infrastructure.services import (
    capacity_phase_add,
    capacity_phase_update,
    facility_create,
    facility_partner_add,
    facility_update,
    organisation_create,
)
from tests import factories

pytestmark = pytest.mark.django_db

D = datetime.date


def _events(kind):
    return list(Event.objects.filter(kind=kind).values_list("country_id", "actor_id", "payload"))


@pytest.fixture
def facility(gb):
    return factories.FacilityFactory(country=gb, name="Isambard")


# --- organisations --------------------------------------------------------------------------------


def test_staff_creates_an_organisation(staff_user, gb):
    org = organisation_create(actor=staff_user, name=" Compute Ltd ", kind=Organisation.Kind.COMPANY, country=gb)

    assert list(Organisation.objects.values_list("pk", "name", "country_id")) == [(org.pk, "Compute Ltd", gb.pk)]
    assert _events("organisation.created") == [(None, staff_user.pk, {"name": "Compute Ltd"})]


@pytest.mark.parametrize("actor_fixture", ["gb_liaison", "viewer_user"])
def test_only_staff_create_organisations(request, actor_fixture):
    with pytest.raises(PermissionDenied, match="Only programme staff may do this."):
        organisation_create(actor=request.getfixturevalue(actor_fixture), name="Compute Ltd")

    assert Organisation.objects.count() == 0
    assert _events("organisation.created") == []


def test_organisation_names_are_unique(staff_user):
    organisation_create(actor=staff_user, name="Compute Ltd")

    with pytest.raises(ValidationError) as err:
        organisation_create(actor=staff_user, name="Compute Ltd")

    assert err.value.message_dict == {"name": ["Organisation with this Name already exists."]}
    assert Organisation.objects.count() == 1


# --- facilities ---------------------------------------------------------------------------------------


def test_liaison_creates_a_facility_for_their_country(gb, gb_liaison):
    facility = facility_create(
        actor=gb_liaison,
        country=gb,
        name="Dawn",
        kind=Facility.Kind.SUPERCOMPUTER,
        latitude=Decimal("52.2"),
        longitude=Decimal("0.12"),
        status=Facility.Status.PLANNED,
        announced_on=D(2024, 1, 1),
        expected_online=D(2024, 1, 1),
    )

    row = Facility.objects.get()
    assert row.pk == facility.pk
    assert (row.country_id, row.name, row.kind, row.latitude) == (gb.pk, "Dawn", "supercomputer", Decimal("52.20000"))
    assert _events("facility.created") == [(gb.pk, gb_liaison.pk, {"name": "Dawn", "status": "planned"})]


@pytest.mark.parametrize("actor_fixture", ["fr_liaison", "viewer_user"])
def test_facility_create_refused_for_someone_who_does_not_write_for_the_country(request, gb, actor_fixture):
    with pytest.raises(PermissionDenied):
        facility_create(actor=request.getfixturevalue(actor_fixture), country=gb, name="Dawn")

    assert Facility.objects.count() == 0
    assert _events("facility.created") == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"latitude": Decimal("90.00001")}, "Latitude must be between -90 and 90."),
        ({"latitude": Decimal("-91")}, "Latitude must be between -90 and 90."),
        ({"longitude": Decimal("180.5")}, "Longitude must be between -180 and 180."),
        (
            {"announced_on": D(2024, 6, 2), "expected_online": D(2024, 6, 1)},
            "The facility cannot be expected online before it was announced.",
        ),
    ],
)
def test_facility_create_refuses_impossible_values(gb, gb_liaison, fields, message):
    with pytest.raises(ValidationError) as err:
        facility_create(actor=gb_liaison, country=gb, name="Dawn", **fields)

    # The date order is named on its field; the coordinate ranges are database constraints without one.
    key = "expected_online" if "expected_online" in fields else "__all__"
    assert err.value.message_dict == {key: [message]}
    assert Facility.objects.count() == 0
    assert _events("facility.created") == []


def test_facility_create_accepts_the_poles_and_the_antimeridian(gb, gb_liaison):
    facility_create(actor=gb_liaison, country=gb, name="North", latitude=Decimal("90"), longitude=Decimal("-180"))
    facility_create(actor=gb_liaison, country=gb, name="South", latitude=Decimal("-90"), longitude=Decimal("180"))
    assert Facility.objects.count() == 2


def test_facility_names_are_unique_within_a_country(gb, gb_liaison, fr_liaison, facility):
    with pytest.raises(ValidationError) as err:
        facility_create(actor=gb_liaison, country=gb, name="Isambard")
    assert err.value.message_dict == {"__all__": ["Facility with this Country and Name already exists."]}

    facility_create(actor=fr_liaison, country=factories.country("FR"), name="Isambard")
    assert Facility.objects.filter(name="Isambard").count() == 2


def test_facility_create_refuses_unknown_fields(gb, gb_liaison):
    with pytest.raises(TypeError, match="created_at"):
        facility_create(actor=gb_liaison, country=gb, name="Dawn", created_at=None)
    assert Facility.objects.count() == 0


def test_facility_update_records_changes_and_refuses_outsiders(facility, gb_liaison, fr_liaison):
    facility_update(actor=gb_liaison, facility=facility, status=Facility.Status.OPERATIONAL, city="Bristol")
    facility_update(actor=gb_liaison, facility=facility, city="Bristol")  # no change: no event

    assert _events("facility.updated") == [
        (facility.country_id, gb_liaison.pk, {"changes": {"status": ["planned", "operational"], "city": ["", "Bristol"]}})
    ]
    with pytest.raises(PermissionDenied):
        facility_update(actor=fr_liaison, facility=facility, city="Paris")
    assert Facility.objects.get(pk=facility.pk).city == "Bristol"


# --- capacity phases ------------------------------------------------------------------------------


def test_liaison_adds_a_capacity_phase(facility, gb_liaison):
    phase = capacity_phase_add(
        actor=gb_liaison,
        facility=facility,
        name="Phase 1",
        online_on=D(2026, 1, 1),
        power_mw=Decimal("12.5"),
        accelerator_count=5000,
    )

    assert list(CapacityPhase.objects.values_list("pk", "facility_id", "power_mw", "state")) == [
        (phase.pk, facility.pk, Decimal("12.50"), "planned")
    ]
    assert _events("facility.phase_added") == [
        (facility.country_id, gb_liaison.pk, {"facility": facility.pk, "power_mw": "12.5", "state": "planned"})
    ]


def test_capacity_phase_with_negative_power_is_refused(facility, gb_liaison):
    with pytest.raises(ValidationError) as err:
        capacity_phase_add(actor=gb_liaison, facility=facility, online_on=D(2026, 1, 1), power_mw=Decimal("-0.01"))

    assert err.value.message_dict == {"__all__": ["Power cannot be negative."]}
    assert CapacityPhase.objects.count() == 0
    assert _events("facility.phase_added") == []


def test_capacity_phase_needs_a_date(facility, gb_liaison):
    with pytest.raises(ValidationError) as err:
        capacity_phase_add(actor=gb_liaison, facility=facility, power_mw=Decimal("1"))
    assert err.value.message_dict == {"online_on": ["This field cannot be null."]}


def test_capacity_phase_refused_for_liaison_of_another_country(facility, fr_liaison):
    with pytest.raises(PermissionDenied):
        capacity_phase_add(actor=fr_liaison, facility=facility, online_on=D(2026, 1, 1), power_mw=Decimal("1"))
    assert CapacityPhase.objects.count() == 0


def test_capacity_phase_update_refuses_negative_power(facility, gb_liaison):
    phase = factories.CapacityPhaseFactory(facility=facility, power_mw=10)

    with pytest.raises(ValidationError) as err:
        capacity_phase_update(actor=gb_liaison, phase=phase, power_mw=Decimal("-5"))

    assert err.value.message_dict == {"__all__": ["Power cannot be negative."]}
    assert CapacityPhase.objects.get(pk=phase.pk).power_mw == Decimal("10.00")


# --- partner roles --------------------------------------------------------------------------------------


def test_partner_roles_are_unique_per_organisation_and_role(facility, gb_liaison):
    org = factories.OrganisationFactory(name="Compute Ltd")
    facility_partner_add(actor=gb_liaison, facility=facility, organisation=org, role=FacilityPartner.Role.BUILDER)
    facility_partner_add(actor=gb_liaison, facility=facility, organisation=org, role=FacilityPartner.Role.OPERATOR)

    with pytest.raises(ValidationError) as err:
        facility_partner_add(actor=gb_liaison, facility=facility, organisation=org, role=FacilityPartner.Role.BUILDER)

    assert err.value.message_dict == {"__all__": ["Facility partner with this Facility, Organisation and Role already exists."]}
    assert sorted(FacilityPartner.objects.values_list("role", flat=True)) == ["builder", "operator"]
    assert _events("facility.partner_added") == [
        (facility.country_id, gb_liaison.pk, {"organisation": "Compute Ltd", "role": "operator"}),
        (facility.country_id, gb_liaison.pk, {"organisation": "Compute Ltd", "role": "builder"}),
    ]


def test_partner_role_must_be_a_known_role(facility, gb_liaison):
    org = factories.OrganisationFactory(name="Compute Ltd")
    with pytest.raises(ValidationError) as err:
        facility_partner_add(actor=gb_liaison, facility=facility, organisation=org, role="landlord")
    assert err.value.message_dict == {"role": ["Value 'landlord' is not a valid choice."]}
    assert FacilityPartner.objects.count() == 0


def test_partner_add_refused_for_liaison_of_another_country(facility, fr_liaison):
    org = factories.OrganisationFactory(name="Compute Ltd")
    with pytest.raises(PermissionDenied):
        facility_partner_add(actor=fr_liaison, facility=facility, organisation=org, role=FacilityPartner.Role.BUILDER)
    assert FacilityPartner.objects.count() == 0
