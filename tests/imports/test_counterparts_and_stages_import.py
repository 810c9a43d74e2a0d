import pytest
from auditlog.models import LogEntry

from countries.models import Counterpart
from countries.services import counterpart_create, counterpart_erase, counterpart_merge
from partnerships.models import CountryTrack, StageChange
from partnerships.services import partnership_create
from tests import factories

from .helpers import csv_bytes, dry_run, dry_run_and_apply, results, table_counts

pytestmark = pytest.mark.django_db

PEOPLE = ["Country", "Name", "Title", "Ministry", "E-mail", "Phone", "In post from"]
STAGES = ["Pays", "Volet", "Étape", "Note", "Reprise le"]


def people_rows():
    return [
        PEOPLE,
        ["GB", "Ada Lovelace", "Minister", "DSIT", "ada@example.org", "+44 20 7946 0000", "2025-01-01"],
        ["FR", "Sophie Germain", "Directrice", "DINUM", "", "", ""],
    ]


def test_counterparts_clean_file_then_a_second_import_changes_nothing(staff_user):
    job = dry_run_and_apply(staff_user, "counterparts", csv_bytes(people_rows()))
    assert job.applied_counts == {"create": 2, "update": 0, "unchanged": 0, "error": 0}
    ada = Counterpart.objects.get(name="Ada Lovelace")
    assert (ada.title, ada.organisation, ada.phone, str(ada.active_from)) == (
        "Minister",
        "DSIT",
        "+44 20 7946 0000",
        "2025-01-01",
    )
    before = table_counts()
    again = dry_run_and_apply(staff_user, "counterparts", csv_bytes(people_rows()))
    assert again.applied_counts == {"create": 0, "update": 0, "unchanged": 2, "error": 0}
    assert table_counts() == before
    assert LogEntry.objects.filter(cid=f"import:{job.pk}", content_type__model="counterpart").count() == 2


def test_counterparts_bad_rows_and_the_dry_run_writes_nothing(gb_liaison):
    rows = [
        PEOPLE,
        ["GB", "Ada Lovelace", "", "", "", "", ""],
        ["GB", "ada lovelace", "", "", "", "", ""],  # the same person twice in the file
        ["Narnia", "Nobody", "", "", "", "", ""],
        ["FR", "Sophie Germain", "", "", "", "", ""],  # not the liaison's country
        ["GB", "Mallory", "@SUM(A1)", "", "", "", ""],
        ["GB", "Bob", "", "", "not-an-email", "", ""],
        ["GB", "Eve", "", "", "", "", "2099-13-45"],
    ]
    before = table_counts()
    job = dry_run(gb_liaison, "counterparts", csv_bytes(rows))
    assert table_counts() == before
    assert job.checked_counts == {"create": 1, "update": 0, "unchanged": 0, "error": 6}
    by_line = results(job, applied=False)
    assert by_line[3].action == "error" and "line 2" in by_line[3].message
    assert by_line[4].column == "Country" and by_line[5].column == "Country"
    assert by_line[6].column == "Title" and "formula" in by_line[6].message
    assert by_line[7].column == "E-mail"
    from imports import engine

    engine.run(job, gb_liaison, dry_run=False)
    job.refresh_from_db()
    assert job.applied_counts == job.checked_counts


def test_a_reimport_never_brings_back_an_erased_person_nor_a_merged_duplicate(staff_user):
    dry_run_and_apply(staff_user, "counterparts", csv_bytes(people_rows()))
    ada = Counterpart.objects.get(name="Ada Lovelace")
    counterpart_erase(actor=staff_user, counterpart=ada, reason="request of the person")
    keep = counterpart_create(actor=staff_user, country=factories.country("FR"), name="S. Germain")
    counterpart_merge(actor=staff_user, keep=keep, duplicate=Counterpart.objects.get(name="Sophie Germain"))
    job = dry_run_and_apply(staff_user, "counterparts", csv_bytes(people_rows()))
    by_line = results(job)
    assert by_line[2].action == "unchanged" and "erased" in by_line[2].message
    assert by_line[3].action == "unchanged" and "merged" in by_line[3].message
    assert not Counterpart.objects.filter(name="Ada Lovelace").exists()
    assert Counterpart.objects.filter(name="Sophie Germain").count() == 1


def test_an_engagement_naming_a_merged_duplicate_names_the_record_kept(staff_user):
    partnership_create(actor=staff_user, country=factories.country("FR"), started_on=None)
    keep = counterpart_create(actor=staff_user, country=factories.country("FR"), name="S. Germain")
    dup = counterpart_create(actor=staff_user, country=factories.country("FR"), name="Sophie Germain")
    counterpart_merge(actor=staff_user, keep=keep, duplicate=dup)
    rows = [["Country", "Date", "Summary", "Counterparts"], ["FR", "2026-02-01", "Lancement", "Sophie Germain"]]
    dry_run_and_apply(staff_user, "engagements", csv_bytes(rows))
    from engagements.models import Engagement

    assert [c.pk for c in Engagement.objects.get().counterparts.all()] == [keep.pk]


@pytest.fixture
def cells(staff_user):
    for code in ("GB", "FR"):
        partnership_create(actor=staff_user, country=factories.country(code), started_on=None)


def test_stages_move_the_tracks_writing_their_history(staff_user, cells):
    history = StageChange.objects.count()
    rows = [
        STAGES,
        ["GB", "workforce", "Negotiating", "Draft plan shared", ""],
        ["FR", "Centres de données et supercalculateurs", "exploring", "", ""],
        ["FR", "workforce", "paused", "Élections", "2099-01-15"],
    ]
    job = dry_run_and_apply(staff_user, "stages", csv_bytes(rows))
    assert job.applied_counts == {"create": 0, "update": 3, "unchanged": 0, "error": 0}
    gb = CountryTrack.objects.get(country__iso2="GB", track__key="workforce")
    assert gb.stage.key == "negotiating"
    change = StageChange.objects.get(country_track=gb, to_stage__key="negotiating")
    assert change.note == "Draft plan shared" and change.actor == staff_user
    assert CountryTrack.objects.get(country__iso2="FR", track__key="workforce").stage.kind == "paused"
    again = dry_run_and_apply(staff_user, "stages", csv_bytes(rows))
    assert again.applied_counts == {"create": 0, "update": 0, "unchanged": 3, "error": 0}
    assert StageChange.objects.count() == history + 3


def test_stage_rows_refused_by_the_ladder_rules(staff_user, cells):
    fr_liaison = factories.liaison("FR", username="fr-liaison")
    rows = [
        STAGES,
        ["FR", "workforce", "negotiating", "", ""],
        ["FR", "workforce", "agreed", "", ""],  # the same track twice
        ["FR", "safety_standards", "flying", "", ""],
        ["GB", "workforce", "exploring", "", ""],  # not the liaison's country
        ["DE", "workforce", "exploring", "", ""],  # not theirs either (and no partnership)
        ["FR", "public_services", "paused", "", ""],  # a pause needs a reason and a date
    ]
    before = table_counts()
    job = dry_run(fr_liaison, "stages", csv_bytes(rows))
    assert table_counts() == before
    assert job.checked_counts == {"create": 0, "update": 1, "unchanged": 0, "error": 5}
    by_line = results(job, applied=False)
    assert by_line[4].column == "Étape" and "flying" in by_line[4].message
    assert by_line[5].column == "Pays"
    assert by_line[6].column == "Pays"
    assert by_line[7].column == "Note"
    from imports import engine

    engine.run(job, fr_liaison, dry_run=False)
    job.refresh_from_db()
    assert job.applied_counts == job.checked_counts


def test_a_country_without_a_partnership_is_refused_on_the_track_column(staff_user):
    job = dry_run(staff_user, "stages", csv_bytes([STAGES, ["DE", "workforce", "exploring", "", ""]]))
    line = results(job, applied=False)[2]
    assert line.column == "Volet" and "no partnership" in line.message
