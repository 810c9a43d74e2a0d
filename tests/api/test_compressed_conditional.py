"""Compressed answers keep strong ETags: a client that accepts gzip (httpx does by default) reads, then writes with
If-Match, and is not refused; it revalidates with If-None-Match and gets 304. Through a real server on loopback
(pytest-django's live server), so every middleware runs as in production."""

import gzip

import httpx
import pytest
from django.core.cache import cache
from django.test import Client

from core.api.conditional import gzip_tag, identity_tag, if_match_holds
from core.services import api_token_create
from partnerships.models import CountryTrack
from partnerships.rollup import rollup_countries
from partnerships.services import partnership_create
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("reference_data")]


@pytest.fixture
def api(live_server):
    staff = factories.staff(username="staff")
    liaison = factories.liaison("GB", username="gb-liaison")
    partnership_create(actor=staff, country=factories.country("GB"))
    rollup_countries()
    cache.clear()
    _token, secret = api_token_create(actor=liaison, user=liaison, name="httpx", days=30)
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Token {secret}"}, timeout=30) as client:
        yield client


def assert_strong_gzip(response):
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    etag = response.headers["ETag"]
    assert not etag.startswith("W/") and etag.endswith('-gzip"'), etag
    return etag


def test_get_then_patch_with_if_match_through_gzip_is_accepted(api):
    ct = CountryTrack.objects.get(country__iso2="GB", track__key="workforce")
    url = f"/api/v1/country-tracks/{ct.pk}/"
    read = api.get(url)
    assert read.status_code == 200 and "gzip" in read.request.headers["Accept-Encoding"]
    etag = assert_strong_gzip(read)
    assert read.json()["id"] == ct.pk  # httpx decoded the body

    assert api.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert api.get(url, headers={"If-None-Match": etag}).headers["ETag"] == etag  # the tag the client holds

    written = api.patch(url, json={"next_step": "Send the draft MoU"}, headers={"If-Match": etag})
    assert written.status_code == 200, written.text
    assert written.json()["next_step"] == "Send the draft MoU"
    # The old tag no longer holds, compressed or not: the write is refused and changes nothing.
    stale = api.patch(url, json={"next_step": "Something else"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    ct.refresh_from_db()
    assert ct.next_step == "Send the draft MoU"
    # The gzip tag of the next read holds. (Not the tag of the answer to the write: the rollup after commit moves
    # the cell's health_computed_at, so that tag is stale at once; this is so without compression too.)
    fresh = assert_strong_gzip(api.get(url))
    assert api.patch(url, json={"next_step": "Sign it"}, headers={"If-Match": fresh}).status_code == 200


def test_the_same_state_gives_the_same_compressed_bytes_and_tag(api):
    """A strong tag promises the same bytes: tagged answers carry no random padding."""
    url = "/api/v1/countries/gb/"
    with httpx.Client(base_url=api.base_url, headers=dict(api.headers)) as raw:
        first = raw.get(url)
        second = raw.get(url)
    assert first.headers["ETag"] == second.headers["ETag"]
    assert first.content == second.content  # decoded; the wire bytes are compared below
    wire = [b"".join(r.iter_raw()) for r in (api.send(api.build_request("GET", url), stream=True) for _ in range(2))]
    assert wire[0] == wire[1] and gzip.decompress(wire[0]) == first.content


def test_cached_status_bodies_keep_their_strong_tag(api):
    """The status reads come from the cache (core/api/fastpath.py) from the second request on."""
    url = "/api/v1/countries/gb/status/"
    tags = [assert_strong_gzip(api.get(url)) for _ in range(3)]
    assert len(set(tags)) == 1
    revalidated = api.get(url, headers={"If-None-Match": tags[0]})
    assert revalidated.status_code == 304 and revalidated.headers["ETag"] == tags[0]
    # A client that does not take gzip gets the same state under the plain tag.
    plain = api.get(url, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and plain.headers["ETag"] == identity_tag(tags[0])


def test_pages_and_feeds_are_compressed_for_get_only():
    client = Client(headers={"Accept-Encoding": "gzip"})
    feed = client.get("/announcements/feed/")
    assert feed.status_code == 200 and feed["Content-Encoding"] == "gzip"
    assert gzip.decompress(feed.content).startswith(b"<?xml")
    page = client.get("/accounts/login/")
    assert page["Content-Encoding"] == "gzip" and b"csrfmiddlewaretoken" in gzip.decompress(page.content)
    # The answer to a POST (where a secret shown once would be) is never compressed.
    refused = client.post("/accounts/login/", {"username": "nobody", "password": "x" * 20})
    assert "Content-Encoding" not in refused


def test_if_match_takes_either_representation_of_a_strong_tag_and_no_weak_one():
    tag = '"0123abcd"'
    assert gzip_tag(tag) == '"0123abcd-gzip"' and identity_tag(gzip_tag(tag)) == tag
    assert if_match_holds(tag, tag) and if_match_holds(gzip_tag(tag), tag)
    assert if_match_holds(f'"other", {gzip_tag(tag)}', tag)
    assert not if_match_holds(f"W/{tag}", tag) and not if_match_holds(f"W/{gzip_tag(tag)}", tag)
    assert not if_match_holds('"other-gzip"', tag)
