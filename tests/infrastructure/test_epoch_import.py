"""Epoch AI's CSVs into facilities, phases and partners, on small hand-built files in Epoch's format."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from core.models import PublicRecordSource
from countries.models import Country
from demo.public_record import public_record_actor
from infrastructure.epoch import dms_to_decimal, import_data_centres, import_gpu_clusters, parse_tagged
from infrastructure.models import CapacityPhase, Facility, FacilityPartner
from infrastructure.services import facility_create

pytestmark = pytest.mark.django_db

DATA_CENTRES = (
    "Handle,Title,Project,Address,Latitude,Longitude,Owner,Users,Investors,Construction companies,Energy companies,"
    "Current H100 equivalents,Current power (MW),Current total capital cost\n"
    'abilene,Stargate Abilene,Stargate,"Abilene, Texas, United States",'
    '"32°29\'59""N","99°44\'1""W",Crusoe #confident,OpenAI #confident; Oracle #likely,,DPR #speculative,'
    "Engine No. 1 #speculative,100000,200,15000000000\n"
    'kvandal,Kvandal,Stargate Norway,"Kvandal, Narvik, Norway","68°26\'0""N","17°25\'0""E",Nscale #confident,,,,'
    "Statkraft #speculative,,,\n"
)
TIMELINES = (
    "Date,Data center,Construction status,Power (MW),H100 equivalents,Buildings operational,Total capital cost\n"
    "2025-06-01,Stargate Abilene,Operational,200,100000,2,15000000000\n"
    "2026-06-01,Stargate Abilene,Operational,1200,400000,8,40000000000\n"
)
CLUSTERS = (
    "Name,Status,Certainty,Single cluster?,H100 equivalents,Chip type (primary),Chip quantity (primary),Country,Owner,"
    "First Operational Date,Sector,Power Capacity (MW),Hardware Cost,Location,Users,Builds Upon,Superseded by,"
    "Source 1,Source 2\n"
    "Isambard-AI phase 1,Existing,Confirmed,Yes,5000,H100,5000,United Kingdom,University of Bristol,2024-06-01,Public,5,,"
    "Bristol,,,Isambard-AI phase 2,https://example.org/isambard-1,\n"
    "Isambard-AI phase 2,Existing,Likely,Yes,5448,GH200,5448,United Kingdom,University of Bristol,2025-07-01,Public,"
    "10,,Bristol,,Isambard-AI phase 1,,https://example.org/isambard-2,\n"
    "Isambard-AI phase 3,Planned,Unlikely,Yes,20000,GB200,20000,United Kingdom,University of Bristol,2027-01-01,Public,"
    "40,,Bristol,,Isambard-AI phase 2,,,\n"
)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_dms_coordinates_become_decimal():
    assert dms_to_decimal("32°29'59\"N") == Decimal("32.49972")
    assert dms_to_decimal("99°44'1\"W") == Decimal("-99.73361")
    assert dms_to_decimal("33°51'S") == Decimal("-33.85000")
    assert dms_to_decimal("51.5") == Decimal("51.50000")
    assert dms_to_decimal("") is None
    with pytest.raises(ValueError):
        dms_to_decimal("north")


def test_confidence_tags_are_split_from_names():
    assert parse_tagged("OpenAI #confident; Oracle #likely, Acme") == [
        ("OpenAI", "confident"), ("Oracle", "likely"), ("Acme", ""),
    ]  # fmt: skip


def test_data_centres_with_timelines(tmp_path):
    actor = public_record_actor()
    report = import_data_centres(
        actor=actor, data_centres=write(tmp_path, "data_centers.csv", DATA_CENTRES), timelines=write(tmp_path, "t.csv", TIMELINES)
    )
    assert report.errors == [] and sorted(report.created) == ["Kvandal", "Stargate Abilene"]
    abilene = Facility.objects.get(name="Stargate Abilene")
    assert abilene.country.iso2 == "US" and abilene.city == "Texas"
    assert (abilene.latitude, abilene.longitude) == (Decimal("32.49972"), Decimal("-99.73361"))
    assert [(str(p.power_mw), p.h100_equivalents) for p in abilene.phases.order_by("online_on")] == [
        ("200.00", 100000), ("1200.00", 400000),
    ]  # fmt: skip
    roles = {(p.organisation.name, p.role, p.confidence) for p in FacilityPartner.objects.filter(facility=abilene)}
    assert ("Crusoe", "owner", "confident") in roles and ("Oracle", "user", "likely") in roles
    assert ("Engine No. 1", "energy", "speculative") in roles and ("DPR", "builder", "speculative") in roles
    source = PublicRecordSource.objects.get(object_id=abilene.pk, content_type__model="facility")
    assert "Data: Epoch AI, CC BY" in source.source_text
    # A second import creates nothing.
    again = import_data_centres(actor=actor, data_centres=tmp_path / "data_centers.csv", timelines=tmp_path / "t.csv")
    assert again.created == [] and again.phases == 0 and again.partners == 0 and again.conflicts == []


def test_gpu_clusters_builds_upon_chain_is_phases_of_one_facility(tmp_path):
    report = import_gpu_clusters(actor=public_record_actor(), path=write(tmp_path, "clusters.csv", CLUSTERS))
    assert report.errors == [] and report.created == ["Isambard-AI phase 1"]
    facility = Facility.objects.get()
    assert facility.certainty == Facility.Certainty.CONFIRMED and facility.status == Facility.Status.OPERATIONAL
    phases = list(facility.phases.order_by("online_on"))
    assert [p.name for p in phases] == ["Isambard-AI phase 1", "Isambard-AI phase 2", "Isambard-AI phase 3"]
    assert [p.state for p in phases] == ["actual", "actual", "planned"] and phases[2].accelerator_type == "GB200"
    source = PublicRecordSource.objects.get(content_type__model="facility")
    assert source.source_urls == ["https://example.org/isambard-1"]


def test_reconcile_reports_a_difference_and_keeps_the_portal_value(tmp_path, staff_user):
    us = Country.objects.get(iso2="US")
    facility_create(actor=staff_user, country=us, name="stargate abilene", city="Abilene")  # typed in the portal
    report = import_data_centres(actor=public_record_actor(), data_centres=write(tmp_path, "dc.csv", DATA_CENTRES))
    assert report.matched == ["Stargate Abilene"]
    assert ("stargate abilene", "city", "Abilene", "Texas") in report.conflicts
    facility = Facility.objects.get(country=us)
    assert facility.city == "Abilene"  # not overwritten
    assert facility.latitude == Decimal("32.49972")  # empty in the portal: filled
    out = io.StringIO()
    call_command("import_epoch", "--data-centres", str(tmp_path / "dc.csv"), stdout=out)
    assert "conflict stargate abilene.city: portal 'Abilene' kept, Epoch 'Texas'" in out.getvalue()
    assert "Data: Epoch AI, CC BY." in out.getvalue()
    assert Facility.objects.get(country=us).city == "Abilene"


def test_country_page_shows_certainty_and_attribution(tmp_path, client, staff_user):
    import_gpu_clusters(actor=public_record_actor(), path=write(tmp_path, "clusters.csv", CLUSTERS))
    client.force_login(staff_user)
    html = client.get("/countries/gb/").content.decode()
    assert "certainty: Confirmed" in html and "Data: Epoch AI, CC BY" in html
    assert CapacityPhase.objects.count() == 3


def test_infrastructure_dashboard_shows_certainty_and_attribution(tmp_path, client, staff_user):
    client.force_login(staff_user)
    assert "Data: Epoch AI, CC BY" not in client.get("/dashboard/infrastructure/").content.decode()
    import_gpu_clusters(actor=public_record_actor(), path=write(tmp_path, "clusters.csv", CLUSTERS))
    html = client.get("/dashboard/infrastructure/").content.decode()
    assert "Data: Epoch AI, CC BY" in html and "(Confirmed)" in html
