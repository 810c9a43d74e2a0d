import datetime

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from core.models import Event
from countries.services import counterpart_create
from engagements.models import Engagement
from engagements.services import engagement_void
from imports.models import ImportJob
from partnerships.services import partnership_create
from tests import factories

from .helpers import count_rollups, csv_bytes, dry_run, dry_run_and_apply, results, table_counts, xlsx_bytes

pytestmark = pytest.mark.django_db

HEADER = ["Country", "Date", "Kind", "Summary", "Outcome", "Tracks", "Counterparts", "Sensitivity"]


@pytest.fixture
def countries(staff_user):
    for code in ("GB", "FR"):
        partnership_create(actor=staff_user, country=factories.country(code), started_on=None)
    counterpart_create(actor=staff_user, country=factories.country("GB"), name="Ada Lovelace")


def clean_rows():
    return [
        HEADER,
        ["GB", "2026-01-10", "meeting", "Kick-off", "Plan agreed", "workforce", "Ada Lovelace", "normal"],
        ["United Kingdom", "11/01/2026", "call", "Follow-up call", "", "workforce; data_centres", "", ""],
        ["FR", "2026-01-12", "Réunion", "Réunion de lancement", "", "Formation de la main-d'œuvre", "", "confidential"],
    ]


def test_a_clean_file_creates_each_engagement_with_its_tracks_and_people(staff_user, countries):
    job = dry_run_and_apply(staff_user, "engagements", csv_bytes(clean_rows()))
    assert job.state == ImportJob.State.APPLIED
    assert job.applied_counts == {"create": 3, "update": 0, "unchanged": 0, "error": 0}
    kick_off = Engagement.objects.get(summary="Kick-off")
    assert kick_off.country.iso2 == "GB" and kick_off.outcome == "Plan agreed"
    assert [t.key for t in kick_off.tracks.all()] == ["workforce"]
    assert [c.name for c in kick_off.counterparts.all()] == ["Ada Lovelace"]
    assert Engagement.objects.get(summary="Follow-up call").tracks.count() == 2
    french = Engagement.objects.get(summary="Réunion de lancement")
    assert french.kind == "meeting" and french.is_confidential
    assert french.logged_by == staff_user


def test_the_dry_run_writes_nothing_and_the_apply_matches_its_counts(staff_user, countries):
    before = table_counts()
    job = dry_run(staff_user, "engagements", csv_bytes(bad_rows()))
    assert table_counts() == before
    assert job.state == ImportJob.State.CHECKED
    checked = job.checked_counts
    assert checked == {"create": 1, "update": 0, "unchanged": 0, "error": 5}
    from imports import engine

    engine.run(job, staff_user, dry_run=False)
    job.refresh_from_db()
    assert job.applied_counts == checked
    assert Engagement.objects.count() == 1


def bad_rows():
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    return [
        HEADER,
        ["GB", "2026-01-10", "meeting", "Kick-off", "", "", "", ""],
        ["Atlantis", "2026-01-10", "meeting", "Unknown country", "", "", "", ""],
        ["GB", future, "meeting", "Not yet", "", "", "", ""],
        ["GB", "2026-01-10", "meeting", "Kick-off", "", "", "", ""],
        ["GB", "2026-01-11", "meeting", '=HYPERLINK("http://x")', "", "", "", ""],
        ["GB", "2026-01-11", "meeting", "Someone unknown", "", "", "Nobody", ""],
    ]


def test_every_kind_of_bad_row_is_refused_with_its_column_and_reason(staff_user, countries):
    job = dry_run_and_apply(staff_user, "engagements", csv_bytes(bad_rows()))
    by_line = results(job)
    assert by_line[2].action == "create"
    assert (by_line[3].action, by_line[3].column) == ("error", "Country")
    assert "Atlantis" in by_line[3].message
    assert (by_line[4].action, by_line[4].column) == ("error", "Date")
    assert "future" in by_line[4].message
    assert by_line[5].action == "error" and "line 2" in by_line[5].message
    assert (by_line[6].action, by_line[6].column) == ("error", "Summary")
    assert "formula" in by_line[6].message
    assert (by_line[7].action, by_line[7].column) == ("error", "Counterparts")
    assert by_line[3].cells[0] == "Atlantis"  # the failed rows keep their cells for the report


def test_a_liaison_imports_their_countries_only(countries):
    liaison = factories.liaison("GB", username="gb-liaison")
    rows = [
        HEADER,
        ["GB", "2026-01-10", "meeting", "Ours", "", "", "", ""],
        ["FR", "2026-01-10", "meeting", "Theirs", "", "", "", ""],
    ]
    job = dry_run_and_apply(liaison, "engagements", csv_bytes(rows))
    by_line = results(job)
    assert by_line[2].action == "create"
    assert by_line[3].action == "error" and by_line[3].column == "Country"
    assert "not one of your countries" in by_line[3].message
    assert list(Engagement.objects.values_list("summary", flat=True)) == ["Ours"]


def test_a_second_import_of_the_same_file_changes_nothing(staff_user, countries):
    dry_run_and_apply(staff_user, "engagements", csv_bytes(clean_rows()))
    before, events = table_counts(), Event.objects.count()
    job = dry_run_and_apply(staff_user, "engagements", csv_bytes(clean_rows()))
    assert job.applied_counts == {"create": 0, "update": 0, "unchanged": 3, "error": 0}
    assert table_counts() == before and Event.objects.count() == events


def test_a_changed_outcome_is_an_update_through_the_service(staff_user, countries):
    dry_run_and_apply(staff_user, "engagements", csv_bytes(clean_rows()))
    rows = clean_rows()
    rows[1][4] = "Plan agreed and signed"
    job = dry_run_and_apply(staff_user, "engagements", csv_bytes(rows))
    assert job.applied_counts == {"create": 0, "update": 1, "unchanged": 2, "error": 0}
    engagement = Engagement.objects.get(summary="Kick-off")
    assert engagement.outcome == "Plan agreed and signed" and engagement.version == 2
    assert Event.objects.filter(kind="engagement.updated", subject_id=str(engagement.pk)).exists()


def test_a_voided_engagement_is_reported_unchanged_and_stays_voided(staff_user, countries):
    dry_run_and_apply(staff_user, "engagements", csv_bytes(clean_rows()))
    engagement = Engagement.objects.get(summary="Kick-off")
    engagement_void(actor=staff_user, engagement=engagement, reason="logged twice")
    rows = clean_rows()
    rows[1][4] = "Changed outcome"
    job = dry_run_and_apply(staff_user, "engagements", csv_bytes(rows))
    line = results(job)[2]
    assert line.action == "unchanged" and "voided" in line.message
    engagement.refresh_from_db()
    assert engagement.is_voided and engagement.outcome == "Plan agreed"


def test_audit_entries_are_marked_as_the_import_and_name_the_actor(staff_user, countries):
    job = dry_run_and_apply(staff_user, "engagements", csv_bytes(clean_rows()))
    entries = LogEntry.objects.filter(cid=f"import:{job.pk}")
    engagement_entries = entries.filter(content_type__model="engagement", action=LogEntry.Action.CREATE)
    assert engagement_entries.count() == 3
    assert {e.actor_id for e in entries} == {staff_user.pk}


@pytest.mark.django_db(transaction=True)
def test_one_rollup_per_country_not_one_per_row(reference_data, staff_user, countries, monkeypatch):
    """Committed for real (a transactional test): the events are dispatched after commit, as in production."""
    computed = count_rollups(monkeypatch)
    rows = [HEADER] + [["GB", "2026-01-10", "meeting", f"Meeting {n}", "", "workforce", "", ""] for n in range(12)]
    rows += [["FR", "2026-01-10", "meeting", f"Réunion {n}", "", "", "", ""] for n in range(5)]
    dry_run_and_apply(staff_user, "engagements", csv_bytes(rows))
    gb, fr = factories.country("GB").pk, factories.country("FR").pk
    assert sorted(computed) == sorted([gb, fr])
    assert not Event.objects.filter(state=Event.State.PENDING, kind="engagement.logged").exists()
    from countries.models import CountryStatus

    assert CountryStatus.objects.filter(country_id__in=[gb, fr]).count() == 2


def test_an_xlsx_file_with_french_headers_is_read_like_a_csv(staff_user, countries):
    rows = [["Pays", "Date", "Type", "Résumé", "Volets"], ["GB", "2026-01-10", "Appel", "Appel de suivi", "workforce"]]
    job = dry_run_and_apply(staff_user, "engagements", xlsx_bytes(rows), filename="journal.xlsx")
    assert job.file_format == "xlsx"
    assert job.applied_counts["create"] == 1
    assert Engagement.objects.get().kind == "call"


def test_an_xlsx_formula_cell_is_refused(staff_user, countries):
    rows = [HEADER, ["GB", "2026-01-10", "meeting", "=1+1", "", "", "", ""]]
    job = dry_run_and_apply(staff_user, "engagements", xlsx_bytes(rows), filename="f.xlsx")
    line = results(job)[2]
    assert line.action == "error" and "formula" in line.message


def test_an_unexpected_failure_marks_the_import_failed_not_running(staff_user, countries, monkeypatch):
    from imports import engine, kinds

    job = dry_run(staff_user, "engagements", csv_bytes(clean_rows()))

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(kinds.EngagementKind, "write", broken)
    with pytest.raises(RuntimeError):
        engine.run(job, staff_user, dry_run=False)
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED and "unexpected error" in job.error
