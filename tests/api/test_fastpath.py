"""The cached-read path of the status API (core.api.fastpath): it answers exactly as the DRF view does, and only
when everything it read from the cache says yes; every other request reaches the DRF view."""

import datetime
import os

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.views import APIView

from core.api.throttling import FailedTokenLockout
from core.services import api_token_revoke
from countries.status_cache import status_changed
from partnerships.rollup import rollup_countries
from partnerships.services import partnership_create
from tests import factories
from tests.conftest import needs

pytestmark = pytest.mark.django_db

LIST, ONE = "/api/v1/status/", "/api/v1/countries/gb/status/"


@pytest.fixture
def programme(staff_user):
    for code in ("GB", "FR", "KE"):
        partnership_create(actor=staff_user, country=factories.country(code))
    rollup_countries()


@pytest.fixture
def drf_calls(monkeypatch):
    """How many requests reached a DRF view."""
    calls = []
    original = APIView.dispatch

    def dispatch(self, request, *args, **kwargs):
        calls.append(request.path)
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(APIView, "dispatch", dispatch)
    return calls


token_client = factories.token_and_api_client


def same_response(fast, drf):
    assert fast.status_code == drf.status_code
    assert fast.content == drf.content
    assert sorted(fast.headers.items()) == sorted(drf.headers.items())


@pytest.mark.parametrize("path", [LIST, ONE, LIST + "?region=150"])
def test_a_repeated_pull_and_a_revalidation_are_answered_from_the_cache_as_drf_answers_them(
    programme, viewer_user, drf_calls, path
):
    _token, client = token_client(viewer_user)
    drf = client.get(path)  # the first call: authenticated, counted and rendered by DRF, then cached
    assert drf.status_code == 200 and drf_calls == [path.split("?")[0]]
    with CaptureQueriesContext(connection) as ctx:
        fast = client.get(path)
        fast_304 = client.get(path, HTTP_IF_NONE_MATCH=drf["ETag"])
    assert len(drf_calls) == 1 and ctx.captured_queries == []  # neither reached DRF nor the database
    same_response(fast, drf)
    assert fast_304.status_code == 304 and fast_304.content == b""
    # DRF's own 304 (an Accept header the cached path leaves to DRF, negotiated to JSON all the same).
    drf_304 = client.get(path, HTTP_IF_NONE_MATCH=drf["ETag"], HTTP_ACCEPT="application/json, */*")
    assert len(drf_calls) == 2
    same_response(fast_304, drf_304)


def test_a_rollup_changes_the_tag_and_the_next_pull_gets_the_new_body(programme, staff_user, viewer_user, drf_calls):
    _token, client = token_client(viewer_user)
    before = client.get(ONE)
    client.get(ONE)
    assert len(drf_calls) == 1
    rollup_countries()
    after = client.get(ONE, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    assert len(drf_calls) == 2  # the version moved: the cached body no longer matches, DRF renders afresh
    assert client.get(ONE, HTTP_IF_NONE_MATCH=after["ETag"]).status_code == 304
    assert len(drf_calls) == 2


def revoke(token, user):
    api_token_revoke(actor=user, token=token)


def deactivate(token, user):
    user.is_active = False
    user.save()


def drop_roles(token, user):
    user.groups.clear()


def lock_out(token, user):
    for _ in range(5):
        FailedTokenLockout.record_failure("127.0.0.1")


@pytest.mark.parametrize(
    ("change", "status"),
    [(revoke, 401), (deactivate, 401), (drop_roles, 403), (lock_out, 429)],
)
def test_a_token_that_may_no_longer_read_is_refused_by_drf_not_served_from_the_cache(
    programme, viewer_user, drf_calls, change, status
):
    token, client = token_client(viewer_user)
    etag = client.get(LIST)["ETag"]
    assert client.get(LIST, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert len(drf_calls) == 1
    change(token, viewer_user)
    assert client.get(LIST).status_code == status
    assert client.get(LIST, HTTP_IF_NONE_MATCH=etag).status_code == status
    assert len(drf_calls) == 3


def test_a_token_expiring_while_cached_is_refused(programme, viewer_user, drf_calls):
    token, client = token_client(viewer_user)
    client.get(LIST)
    with time_machine.travel(token.expiry + datetime.timedelta(seconds=1)):
        assert client.get(LIST).status_code == 401
    assert len(drf_calls) == 2


def test_the_last_use_stamp_is_still_written_about_once_a_minute(programme, viewer_user, drf_calls):
    token, client = token_client(viewer_user)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.get(LIST)
        client.get(LIST)
    assert len(drf_calls) == 1
    with time_machine.travel(start + datetime.timedelta(seconds=90), tick=False):
        assert client.get(LIST).status_code == 200  # a stale stamp: DRF answers, writes it and drops the entry
        client.get(LIST)  # DRF again: the token is read afresh and cached
        client.get(LIST)  # from the cache
    assert len(drf_calls) == 3
    token.refresh_from_db()
    assert token.last_used_at == start + datetime.timedelta(seconds=90)


def test_other_formats_sessions_and_bad_addresses_go_to_drf(programme, viewer_user, drf_calls):
    _token, client = token_client(viewer_user)
    client.get(LIST)
    html = client.get(LIST, HTTP_ACCEPT="text/html")
    assert html.status_code == 200 and html["Content-Type"].startswith("text/html")
    browser = APIClient()
    browser.force_login(viewer_user)
    assert browser.get(LIST).status_code == 200
    assert client.get("/api/v1/countries/gbr/status/").status_code == 404
    assert client.get("/api/v1/countries/zz/status/").status_code == 404
    assert len(drf_calls) == 5


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        (LIST + "?format=api", {"HTTP_ACCEPT": "text/html"}, 200),  # the browsable page, as DRF renders it
        (ONE + "?format=api", {}, 200),
        (ONE + "?format=xml", {}, 404),  # DRF: no renderer for that format
        (ONE + "?format=xml", {"HTTP_IF_NONE_MATCH": "*"}, 404),
        (ONE, {"HTTP_ACCEPT": ""}, 406),  # DRF: an empty Accept accepts nothing
        (ONE, {"HTTP_ACCEPT": "application/xml"}, 406),
    ],
)
def test_formats_and_accept_headers_are_drfs_to_answer(programme, viewer_user, drf_calls, path, headers, status):
    _token, client = token_client(viewer_user)
    client.get(ONE)
    client.get(LIST)
    calls = len(drf_calls)
    response = client.get(path, **headers)
    assert response.status_code == status and len(drf_calls) == calls + 1
    if status == 200:
        assert response["Content-Type"].startswith("text/html")


def test_a_cold_cache_is_filled_by_drf(programme, viewer_user, drf_calls):
    _token, client = token_client(viewer_user)
    first = client.get(LIST)
    status_changed()  # the version is dropped (as by a rollup, or a cache eviction)
    again = client.get(LIST, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200 and again["ETag"] != first["ETag"]
    assert len(drf_calls) == 2
    cache.clear()  # everything gone: the token is read from the database again
    assert client.get(LIST).status_code == 200
    assert len(drf_calls) == 3


def test_the_rate_limit_counts_each_request_once_on_either_path(low_rate_limits, programme, viewer_user, drf_calls):
    _token, client = token_client(viewer_user)
    start = datetime.datetime(2026, 11, 25, 10, 0, 10, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        codes = [client.get(LIST).status_code for _ in range(3)]
        refused = client.get(LIST)
    assert codes == [200, 200, 200]
    assert drf_calls == [LIST, LIST]  # the first and the refused one by DRF, two from the cache
    assert refused.status_code == 429 and refused["Retry-After"] == "50"  # DRF refuses the fourth...
    with time_machine.travel(start + datetime.timedelta(seconds=50), tick=False):
        assert client.get(LIST).status_code == 200  # ...counted once: a new window starts afresh


REDIS_URL = os.environ.get("REDIS_URL", "")


def redis_cache():
    needs(bool(REDIS_URL), "REDIS_URL is not set: no Redis to cache in")
    return {"default": {"BACKEND": "core.cache.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "test-fastpath"}}


def test_one_script_reads_and_counts_on_redis():
    from core.cache import get_many_and_count

    with override_settings(CACHES=redis_cache()):
        cache.clear()
        cache.set_many({"a": {"x": [1]}, "b": "text", "n": 7}, 30)
        values, count = get_many_and_count(["a", "b", "n", "missing"], "counter", 60)
        assert values == {"a": {"x": [1]}, "b": "text", "n": 7} and count == 1
        assert get_many_and_count([], "counter", 60)[1] == 2
        assert cache.get("counter") == 2  # the same encoding as Django's own incr
        assert cache.incr("counter") == 3
        ttl = cache._cache.get_client().ttl(cache.make_key("counter"))
        assert 55 <= ttl <= 60  # set by the first increment, kept by the next ones
        cache._cache.get_client().script_flush()  # as after a restart of Redis: the script is loaded again
        assert get_many_and_count(["b"], "counter", 60) == ({"b": "text"}, 4)
        cache.clear()


def test_a_large_body_is_read_only_for_a_token_that_passed_every_check(programme, viewer_user, drf_calls, monkeypatch):
    from unittest import mock

    from core.cache import RedisCache

    monkeypatch.setattr(RedisCache, "SCRIPT_VALUE_BYTES", 1500)  # over the cached token's size, under the body's
    with override_settings(CACHES=redis_cache()):
        cache.clear()
        _token, client = token_client(viewer_user)
        drf = client.get(LIST)
        redis_client = cache._cache.get_client(write=True)
        assert len(drf.content) > 1500 > redis_client.strlen(cache.make_key(f"api:auth:{_token.digest}"))
        sent = []
        original = type(redis_client).execute_command

        def execute_command(self, *args, **kwargs):
            sent.append(args[0])
            return original(self, *args, **kwargs)

        stranger = APIClient()
        stranger.credentials(HTTP_AUTHORIZATION="Token ppt_" + "0" * 64)
        with mock.patch.object(type(redis_client), "execute_command", execute_command):
            fast = client.get(LIST)
            assert sent == ["EVALSHA", "GET"] and len(drf_calls) == 1  # the body by GET, after the checks
            sent.clear()
            assert stranger.get(LIST).status_code == 401
            assert "GET" not in sent[:1] and sent[0] == "EVALSHA"  # an unknown token never gets the body read
        same_response(fast, drf)
        cache.clear()


def test_the_cached_read_over_redis_makes_one_round_trip(programme, viewer_user, drf_calls):
    from unittest import mock

    with override_settings(CACHES=redis_cache()):
        cache.clear()
        _token, client = token_client(viewer_user)
        drf = client.get(LIST)  # through DRF (its throttle loads the script into Redis)
        redis_client = cache._cache.get_client(write=True)
        sent = []
        original = type(redis_client).execute_command

        def execute_command(self, *args, **kwargs):
            sent.append(args[0])
            return original(self, *args, **kwargs)

        with mock.patch.object(type(redis_client), "execute_command", execute_command):
            fast = client.get(LIST)
            fast_304 = client.get(LIST, HTTP_IF_NONE_MATCH=drf["ETag"])
        assert sent == ["EVALSHA", "EVALSHA"] and len(drf_calls) == 1
        same_response(fast, drf)
        assert fast_304.status_code == 304
        cache.clear()
