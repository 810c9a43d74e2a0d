"""``|machine_datetime``: the ``datetime`` attribute of ``<time>``, valid HTML and RFC 3339, to the second."""

import datetime
import zoneinfo

from django.template import Context, Template
from django.utils import timezone

from core.templatetags.portal import machine_datetime

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def test_a_moment_with_microseconds_is_given_to_the_second_in_utc():
    moment = datetime.datetime(2026, 12, 1, 9, 0, 0, 123456, tzinfo=datetime.UTC)
    with timezone.override(datetime.UTC):
        assert machine_datetime(moment) == "2026-12-01T09:00:00+00:00"


def test_a_moment_is_given_in_the_readers_time_zone_with_its_offset():
    moment = datetime.datetime(2026, 7, 1, 9, 30, 15, 999999, tzinfo=datetime.UTC)
    with timezone.override(PARIS):
        assert machine_datetime(moment) == "2026-07-01T11:30:15+02:00"


def test_a_naive_moment_is_taken_in_the_current_time_zone():
    with timezone.override(PARIS):
        assert machine_datetime(datetime.datetime(2026, 1, 15, 8, 0, 0, 5)) == "2026-01-15T08:00:00+01:00"


def test_a_date_stays_a_date_and_nothing_gives_nothing():
    assert machine_datetime(datetime.date(2026, 12, 1)) == "2026-12-01"
    assert machine_datetime(None) == ""
    assert machine_datetime("") == ""


def test_the_filter_in_a_template():
    moment = datetime.datetime(2026, 12, 1, 9, 0, 0, 654321, tzinfo=datetime.UTC)
    with timezone.override(datetime.UTC):
        html = Template('{% load portal %}<time datetime="{{ at|machine_datetime }}">').render(Context({"at": moment}))
    assert html == '<time datetime="2026-12-01T09:00:00+00:00">'
