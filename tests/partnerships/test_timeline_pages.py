"""The country page's timeline is paged, newest first, the filters kept from page to page, at a constant cost."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from engagements.services import engagement_log
from tests import factories

pytestmark = pytest.mark.django_db


def _log(liaison, country, n, start=0, track=None):
    today = timezone.localdate()
    for i in range(start, start + n):
        engagement_log(
            actor=liaison, country=country, occurred_on=today - datetime.timedelta(days=i), kind="call",
            summary=f"Call number {i}", tracks=[track] if track else [],
        )  # fmt: skip


def shown(html: str) -> set[int]:
    """The calls on the timeline (the stage forms' evidence lists name some too)."""
    timeline = html[html.index('id="timeline-title"') : html.index('id="follow-ups-title"')]
    return {int(n) for n in re.findall(r"Call number (\d+)", timeline)}


def test_the_timeline_pages_back_with_its_filters(client, gb_partnership, gb_liaison):
    gb = gb_partnership.country
    _log(gb_liaison, gb, 40, track=factories.track("workforce"))
    client.force_login(gb_liaison)
    first = client.get(reverse("country-detail", args=["gb"]), {"kind": "engagement", "track": "workforce"}).content.decode()
    assert shown(first) == set(range(30))
    assert "kind=engagement&amp;page=2" in first and "track=workforce" in first
    second = client.get(reverse("country-detail", args=["gb"]), {"kind": "engagement", "track": "workforce", "page": 2})
    html = second.content.decode()
    assert shown(html) == set(range(30, 40))
    assert 'rel="prev"' in html and 'rel="next"' not in html
    assert client.get(reverse("country-detail", args=["gb"]), {"page": "x"}).status_code == 200


def test_a_page_costs_the_same_queries_however_long_the_timeline(client, gb_partnership, gb_liaison):
    gb = gb_partnership.country

    def queries():
        from django.core.cache import cache

        cache.clear()
        client.force_login(gb_liaison)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("country-detail", args=["gb"]), {"page": 2}).status_code == 200
        return len(ctx.captured_queries)

    _log(gb_liaison, gb, 35)
    queries()
    few = queries()
    _log(gb_liaison, gb, 60, start=35)
    assert queries() == few
