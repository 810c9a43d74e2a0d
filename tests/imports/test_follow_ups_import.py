import datetime

import pytest
from django.utils import timezone

from engagements.models import FollowUp
from partnerships.services import partnership_create
from tests import factories

from .helpers import csv_bytes, dry_run, dry_run_and_apply, results, table_counts

pytestmark = pytest.mark.django_db

HEADER = ["Pays", "À faire", "Échéance", "Volet", "Responsable", "Fait"]


@pytest.fixture
def countries(staff_user):
    for code in ("GB", "FR"):
        partnership_create(actor=staff_user, country=factories.country(code), started_on=None)


def due(days: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def test_follow_ups_clean_then_unchanged_then_completed(staff_user, countries):
    rows = [HEADER, ["GB", "Send the plan", due(7), "workforce", "staff", "non"], ["FR", "Appeler la DINUM", due(3), "", "", ""]]
    job = dry_run_and_apply(staff_user, "follow-ups", csv_bytes(rows))
    assert job.applied_counts == {"create": 2, "update": 0, "unchanged": 0, "error": 0}
    plan = FollowUp.objects.get(description="Send the plan")
    assert (plan.track.key, plan.owner, plan.is_done) == ("workforce", staff_user, False)
    before = table_counts()
    assert dry_run_and_apply(staff_user, "follow-ups", csv_bytes(rows)).applied_counts["unchanged"] == 2
    assert table_counts() == before
    rows[1][5] = "oui"
    assert dry_run_and_apply(staff_user, "follow-ups", csv_bytes(rows)).applied_counts["update"] == 1
    plan.refresh_from_db()
    assert plan.is_done


def test_follow_ups_bad_rows(countries):
    liaison = factories.liaison("GB", username="gb-fu")
    rows = [
        HEADER,
        ["GB", "Fine", due(5), "", "", ""],
        ["FR", "Not mine", due(5), "", "", ""],
        ["Oz", "Nowhere", due(5), "", "", ""],
        ["GB", "Fine", due(5), "", "", ""],
        ["GB", "=cmd()", due(5), "", "", ""],
        ["GB", "Unknown owner", due(5), "", "ghost", ""],
        ["GB", "Strange done", due(5), "", "", "perhaps"],
    ]
    before = table_counts()
    job = dry_run(liaison, "follow-ups", csv_bytes(rows))
    assert table_counts() == before
    assert job.checked_counts == {"create": 1, "update": 0, "unchanged": 0, "error": 6}
    by_line = results(job, applied=False)
    assert [by_line[n].column for n in range(3, 9)] == ["Pays", "Pays", "", "À faire", "Responsable", "Fait"]
    from imports import engine

    engine.run(job, liaison, dry_run=False)
    job.refresh_from_db()
    assert job.applied_counts == job.checked_counts
