"""The country page: status, tracks with their ladder and history, one timeline, follow-ups, counterparts, facilities."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from engagements.models import Engagement
from engagements.services import agreement_create, engagement_log
from partnerships.models import CountryTrack
from partnerships.rollup import rollup_countries
from partnerships.services import country_track_move, partnership_create
from tests import factories

pytestmark = pytest.mark.django_db


def _days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.fixture
def gb_page(staff_user, gb_liaison):
    gb = factories.country("GB")
    partnership_create(actor=staff_user, country=gb)
    workforce = factories.track("workforce")
    first_follow_up = {"description": "Send the skills framework", "due_on": _days(-1)}
    engagement_log(actor=gb_liaison, country=gb, occurred_on=_days(-10), kind="meeting", summary="Skills kick-off",
                   tracks=[workforce], follow_ups=[first_follow_up])  # fmt: skip
    engagement_log(actor=gb_liaison, country=gb, occurred_on=_days(-5), kind="call", summary="Secret budget call",
                   tracks=[workforce], sensitivity=Engagement.Sensitivity.CONFIDENTIAL)  # fmt: skip
    ct = CountryTrack.objects.get(country=gb, track=workforce)
    country_track_move(actor=gb_liaison, country_track=ct, to_stage=factories.stage("workforce", "exploring"), note="Kick-off")
    agreement_create(actor=staff_user, country=gb, kind="mou", title="MoU on AI skills", signed_on=_days(-2), tracks=[workforce])
    factories.CounterpartFactory(country=gb, name="Ada Minister", title="Minister for AI")
    factories.CounterpartFactory(country=gb, name="Old Official", active_from=_days(-400), active_to=_days(-30))
    facility = factories.FacilityFactory(country=gb, name="Isambard North")
    factories.FacilityPartnerFactory(facility=facility, organisation=factories.OrganisationFactory(name="Compute Co"))
    rollup_countries()
    return gb


def page(client, user, code="gb", **params):
    client.force_login(user)
    response = client.get(reverse("country-detail", args=[code]), params)
    return response, response.content.decode()


def test_the_country_page_shows_status_tracks_timeline_people_and_facilities(client, gb_page, gb_liaison):
    response, html = page(client, gb_liaison)
    assert response.status_code == 200
    assert "<h1>United Kingdom <span" in html
    assert "Workforce training" in html and 'aria-current="step">Exploring</li>' in html
    assert "Not started → Exploring" in html and "Kick-off" in html
    timeline = html.split('id="timeline-title"')[1].split('id="follow-ups-title"')[0]
    # Newest first: the agreement (2 days ago), the stage change (today is newest), the calls.
    assert timeline.index("MoU on AI skills") < timeline.index("Secret budget call") < timeline.index("Skills kick-off")
    assert "Confidential" in timeline
    assert "Send the skills framework" in html and "Overdue" in html
    assert "Ada Minister" in html and "left on" in html
    assert "Isambard North" in html and "Compute Co" in html


def test_a_viewer_does_not_see_confidential_engagements(client, gb_page, viewer_user):
    _response, html = page(client, viewer_user)
    assert "Skills kick-off" in html
    assert "Secret budget call" not in html


def test_the_timeline_filters_by_kind_and_track(client, gb_page, staff_user):
    _response, html = page(client, staff_user, kind="agreement")
    timeline = html.split('id="timeline-title"')[1].split('id="follow-ups-title"')[0]
    assert "MoU on AI skills" in timeline and "Skills kick-off" not in timeline
    _response, html = page(client, staff_user, track="data_centres")
    timeline = html.split('id="timeline-title"')[1].split('id="follow-ups-title"')[0]
    assert "Nothing on the timeline yet." in timeline


def test_unknown_country_is_404_and_a_country_outside_the_programme_says_so(client, viewer_user):
    response, _html = page(client, viewer_user, code="zz")
    assert response.status_code == 404
    response, html = page(client, viewer_user, code="aq")
    assert response.status_code == 200 and "This country is not in the programme." in html


def test_the_country_page_needs_a_role(client):
    response, html = page(client, factories.make_user(None, username="nobody"))
    assert response.status_code == 403


def test_the_country_page_is_in_french(client, gb_page, staff_user):
    client.force_login(staff_user)
    html = client.get(reverse("country-detail", args=["gb"]), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "<h1>Royaume-Uni <span" in html and "Chronologie" in html


def _queries(client, user):
    from django.core.cache import cache

    cache.clear()  # the demo-data banner's flag is cached between requests
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("country-detail", args=["gb"])).status_code == 200
    return len(ctx.captured_queries)


def test_the_country_page_query_count_does_not_grow(client, gb_page, gb_liaison, staff_user):
    few = _queries(client, gb_liaison)
    for i in range(25):
        engagement_log(actor=gb_liaison, country=gb_page, occurred_on=_days(-20 - i), kind="call", summary=f"Call {i}",
                       tracks=[factories.track("public_services")], counterparts=[],
                       follow_ups=[{"description": f"Task {i}", "due_on": _days(i)}])  # fmt: skip
        factories.CounterpartFactory(country=gb_page, name=f"Person {i}")
    ct = CountryTrack.objects.get(country=gb_page, track__key="public_services")
    for stage in ("exploring", "negotiating", "agreed"):
        country_track_move(actor=gb_liaison, country_track=ct, to_stage=factories.stage("public_services", stage))
    many = _queries(client, gb_liaison)
    # with one query that releases what is due, since tasks run in-process here, and one for the public-record sources
    assert few == many == 25
