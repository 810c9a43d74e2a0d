"""Conditional requests: ETag + If-None-Match (304) on reads, If-Match (412) on writes."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.services import api_token_create
from partnerships.models import CountryTrack
from partnerships.rollup import rollup_countries
from partnerships.services import country_track_move, partnership_create
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme(staff_user):
    for code in ("GB", "FR", "KE"):
        partnership_create(actor=staff_user, country=factories.country(code))
    rollup_countries()


def client_for(user):
    _token, secret = api_token_create(actor=user, user=user, name="t", days=30)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def test_bulk_status_revalidates_with_304_until_something_changes(programme, staff_user, viewer_user):
    client = client_for(viewer_user)
    first = client.get("/api/v1/status/")
    etag = first["ETag"]
    assert first.status_code == 200 and first.json()["count"] == 3
    again = client.get("/api/v1/status/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    # A filtered pull has its own tag.
    assert client.get("/api/v1/status/?region=150")["ETag"] != etag
    ct = CountryTrack.objects.get(country__iso2="KE", track__key="workforce")
    country_track_move(actor=staff_user, country_track=ct, to_stage=factories.stage("workforce", "exploring"))
    rollup_countries([ct.country_id])
    changed = client.get("/api/v1/status/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    ke = next(row for row in changed.json()["results"] if row["country"] == "KE")
    assert ke["furthest_stage"] == "exploring"


def test_304_does_not_read_the_status_rows(programme, viewer_user):
    client = client_for(viewer_user)
    etag = client.get("/api/v1/status/")["ETag"]
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/api/v1/status/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert not any('"tracks"' in q["sql"] or "tracks" in q["sql"].split("FROM")[0] for q in ctx.captured_queries)


def test_country_status_and_detail_etags(programme, viewer_user):
    client = client_for(viewer_user)
    status = client.get("/api/v1/countries/gb/status/")
    assert client.get("/api/v1/countries/GB/status/", HTTP_IF_NONE_MATCH=status["ETag"]).status_code == 304
    detail = client.get("/api/v1/countries/gb/")
    assert detail.status_code == 200 and detail["ETag"]
    assert client.get("/api/v1/countries/gb/", HTTP_IF_NONE_MATCH=detail["ETag"]).status_code == 304
    assert client.get("/api/v1/countries/gb/", HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_patch_with_a_stale_if_match_is_refused_with_412_and_changes_nothing(programme, gb_liaison):
    client = client_for(gb_liaison)
    ct = CountryTrack.objects.get(country__iso2="GB", track__key="safety_standards")
    url = f"/api/v1/country-tracks/{ct.pk}/"
    etag = client.get(url)["ETag"]
    first = client.patch(url, {"next_step": "Send draft standard"}, format="json", HTTP_IF_MATCH=etag)
    assert first.status_code == 200 and first.json()["next_step"] == "Send draft standard"
    assert first["ETag"] != etag
    stale = client.patch(url, {"next_step": "Something else"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert stale.json()["errors"][0]["code"] == "precondition_failed"
    ct.refresh_from_db()
    assert ct.next_step == "Send draft standard"
    fresh = client.patch(url, {"next_step": "Something else"}, format="json", HTTP_IF_MATCH=first["ETag"])
    assert fresh.status_code == 200


def test_stage_move_with_a_stale_if_match_is_refused(programme, gb_liaison, staff_user):
    client = client_for(gb_liaison)
    ct = CountryTrack.objects.get(country__iso2="GB", track__key="workforce")
    url = f"/api/v1/country-tracks/{ct.pk}/"
    etag = client.get(url)["ETag"]
    # Someone else moves the track meanwhile.
    country_track_move(actor=staff_user, country_track=ct, to_stage=factories.stage("workforce", "exploring"))
    response = client.post(url + "move/", {"to_stage": "negotiating"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 412
    ct.refresh_from_db()
    assert ct.stage.key == "exploring"


def test_the_bulk_status_body_of_an_etag_is_rendered_once_and_follows_changes(programme, staff_user, viewer_user):
    client = client_for(viewer_user)
    client.get("/api/v1/status/")  # the token's last-used time is written on the first request
    cache.clear()
    with CaptureQueriesContext(connection) as cold_ctx:
        cold = client.get("/api/v1/status/")
    with CaptureQueriesContext(connection) as warm_ctx:
        warm = client.get("/api/v1/status/")
    assert warm.status_code == 200 and warm["Content-Type"] == "application/json"
    assert warm.content == cold.content and warm["ETag"] == cold["ETag"]
    assert any('countries_countrystatus"."tracks' in q["sql"] for q in cold_ctx.captured_queries)
    # Warm: the token, its user's roles, the table's version and the body all come from the cache.
    assert warm_ctx.captured_queries == []
    # A change moves the ETag, so the next pull renders the new figures, never the cached old body.
    ct = CountryTrack.objects.get(country__iso2="KE", track__key="workforce")
    country_track_move(actor=staff_user, country_track=ct, to_stage=factories.stage("workforce", "exploring"))
    rollup_countries([ct.country_id])
    after = client.get("/api/v1/status/")
    assert after["ETag"] != cold["ETag"]
    assert next(r for r in after.json()["results"] if r["country"] == "KE")["furthest_stage"] == "exploring"
    # Another format than JSON is rendered as usual (the cache only holds JSON).
    assert client.get("/api/v1/status/", HTTP_ACCEPT="text/html").status_code in (200, 406)
