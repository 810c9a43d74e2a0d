import datetime
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from engagements.models import Agreement
from infrastructure.models import CapacityPhase, Facility, FacilityPartner, Organisation
from infrastructure.services import facility_create, organisation_create
from partnerships.services import partnership_create
from tests import factories

from .helpers import count_rollups, csv_bytes, dry_run, dry_run_and_apply, results, table_counts, xlsx_bytes

pytestmark = pytest.mark.django_db

AGREEMENTS = ["Pays", "Type", "Intitulé", "Signé le", "Expire le", "Signataire", "Volets", "Source"]
FACILITIES = [
    "Country", "Facility", "Kind", "City", "Status", "Certainty", "Latitude", "Longitude",
    "Phase", "Phase online on", "Phase state", "Power (MW)", "Accelerators", "H100-equivalents", "Partners",
]  # fmt: skip


@pytest.fixture
def countries(staff_user):
    for code in ("GB", "FR", "AE"):
        partnership_create(actor=staff_user, country=factories.country(code), started_on=None)


def days(n: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=n)).isoformat()


def agreement_rows():
    return [
        AGREEMENTS,
        [
            "GB",
            "mou",
            "Memorandum on AI safety",
            "2025-01-15",
            "2028-01-15",
            "Minister",
            "safety_standards",
            "https://example.org/gb",
        ],
        ["FR", "Lettre d'intention", "Lettre d'intention sur la formation", "10/03/2026", "", "Agence", "workforce", ""],
    ]


def test_agreements_clean_file_then_unchanged_then_an_update(staff_user, countries):
    job = dry_run_and_apply(staff_user, "agreements", csv_bytes(agreement_rows()))
    assert job.applied_counts == {"create": 2, "update": 0, "unchanged": 0, "error": 0}
    gb = Agreement.objects.get(country__iso2="GB")
    assert (gb.kind, gb.signatory_level, str(gb.expires_on)) == ("mou", "minister", "2028-01-15")
    assert [t.key for t in gb.tracks.all()] == ["safety_standards"]
    fr = Agreement.objects.get(country__iso2="FR")
    assert (fr.kind, fr.signatory_level, fr.expires_on) == ("loi", "agency", None)
    assert (
        LogEntry.objects.filter(cid=f"import:{job.pk}", content_type__model="agreement", action=LogEntry.Action.CREATE).count()
        == 2
    )

    before = table_counts()
    assert dry_run_and_apply(staff_user, "agreements", csv_bytes(agreement_rows())).applied_counts["unchanged"] == 2
    assert table_counts() == before

    rows = agreement_rows()
    rows[1][4] = "2029-01-15"  # the expiry moved: the same agreement, updated through the service
    job = dry_run_and_apply(staff_user, "agreements", csv_bytes(rows))
    assert job.applied_counts == {"create": 0, "update": 1, "unchanged": 1, "error": 0}
    gb.refresh_from_db()
    assert (str(gb.expires_on), gb.version) == ("2029-01-15", 2)


def test_agreements_bad_rows_are_refused_and_the_dry_run_writes_nothing(countries):
    liaison = factories.liaison("GB", username="gb-agreements")
    rows = [
        AGREEMENTS,
        ["GB", "mou", "Fine", "2025-01-15", "", "", "", ""],
        ["FR", "mou", "Not my country", "2025-01-15", "", "", "", ""],
        ["Atlantis", "mou", "Nowhere", "2025-01-15", "", "", "", ""],
        ["GB", "mou", "Signed tomorrow", days(1), "", "", "", ""],
        ["GB", "treaty", "Unknown kind", "2025-01-15", "", "", "", ""],
        ["GB", "mou", "Expires first", "2025-01-15", "2024-01-15", "", "", ""],
        ["GB", "mou", '=HYPERLINK("x")', "2025-01-15", "", "", "", ""],
        ["GB", "mou", "Fine", "2025-01-15", "", "", "", ""],
        ["GB", "mou", "Bad link", "2025-01-15", "", "", "", "javascript:alert(1)"],
    ]
    before = table_counts()
    job = dry_run(liaison, "agreements", csv_bytes(rows))
    assert table_counts() == before
    assert job.checked_counts == {"create": 1, "update": 0, "unchanged": 0, "error": 8}
    by_line = results(job, applied=False)
    assert [by_line[n].column for n in range(3, 11)] == [
        "Pays", "Pays", "Signé le", "Type", "Expire le", "Intitulé", "", "Source",
    ]  # fmt: skip
    assert "future" in by_line[5].message and "line 2" in by_line[9].message
    from imports import engine

    engine.run(job, liaison, dry_run=False)
    job.refresh_from_db()
    assert job.applied_counts == job.checked_counts
    assert list(Agreement.objects.values_list("title", flat=True)) == ["Fine"]


def facility_rows():
    return [
        FACILITIES,
        ["AE", "Stargate UAE", "data_centre", "Abu Dhabi", "under construction", "confirmed", "24°27'13\"N", "54°22'37\"E",
         "Phase 1", "2026-12-31", "planned", "200", "", "", "G42 (builder); Nvidia (Chip supplier); Abu Dhabi Power (energy)"],
        ["AE", "Stargate UAE", "data_centre", "Abu Dhabi", "under construction", "confirmed", "24°27'13\"N", "54°22'37\"E",
         "Phase 2", "2028-06-30", "planned", "800", "", "", "G42 (builder)"],
        ["FR", "Supercalculateur national", "Supercalculateur", "Paris", "Opérationnelle", "", "48,85", "2.35",
         "", "", "", "", "", "", ""],
    ]  # fmt: skip


def test_facilities_with_phases_and_partners_then_a_second_import_changes_nothing(staff_user, countries):
    job = dry_run_and_apply(staff_user, "facilities", csv_bytes(facility_rows()))
    assert job.applied_counts == {"create": 2, "update": 1, "unchanged": 0, "error": 0}  # phase 2 is an update
    uae = Facility.objects.get(name="Stargate UAE")
    assert (uae.status, uae.certainty, uae.latitude, uae.longitude) == (
        "under_construction", "confirmed", Decimal("24.45361"), Decimal("54.37694"),
    )  # fmt: skip
    assert [(p.name, p.power_mw, p.state) for p in uae.phases.all()] == [
        ("Phase 1", Decimal("200"), "planned"),
        ("Phase 2", Decimal("800"), "planned"),
    ]
    assert sorted((p.organisation.name, p.role) for p in uae.partner_roles.select_related("organisation")) == [
        ("Abu Dhabi Power", "energy"), ("G42", "builder"), ("Nvidia", "chip_supplier"),
    ]  # fmt: skip
    paris = Facility.objects.get(country__iso2="FR")
    assert (paris.kind, paris.status, paris.latitude, paris.phases.count()) == (
        "supercomputer", "operational", Decimal("48.85000"), 0,
    )  # fmt: skip
    assert LogEntry.objects.filter(cid=f"import:{job.pk}", content_type__model="capacityphase").count() == 2

    before = table_counts()
    again = dry_run_and_apply(staff_user, "facilities", csv_bytes(facility_rows()))
    assert again.applied_counts == {"create": 0, "update": 0, "unchanged": 3, "error": 0}
    assert table_counts() == before


def test_an_edit_in_the_sheet_updates_the_facility_and_its_phase_and_adds_a_partner(staff_user, countries):
    dry_run_and_apply(staff_user, "facilities", csv_bytes(facility_rows()))
    rows = facility_rows()
    rows[1][11] = "250"
    rows[1][14] = "G42 (builder); Microsoft (financier)"  # Nvidia and the energy company are not removed
    rows[3][4] = "cancelled"
    job = dry_run_and_apply(staff_user, "facilities", csv_bytes(rows))
    assert job.applied_counts == {"create": 0, "update": 2, "unchanged": 1, "error": 0}
    uae = Facility.objects.get(name="Stargate UAE")
    assert uae.phases.get(name="Phase 1").power_mw == Decimal("250")
    assert uae.partner_roles.count() == 4
    assert Facility.objects.get(country__iso2="FR").status == "cancelled"


def test_facility_bad_rows_and_a_liaison_cannot_add_organisations(staff_user, countries):
    organisation_create(actor=staff_user, name="G42")
    facility_create(actor=staff_user, country=factories.country("AE"), name="Existing campus")
    liaison = factories.liaison("AE", username="ae-facilities")
    rows = [
        FACILITIES,
        ["AE", "Existing campus", "", "", "", "", "", "", "Phase 1", "2027-01-01", "", "10", "", "", "G42 (builder)"],
        ["AE", "New campus", "", "", "", "", "", "", "", "", "", "", "", "", "Unknown Corp (builder)"],
        ["AE", "Campus B", "", "", "", "", "", "", "", "", "", "", "", "", "G42 builder"],
        ["AE", "Campus C", "", "", "", "", "", "", "", "", "", "", "", "", "G42 (janitor)"],
        ["AE", "Campus D", "", "", "", "", "95", "", "", "", "", "", "", "", ""],
        ["AE", "Campus E", "", "", "", "", "", "", "Phase 1", "", "", "10", "", "", ""],
        ["AE", "Campus F", "", "", "", "", "", "", "Phase 1", "2027-01-01", "", "-5", "", "", ""],
        ["AE", "Campus G", "", "", "", "", "", "", "Phase 1", "2027-01-01", "", "", "12.5", "", ""],
        ["AE", "Campus H", "", "", "", "", "", "", "Phase 1", "2027-01-01", "", "lots", "", "", ""],
        ["GB", "Not mine", "", "", "", "", "", "", "", "", "", "", "", "", ""],
        ["AE", "Campus I", "", "", "", "maybe", "", "", "", "", "", "", "", "", ""],
    ]
    before = table_counts()
    job = dry_run(liaison, "facilities", csv_bytes(rows))
    assert table_counts() == before
    assert job.checked_counts == {"create": 0, "update": 1, "unchanged": 0, "error": 10}
    by_line = results(job, applied=False)
    assert [by_line[n].column for n in range(3, 13)] == [
        "Partners", "Partners", "Partners", "Latitude", "Phase online on", "Power (MW)", "Accelerators",
        "Power (MW)", "Country", "Certainty",
    ]  # fmt: skip
    assert "programme staff" in by_line[3].message
    from imports import engine

    engine.run(job, liaison, dry_run=False)
    job.refresh_from_db()
    assert job.applied_counts == job.checked_counts
    assert not Organisation.objects.filter(name="Unknown Corp").exists()
    assert CapacityPhase.objects.get().facility.name == "Existing campus"
    assert FacilityPartner.objects.get().organisation.name == "G42"


def test_an_xlsx_of_facilities_with_numbers_and_dates_in_cells(staff_user, countries):
    rows = facility_rows()
    rows[1][9] = datetime.datetime(2026, 12, 31)  # Excel keeps dates and numbers typed
    rows[1][11] = 200
    job = dry_run_and_apply(staff_user, "facilities", xlsx_bytes(rows[:2]), filename="sites.xlsx")
    assert job.applied_counts == {"create": 1, "update": 0, "unchanged": 0, "error": 0}
    phase = CapacityPhase.objects.get()
    assert (phase.online_on, phase.power_mw) == (datetime.date(2026, 12, 31), Decimal("200"))


@pytest.mark.django_db(transaction=True)
def test_one_rollup_per_country_for_a_sheet_of_facilities(reference_data, staff_user, countries, monkeypatch):
    computed = count_rollups(monkeypatch)
    dry_run_and_apply(staff_user, "facilities", csv_bytes(facility_rows()))
    assert sorted(computed) == sorted([factories.country("AE").pk, factories.country("FR").pk])


def test_the_dry_run_counts_a_later_phase_of_a_new_facility_as_the_apply_does(staff_user, countries, settings):
    """The dry run rolls back a chunk of rows at a time: a facility created in one chunk is gone in the next."""
    settings.IMPORT_CHUNK_ROWS = 1
    job = dry_run(staff_user, "facilities", csv_bytes(facility_rows()))
    assert job.checked_counts == {"create": 2, "update": 1, "unchanged": 0, "error": 0}
    from imports import engine

    engine.run(job, staff_user, dry_run=False)
    job.refresh_from_db()
    assert job.applied_counts == job.checked_counts
    assert Facility.objects.get(name="Stargate UAE").phases.count() == 2


def test_the_dry_run_meets_what_earlier_rows_wrote_as_the_apply_does(staff_user, countries, settings):
    """A later row repeating a partner is unchanged, and one contradicting an earlier row's dates is an error, in the
    dry run as in the apply, even with a chunk of one row."""
    settings.IMPORT_CHUNK_ROWS = 1
    header = ["Country", "Facility", "Announced on", "Expected online", "Phase", "Phase online on", "Partners"]
    rows = [
        header,
        ["AE", "Campus X", "2026-01-01", "", "Phase 1", "2027-01-01", "G42 (builder)"],
        ["AE", "Campus X", "", "", "", "", "G42 (builder)"],
        ["AE", "Campus X", "", "2025-06-01", "Phase 2", "2028-01-01", ""],
    ]
    job = dry_run(staff_user, "facilities", csv_bytes(rows))
    assert job.checked_counts == {"create": 1, "update": 0, "unchanged": 1, "error": 1}
    from imports import engine

    engine.run(job, staff_user, dry_run=False)
    job.refresh_from_db()
    assert job.applied_counts == job.checked_counts
    assert [r.action for r in sorted(results(job).values(), key=lambda r: r.line)] == ["create", "unchanged", "error"]


def test_numbers_and_coordinates_that_cannot_be_read_are_errors_of_their_row(staff_user, countries):
    header = ["Country", "Facility", "Latitude", "Phase", "Phase online on", "Power (MW)"]
    rows = [
        header,
        ["AE", "Campus NaN", "NaN", "", "", ""],
        ["AE", "Campus Inf", "Infinity", "", "", ""],
        ["AE", "Campus European", "", "Phase 1", "2027-01-01", "1.200,5"],
        ["AE", "Campus English", "", "Phase 1", "2027-01-01", "1,200.5"],
        ["AE", "Campus French", "", "Phase 1", "2027-01-01", "12,5"],
    ]
    job = dry_run_and_apply(staff_user, "facilities", csv_bytes(rows))
    assert job.applied_counts == {"create": 2, "update": 0, "unchanged": 0, "error": 3}
    by_line = results(job)
    assert [by_line[n].column for n in (2, 3, 4)] == ["Latitude", "Latitude", "Power (MW)"]
    assert CapacityPhase.objects.get(facility__name="Campus English").power_mw == Decimal("1200.5")
    assert CapacityPhase.objects.get(facility__name="Campus French").power_mw == Decimal("12.5")


def test_an_empty_cell_leaves_what_the_portal_holds(staff_user, countries):
    from engagements.services import agreement_update
    from infrastructure.services import capacity_phase_update

    dry_run_and_apply(staff_user, "agreements", csv_bytes(agreement_rows()))
    dry_run_and_apply(staff_user, "facilities", csv_bytes(facility_rows()))
    fr = Agreement.objects.get(country__iso2="FR")
    agreement_update(actor=staff_user, agreement=fr, expires_on=datetime.date(2030, 1, 1), notes="Renewed by letter")
    phase = CapacityPhase.objects.get(name="Phase 2")
    capacity_phase_update(actor=staff_user, phase=phase, state="actual", accelerator_type="B200")
    rows = agreement_rows()  # the FR row leaves expiry and notes empty
    again = dry_run_and_apply(staff_user, "agreements", csv_bytes(rows))
    assert again.applied_counts["update"] == 0
    fr.refresh_from_db()
    assert (fr.expires_on, fr.notes) == (datetime.date(2030, 1, 1), "Renewed by letter")
    sheet = facility_rows()
    sheet[2][10] = ""  # phase 2's state left empty in the sheet
    again = dry_run_and_apply(staff_user, "facilities", csv_bytes(sheet))
    assert again.applied_counts == {"create": 0, "update": 0, "unchanged": 3, "error": 0}
    phase.refresh_from_db()
    assert (phase.state, phase.accelerator_type) == ("actual", "B200")


def test_names_in_other_scripts_are_told_apart(staff_user, countries):
    rows = [FACILITIES[:2], ["AE", "مركز أبوظبي"], ["AE", "مركز دبي"], ["AE", "مركز دبي"]]
    job = dry_run_and_apply(staff_user, "facilities", csv_bytes(rows))
    assert job.applied_counts == {"create": 2, "update": 0, "unchanged": 0, "error": 1}
    assert "line 3" in results(job)[4].message
