"""One form of date per language on every page (config/formats): "30 Nov 2026" and "30 Nov 2026, 14:05" in
English, "30 nov. 2026" in French; never "11/30/2026" nor "Nov. 30, 2026". Exports keep ISO 8601."""

import datetime
import re

import pytest
import time_machine
from django.urls import reverse

from engagements.services import engagement_log, follow_up_create
from partnerships.rollup import rollup_countries
from partnerships.services import partnership_create
from tests import factories

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 30, 14, 5, tzinfo=datetime.UTC)
US_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b")
AP_DATE = re.compile(r"\b(Jan|Feb|Aug|Sept|Oct|Nov|Dec)\. \d{1,2}, \d{4}\b|\b(March|April|June|July) \d{1,2}, \d{4}\b")


@pytest.fixture
def world(staff_user):
    with time_machine.travel(NOW, tick=False):
        gb = factories.country("GB")
        partnership_create(actor=staff_user, country=gb)
        engagement = engagement_log(
            actor=staff_user, country=gb, occurred_on=datetime.date(2026, 11, 30), kind="meeting", summary="Talks"
        )
        follow_up_create(actor=staff_user, country=gb, description="Send notes", due_on=datetime.date(2026, 12, 4),
                         owner=staff_user)  # fmt: skip
        rollup_countries()
    return engagement


def _pages(engagement):
    return [
        reverse("home"),
        reverse("country-detail", args=["gb"]),
        reverse("engagement-detail", args=[engagement.pk]),
        reverse("follow-ups") + "?show=all",
        reverse("dashboard"),
        reverse("dashboard-attention"),
        reverse("audit-log"),
    ]


@pytest.mark.parametrize(
    "language, day, moment",
    [("en", "30 Nov 2026", "30 Nov 2026, 14:05"), ("fr", "30 nov. 2026", "30 nov. 2026, 14:05")],
)
def test_every_page_writes_dates_one_way(client, world, staff_user, language, day, moment):
    client.force_login(staff_user)
    with time_machine.travel(NOW + datetime.timedelta(minutes=5), tick=False):
        seen = {}
        for path in _pages(world):
            html = client.get(path, HTTP_ACCEPT_LANGUAGE=language).content.decode()
            text = re.sub(r"<[^>]+>", " ", html)  # what is read, not attributes (datetime="2026-11-30")
            assert not US_DATE.search(text), (path, US_DATE.search(text).group())
            assert not AP_DATE.search(text), (path, AP_DATE.search(text).group())
            seen[path] = text
    assert day in seen[reverse("engagement-detail", args=[world.pk])]
    assert day in seen[reverse("dashboard")]  # the last engagement, once "11/30/2026"
    assert moment in seen[reverse("audit-log")]


def test_exports_keep_iso_dates(client, world, staff_user):
    client.force_login(staff_user)
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("dashboard"), {"export": "csv"})
    assert "2026-11-30" in response.getvalue().decode() and "30 Nov 2026" not in response.getvalue().decode()
