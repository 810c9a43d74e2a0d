"""The header search: countries, engagements, counterparts, announcements and facilities the user may see."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from engagements.models import Engagement
from engagements.services import engagement_log
from partnerships.services import partnership_create
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(staff_user, gb_liaison):
    gb = factories.country("GB")
    partnership_create(actor=staff_user, country=gb)
    engagement_log(actor=gb_liaison, country=gb, occurred_on=timezone.localdate(), kind="call", summary="Quantum skills call")
    engagement_log(actor=gb_liaison, country=gb, occurred_on=timezone.localdate(), kind="call", summary="Quantum secret",
                   sensitivity=Engagement.Sensitivity.CONFIDENTIAL)  # fmt: skip
    factories.CounterpartFactory(country=gb, name="Quentin Quantum", title="Chief Scientist")
    factories.FacilityFactory(country=gb, name="Quantum Hall", city="Bristol")
    factories.AnnouncementFactory(title="Quantum draft")
    return gb


def search(client, user, q):
    client.force_login(user)
    return client.get(reverse("search"), {"q": q}).content.decode()


def test_search_finds_each_kind_the_user_may_see(client, data, viewer_user):
    html = search(client, viewer_user, "quantum")
    assert "Quantum skills call" in html and "Quentin Quantum" in html and "Quantum Hall" in html
    assert "Quantum secret" not in html  # confidential
    assert "Quantum draft" not in html  # a draft announcement
    countries = search(client, viewer_user, "ivoire")
    assert "Côte d&#x27;Ivoire" in countries or "Côte d'Ivoire" in countries


def test_staff_see_confidential_engagements_and_drafts(client, data, staff_user):
    html = search(client, staff_user, "quantum")
    assert "Quantum secret" in html and "Quantum draft" in html


def test_short_empty_and_unmatched_queries_say_so(client, data, viewer_user):
    assert "Type at least two letters" in search(client, viewer_user, "")
    assert "Type at least two letters." in search(client, viewer_user, "q")
    assert "Nothing matches “zzzzqq”." in search(client, viewer_user, "zzzzqq")
    client.force_login(viewer_user)
    # A NUL byte never reaches the database: the page refuses it (core.middleware.MalformedInputMiddleware).
    assert client.get(reverse("search"), {"q": "qu\x00antum"}).status_code == 400


def test_the_header_has_a_labelled_search_box(client, viewer_user):
    client.force_login(viewer_user)
    html = client.get(reverse("home")).content.decode()
    assert '<label for="header-search">Search</label>' in html


def test_search_query_count_does_not_grow(client, data, gb_liaison):
    def count():
        from django.core.cache import cache

        cache.clear()
        client.force_login(gb_liaison)
        with CaptureQueriesContext(connection) as ctx:
            client.get(reverse("search"), {"q": "quantum"})
        return len(ctx.captured_queries)

    few = count()
    for i in range(15):
        engagement_log(actor=gb_liaison, country=data, occurred_on=timezone.localdate(), kind="call", summary=f"Quantum {i}")
        factories.CounterpartFactory(country=data, name=f"Quantum person {i}")
    assert few == count() == 18  # a count and a first page per section


def test_search_counts_each_section_and_pages_through_one(client, data, gb_liaison):
    for i in range(30):
        engagement_log(actor=gb_liaison, country=data, occurred_on=timezone.localdate(), kind="call", summary=f"Orbital {i}")
    client.force_login(gb_liaison)
    html = client.get(reverse("search"), {"q": "orbital"}).content.decode()
    assert '<span class="count-label">(30)</span>' in html and html.count("/engagements/") >= 10
    assert "All 30 engagements" in html
    first = client.get(reverse("search"), {"q": "orbital", "section": "engagements"}).content.decode()
    second = client.get(reverse("search"), {"q": "orbital", "section": "engagements", "page": 2}).content.decode()
    assert first.count('href="/engagements/') == 25 and second.count('href="/engagements/') == 5
    assert "section=engagements" in first and "page=2" in first  # the pages keep the search and the section
