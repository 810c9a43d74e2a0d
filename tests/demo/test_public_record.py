"""The curated public record: it loads idempotently through the services, every fact carries its source and its
verification, and the portal shows it as public record, distinct from illustrative data."""

import io
import json
import re

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command

from core.models import PublicRecordSource
from demo.public_record import DATASET, load_public_record, read_dataset
from engagements.models import Agreement
from infrastructure.models import CapacityPhase, Facility, FacilityPartner
from partnerships.models import CountryTrack, Partnership

pytestmark = pytest.mark.django_db

COUNTED = (
    "partnerships.partnership", "partnerships.countrytrack", "partnerships.stagechange", "engagements.agreement",
    "infrastructure.facility", "infrastructure.capacityphase", "infrastructure.facilitypartner",
    "infrastructure.organisation", "core.publicrecordsource",
)  # fmt: skip


def row_counts() -> dict:
    return {label: apps.get_model(label).objects.count() for label in COUNTED}


def load() -> str:
    out = io.StringIO()
    call_command("load_public_record", stdout=out)
    return out.getvalue()


def test_loading_twice_creates_no_duplicates():
    first = load()
    after_first = row_counts()
    assert "facilities: 7" in first
    second = load()
    assert row_counts() == after_first
    assert re.fullmatch(r"(\w+: 0, )*\w+: 0 created\.\n", second), second


def test_records_match_the_dataset():
    load_public_record()
    uae = CountryTrack.objects.get(country__iso2="AE", track__key="data_centres")
    assert uae.stage.key == "agreed"
    assert CountryTrack.objects.get(country__iso2="AR", track__key="data_centres").stage.key == "negotiating"
    norway = Facility.objects.get(country__iso2="NO", name="Stargate Norway")
    assert [str(p.power_mw) for p in norway.phases.order_by("online_on")] == ["20.00", "230.00", "520.00"]
    assert FacilityPartner.objects.filter(facility=norway, organisation__name="Aker", role="financier").exists()
    mou = Agreement.objects.get(country__iso2="GB", kind="mou")
    assert mou.signed_on.isoformat() == "2025-07-21"
    assert {t.key for t in mou.tracks.all()} == {"public_services", "safety_standards", "data_centres"}
    assert Partnership.objects.get(country__iso2="GB").status == Partnership.Status.PARTNERED


def test_every_record_has_a_source_and_a_verification_note():
    load_public_record()
    for model in (Partnership, CountryTrack, Agreement, Facility):
        content_type = ContentType.objects.get_for_model(model)
        sourced = set(PublicRecordSource.objects.filter(content_type=content_type).values_list("object_id", flat=True))
        assert sourced == set(model.objects.values_list("pk", flat=True)) - _untouched(model), model
    for source in PublicRecordSource.objects.all():
        assert source.source_text.strip(), source.key
        assert all(url.startswith("https://") for url in source.source_urls), source.key
        assert source.reported_on and source.curated_on
        # Nothing could be checked here: each fact says so rather than claiming a verification.
        assert not source.verified and "not verifiable here" in source.verification_note.lower(), source.key


def _untouched(model) -> set:
    """Tracks the dataset says nothing about (each country opens one cell per track): left without a source."""
    if model is not CountryTrack:
        return set()
    named = {(c["iso2"].upper(), t["track"]) for c in read_dataset()["countries"] for t in c.get("tracks", [])}
    return {
        ct.pk for ct in CountryTrack.objects.select_related("country", "track") if (ct.country.iso2, ct.track.key) not in named
    }


def test_disagreeing_sources_keep_both_figures():
    load_public_record()
    facility = Facility.objects.get(country__iso2="AU")
    source = PublicRecordSource.objects.get(key="au-openai-for-australia", object_id=facility.pk, content_type__model="facility")
    assert source.certainty == PublicRecordSource.Certainty.DISPUTED
    assert "550 MW" in source.fact and "650 MW" in source.fact
    assert "Reuters" in source.source_text and "w.media" in source.source_text


def test_the_dataset_is_committed_and_well_formed():
    dataset = json.loads(DATASET.read_text(encoding="utf-8"))
    assert dataset["curated_on"] and "not verifiable here" in dataset["verification_note"].lower()
    assert "/work/shared" not in DATASET.read_text(encoding="utf-8")


def test_the_load_is_audited():
    load_public_record()
    facility = Facility.objects.get(country__iso2="NO")
    source = PublicRecordSource.objects.get(object_id=facility.pk, key="no-stargate-norway", content_type__model="facility")
    assert LogEntry.objects.get_for_object(source).exists()
    assert LogEntry.objects.get_for_object(facility).exists()
    assert CapacityPhase.objects.filter(facility=facility).count() == 3


def test_country_page_shows_the_mark_the_sources_and_not_verified(client, staff_user):
    load_public_record()
    client.force_login(staff_user)
    html = client.get("/countries/gb/").content.decode()
    assert "Public record" in html
    assert (
        'href="https://www.gov.uk/government/publications/memorandum-of-understanding-between-the-uk-and-openai-on-ai-opportunities"'
        in html
    )
    assert 'href="https://openai.com/index/introducing-stargate-uk/"' in html
    assert "Not verified" in html
    # A source without a known address is shown as reported, and says so.
    html = client.get("/countries/no/").content.decode()
    assert "prnewswire.co.uk" in html and "(no address known here)" in html


def test_records_entered_in_the_portal_carry_no_mark(client, staff_user, gb_partnership):
    client.force_login(staff_user)
    html = client.get("/countries/gb/").content.decode()
    assert "badge-public-record" not in html and "Not verified" not in html


def test_banner_says_which_data_the_database_holds(client, staff_user):
    client.force_login(staff_user)
    assert "demo-banner" not in client.get("/").content.decode()
    load_public_record()
    html = client.get("/").content.decode()
    assert "This database holds the public record" in html and "Illustrative data." not in html
    from django.core.cache import cache

    from core.models import DemoDataset

    DemoDataset.objects.create(seed=1, countries=1, engagements=1)
    cache.delete("portal:demo-dataset")
    html = client.get("/").content.decode()
    assert "Illustrative data and public record." in html
