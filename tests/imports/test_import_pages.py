import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from engagements.models import Engagement
from imports.models import ImportJob
from partnerships.services import partnership_create
from tests import factories

from .helpers import csv_bytes, table_counts, xlsx_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def gb(staff_user):
    partnership_create(actor=staff_user, country=factories.country("GB"), started_on=None)


def upload(client, data, name="log.csv", kind="engagements"):
    return client.post(reverse("imports"), {"kind": kind, "file": SimpleUploadedFile(name, data)})


def test_upload_match_dry_run_then_apply(client, staff_user, gb):
    client.force_login(staff_user)
    rows = [["Pays", "Quand", "Résumé"], ["GB", "2026-01-10", "Kick-off"], ["Atlantis", "2026-01-10", "Nowhere"]]
    response = upload(client, xlsx_bytes(rows), "log.xlsx")
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("import-detail", args=[job.pk])
    assert "date" not in job.mapping  # "Quand" is not a header it knows
    page = client.get(reverse("import-detail", args=[job.pk])).content.decode()
    assert "Run the dry run" in page
    before = table_counts()
    response = client.post(reverse("import-detail", args=[job.pk]), {"country": "0", "summary": "2"})
    assert response.status_code == 422  # the date has no column yet
    response = client.post(reverse("import-detail", args=[job.pk]), {"country": "0", "date": "1", "summary": "2"})
    assert response.status_code == 302
    assert table_counts() == before
    page = client.get(reverse("import-detail", args=[job.pk])).content.decode()
    assert "Atlantis" in page and "Apply the import" in page
    errors_only = client.get(reverse("import-detail", args=[job.pk]), {"action": "error"}).content.decode()
    assert "Nowhere" not in errors_only and "Atlantis" in errors_only
    report = client.get(reverse("import-failed-rows", args=[job.pk]))
    lines = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig"))))
    assert lines[0] == ["Pays", "Quand", "Résumé", "Line", "Column", "Reason"]
    assert lines[1][:4] == ["Atlantis", "2026-01-10", "Nowhere", "3"] and "Atlantis" in lines[1][5]
    response = client.post(reverse("import-apply", args=[job.pk]))
    assert response.status_code == 302
    assert list(Engagement.objects.values_list("summary", flat=True)) == ["Kick-off"]
    job.refresh_from_db()
    assert job.state == ImportJob.State.APPLIED


def test_a_refused_file_is_said_on_the_upload_page(client, staff_user):
    client.force_login(staff_user)
    response = upload(client, b"\x00\x01\x02binary")
    assert response.status_code == 422
    assert "NUL" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_templates_hold_their_columns_and_example_rows(client, staff_user):
    client.force_login(staff_user)
    response = client.get(reverse("import-template", args=["engagements", "csv"]))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["External id", "Country", "Date"] and len(rows) == 3
    response = client.get(reverse("import-template", args=["counterparts", "xlsx"]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["C1"].value == "Name" and sheet["C2"].value == "Jane Wanjiru"


def test_each_kind_s_template_imports_cleanly_in_a_dry_run(client, staff_user):
    from imports.templates_files import template_csv

    from .helpers import dry_run

    partnership_create(actor=staff_user, country=factories.country("KE"), started_on=None)
    from imports.kinds import KINDS

    assert set(KINDS) == {"counterparts", "engagements", "stages", "follow-ups", "agreements", "facilities"}
    for kind in KINDS:
        job = dry_run(staff_user, kind, template_csv(kind))
        assert job.checked_counts["error"] == 0, (kind, list(job.results.values_list("message", flat=True)))


def test_viewers_may_not_import_and_others_imports_are_hidden(client, staff_user, gb):
    client.force_login(factories.viewer(username="v"))
    assert client.get(reverse("imports")).status_code == 403
    from .helpers import upload as upload_file

    job = upload_file(staff_user, "engagements", csv_bytes([["Country", "Date", "Summary"], ["GB", "2026-01-10", "x"]]))
    liaison = factories.liaison("GB", username="gb-l")
    client.force_login(liaison)
    assert client.get(reverse("imports")).status_code == 200
    assert client.get(reverse("import-detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("import-failed-rows", args=[job.pk])).status_code == 404


def test_a_large_file_runs_as_a_task_with_progress(client, staff_user, gb, settings, django_capture_on_commit_callbacks):
    settings.IMPORT_TASK_ROWS = 2
    settings.IMPORT_CHUNK_ROWS = 2
    client.force_login(staff_user)
    rows = [["Country", "Date", "Summary"]] + [["GB", "2026-01-10", f"Meeting {n}"] for n in range(5)]
    upload(client, csv_bytes(rows))
    job = ImportJob.objects.get()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse("import-detail", args=[job.pk]), {"country": "0", "date": "1", "summary": "2"})
    job.refresh_from_db()
    assert job.state == ImportJob.State.CHECKING
    page = client.get(reverse("import-detail", args=[job.pk])).content.decode()
    progress_url = reverse("import-progress", args=[job.pk])
    assert f'data-hx-get="{progress_url}"' in page and "<progress" in page
    assert client.get(reverse("import-progress", args=[job.pk])).status_code == 200
    for callback in callbacks:
        callback()  # the task, run as the worker would run it
    job.refresh_from_db()
    assert job.state == ImportJob.State.CHECKED and job.rows_done == 5
    assert client.get(reverse("import-progress", args=[job.pk]))["HX-Redirect"] == reverse("import-detail", args=[job.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import-apply", args=[job.pk]))
    assert Engagement.objects.count() == 5
