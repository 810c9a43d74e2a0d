"""The country page's "Download engagements": what each reader may see, named by its filters, streamed in chunks."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from engagements import exports
from engagements.models import Engagement
from tests import factories

pytestmark = pytest.mark.django_db

EMAIL, PHONE = "minister@dsit.example.gov", "+44 20 7946 0000"
HEADERS = ["Id", "Date", "Country", "ISO code", "Kind", "Tracks", "Counterparts", "Summary", "Outcome", "Sensitivity",
           "Logged by", "Logged at (UTC)"]  # fmt: skip


@pytest.fixture
def timeline(gb, gb_liaison):
    fr = factories.country("FR")
    workforce, safety = factories.track("workforce"), factories.track("safety_standards")
    minister = factories.CounterpartFactory(country=gb, name="Ada Minister", email=EMAIL, phone=PHONE)
    erased = factories.CounterpartFactory(country=gb, name="", erased_at=timezone.now())
    day = timezone.localdate()
    made = {
        "normal": factories.EngagementFactory(
            country=gb, occurred_on=day - datetime.timedelta(days=1), summary="=cmd|' /C calc'!A0", outcome="Agreed",
            tracks=[safety, workforce], logged_by=gb_liaison,
        ),
        "confidential": factories.EngagementFactory(
            country=gb, occurred_on=day - datetime.timedelta(days=2), summary="Budget, not for circulation",
            sensitivity=Engagement.Sensitivity.CONFIDENTIAL, tracks=[safety],
        ),
        "voided": factories.EngagementFactory(
            country=gb, occurred_on=day - datetime.timedelta(days=3), summary="A duplicate", voided_at=timezone.now()
        ),
        "other_country": factories.EngagementFactory(country=fr, summary="In France"),
    }  # fmt: skip
    made["normal"].counterparts.set([minister, erased])
    return made


def download(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("country-detail", args=["gb"]), {"export": "csv", **params})
    assert response.status_code == 200
    return response, list(csv.reader(io.StringIO(response.getvalue().decode("utf-8-sig"))))


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("staff", ["normal", "confidential"]),
        ("gb_liaison", ["normal", "confidential"]),
        ("fr_liaison", ["normal"]),
        ("viewer", ["normal"]),
    ],
)
def test_the_download_holds_the_engagements_the_reader_may_see_never_voided_ones(
    client, timeline, who, expected, staff_user, gb_liaison, fr_liaison, viewer_user
):
    user = {"staff": staff_user, "gb_liaison": gb_liaison, "fr_liaison": fr_liaison, "viewer": viewer_user}[who]
    response, rows = download(client, user)
    assert response.streaming
    assert rows[0] == HEADERS
    assert [int(row[0]) for row in rows[1:]] == [timeline[name].pk for name in expected]


def test_a_line_names_counterparts_only_neutralises_formulas_and_keeps_iso_dates(client, timeline, staff_user, gb_liaison):
    _, rows = download(client, staff_user)
    line = dict(zip(HEADERS, rows[1], strict=True))
    normal = timeline["normal"]
    assert line == {
        "Id": str(normal.pk),
        "Date": normal.occurred_on.isoformat(),
        "Country": "United Kingdom",
        "ISO code": "GB",
        "Kind": "Meeting",
        "Tracks": "Workforce training; AI safety standards",  # in the order of the tracks
        "Counterparts": "a counterpart (erased); Ada Minister",
        "Summary": "'=cmd|' /C calc'!A0",
        "Outcome": "Agreed",
        "Sensitivity": "Normal",
        "Logged by": gb_liaison.get_full_name(),
        "Logged at (UTC)": timezone.localtime(normal.created_at).replace(tzinfo=None, microsecond=0).isoformat(sep=" "),
    }
    body = "".join(",".join(row) for row in rows)
    assert EMAIL not in body and PHONE not in body  # not even for staff, who may read them on the page


def test_the_timeline_track_filters_the_download_and_names_the_file(client, timeline, viewer_user):
    day = timezone.localdate().isoformat()
    response, rows = download(client, viewer_user)
    assert response["Content-Disposition"] == f'attachment; filename="engagements-country-gb-{day}.csv"'
    response, rows = download(client, viewer_user, track="safety_standards")
    assert response["Content-Disposition"] == f'attachment; filename="engagements-country-gb-track-safety_standards-{day}.csv"'
    assert [int(row[0]) for row in rows[1:]] == [timeline["normal"].pk]
    _, rows = download(client, viewer_user, track="data_centres")
    assert rows == [HEADERS]


def test_the_xlsx_download_holds_the_same_rows_typed(client, timeline, gb_liaison):
    client.force_login(gb_liaison)
    response = client.get(reverse("country-detail", args=["gb"]), {"export": "xlsx", "track": "safety_standards"})
    day = timezone.localdate().isoformat()
    name = f"engagements-country-gb-track-safety_standards-{day}.xlsx"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [cell.value for cell in sheet[1]] == HEADERS
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        timeline["normal"].pk,
        timeline["confidential"].pk,
    ]
    assert sheet["B2"].is_date and sheet["B2"].number_format == "yyyy-mm-dd"
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:L3"
    assert sheet.column_dimensions["H"].width > sheet.column_dimensions["A"].width


def _queries(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("country-detail", args=["gb"]), {"export": "csv"})
        for _chunk in response.streaming_content:
            pass
    return len(ctx.captured_queries)


def test_queries_grow_with_chunks_not_rows(client, gb, staff_user, monkeypatch):
    """Each chunk of engagements costs its query's share and two more (tracks, counterparts), whatever its length."""
    workforce = factories.track("workforce")
    person = factories.CounterpartFactory(country=gb)

    def log(n):
        for _ in range(n):
            factories.EngagementFactory(country=gb, tracks=[workforce]).counterparts.set([person])

    monkeypatch.setattr(exports, "CHUNK_SIZE", 5)
    log(3)
    one_chunk = _queries(client, staff_user)
    log(2)
    assert _queries(client, staff_user) == one_chunk  # 5 rows: still one chunk
    log(7)
    assert _queries(client, staff_user) == one_chunk + 2 * 2  # 12 rows: three chunks


def test_the_country_page_links_the_download_with_the_timeline_filter(client, timeline, gb_partnership, viewer_user):
    client.force_login(viewer_user)
    html = client.get(reverse("country-detail", args=["gb"]), {"track": "workforce"}).content.decode()
    assert "Download engagements on Workforce training:" in html
    assert '<a href="?track=workforce&amp;export=csv" download>' in html
    assert '<a href="?track=workforce&amp;export=xlsx" download>' in html
    html = client.get(reverse("country-detail", args=["gb"])).content.decode()
    assert '<a href="?export=csv" download>' in html
