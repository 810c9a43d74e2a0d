"""API behaviour found in review: no 500 for odd tokens or orderings, hidden evidence, strict booleans,
weak tags refused by If-Match."""

import datetime

import pytest
from rest_framework.test import APIClient

from core.services import api_token_create
from engagements.models import Engagement
from engagements.services import engagement_log
from partnerships.models import CountryTrack
from partnerships.rollup import rollup_countries
from partnerships.services import country_track_move, partnership_create
from tests import factories

pytestmark = pytest.mark.django_db


def client_for(user):
    import uuid

    _token, secret = api_token_create(actor=user, user=user, name=f"t-{uuid.uuid4().hex[:6]}", days=5)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def test_a_token_that_is_not_utf8_is_a_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token ppt_\xe9\xe9".encode("latin-1").decode("latin-1"))
    response = client.get("/api/v1/tracks/")
    assert response.status_code == 401


def test_status_ignores_ordering_instead_of_failing(staff_user, viewer_user):
    partnership_create(actor=staff_user, country=factories.country("GB"))
    rollup_countries()
    response = client_for(viewer_user).get("/api/v1/status/?ordering=name_en")
    assert response.status_code == 200 and response.json()["count"] == 1


def test_confidential_evidence_is_hidden_from_those_who_may_not_see_it(gb_partnership, gb_liaison, viewer_user):
    secret = engagement_log(
        actor=gb_liaison,
        country=gb_partnership.country,
        occurred_on=datetime.date.today(),
        kind="meeting",
        summary="Confidential",
        sensitivity=Engagement.Sensitivity.CONFIDENTIAL,
    )
    ct = CountryTrack.objects.get(country=gb_partnership.country, track__key="workforce")
    country_track_move(
        actor=gb_liaison, country_track=ct, to_stage=factories.stage("workforce", "exploring"), evidence_engagement=secret
    )
    seen_by_viewer = client_for(viewer_user).get("/api/v1/stage-changes/?to_stage=exploring").json()["results"][0]
    seen_by_liaison = client_for(gb_liaison).get("/api/v1/stage-changes/?to_stage=exploring").json()["results"][0]
    assert seen_by_viewer["evidence_engagement"] is None
    assert seen_by_liaison["evidence_engagement"] == secret.pk


def test_unknown_boolean_values_are_a_400(viewer_user):
    response = client_for(viewer_user).get("/api/v1/follow-ups/?done=maybe")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "done"
    assert client_for(viewer_user).get("/api/v1/follow-ups/?done=false").status_code == 200


def test_if_match_refuses_weak_tags(gb_partnership, gb_liaison):
    client = client_for(gb_liaison)
    ct = CountryTrack.objects.get(country=gb_partnership.country, track__key="workforce")
    etag = client.get(f"/api/v1/country-tracks/{ct.pk}/")["ETag"]
    weak = client.patch(f"/api/v1/country-tracks/{ct.pk}/", {"next_step": "x"}, format="json", HTTP_IF_MATCH=f"W/{etag}")
    assert weak.status_code == 412
    strong = client.patch(f"/api/v1/country-tracks/{ct.pk}/", {"next_step": "x"}, format="json", HTTP_IF_MATCH=etag)
    assert strong.status_code == 200
