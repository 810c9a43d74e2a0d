"""Fault: Redis, as the portal's cache (``CACHE_URL``), stops answering.

Everything kept in the cache can be read again from the database, so an outage must cost speed, never an
answer: API reads and writes, revocations and signed-in pages all keep working, each request paying at most one
refused connection. When Redis answers again, whatever a change made during the outage could not drop (a revoked
token, an ended session, the data versions) is deleted before it can be served.
"""

import time

import pytest
import redis
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse

from core import cache as portal_cache
from core.models import ApiToken
from core.services import api_token_revoke
from engagements.models import Engagement
from partnerships.models import CountryTrack
from partnerships.rollup import rollup_countries
from partnerships.services import country_track_move, partnership_create
from tests import factories
from tests.conftest import needs

from .conftest import report

PASSWORD = "pw-for-tests-1"  # tests/factories.py

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("reference_data")]


@pytest.fixture
def short_pause(monkeypatch):
    """The cache is tried again after 0.3 s instead of 5 s; the module's state is clean before and after."""
    portal_cache.reset()
    monkeypatch.setattr(portal_cache, "PAUSE_SECONDS", 0.3)
    yield
    portal_cache.reset()


def redis_as_cache(url: str):
    return override_settings(
        CACHES={
            "default": {
                "BACKEND": "core.cache.RedisCache",
                "LOCATION": url,
                "KEY_PREFIX": "cache-outage",
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            }
        },  # fmt: skip
        SESSION_ENGINE="core.sessions",
    )


token_api = factories.token_and_api_client


def test_the_portal_answers_while_its_cache_is_down(own_redis, short_pause):
    staff = factories.staff(username="staff")
    liaison = factories.liaison("GB", username="gb-liaison")
    partnership_create(actor=staff, country=factories.country("GB"))
    rollup_countries()
    with redis_as_cache(own_redis.url):
        token, api = token_api(liaison)
        browser = Client()
        browser.force_login(staff)
        etag = api.get("/api/v1/status/")["ETag"]
        assert api.get("/api/v1/status/", HTTP_IF_NONE_MATCH=etag).status_code == 304
        assert browser.get("/dashboard/").status_code == 200

        own_redis.stop()  # the fault
        timings, answers = [], {}
        body = {"country": "gb", "occurred_on": "2026-11-02", "kind": "call", "summary": "Call while the cache is down"}
        for name, request in [
            ("engagement POST", lambda: api.post("/api/v1/engagements/", body, format="json")),
            ("status", lambda: api.get("/api/v1/status/")),
            ("revalidation", lambda: api.get("/api/v1/status/", HTTP_IF_NONE_MATCH=etag)),
            ("one country", lambda: api.get("/api/v1/countries/gb/status/")),
            ("dashboard", lambda: browser.get("/dashboard/")),
            ("country page", lambda: browser.get("/countries/gb/")),
        ]:
            started = time.monotonic()
            answers[name] = request().status_code
            timings.append(time.monotonic() - started)
        signing_in = Client()
        answers["sign-in"] = signing_in.post(reverse("login"), {"username": "gb-liaison", "password": PASSWORD}).status_code
        answers["signed-in page"] = signing_in.get("/countries/gb/").status_code
        # What must reach the cache to be safe is refused whole, not done half-way: the token still works, the
        # session still holds; both can be ended once the cache answers again.
        token_owner = Client()
        token_owner.force_login(liaison)
        revoke = token_owner.post(reverse("api-token-revoke", args=[token.token_key]))
        answers["revocation"] = revoke.status_code
        answers["token after the refused revocation"] = api.get("/api/v1/status/").status_code
        sign_out = browser.post(reverse("logout"))
        answers["sign-out"] = sign_out.status_code
        answers["page after the refused sign-out"] = browser.get("/dashboard/").status_code
        line = report("cache down", {**answers, "slowest_s": round(max(timings), 2)})
        assert answers == {
            "engagement POST": 201,
            "status": 200,
            "revalidation": 200,  # the version is unknown while the cache is down: the body is sent again
            "one country": 200,
            "dashboard": 200,
            "country page": 200,
            "sign-in": 302,
            "signed-in page": 200,
            "revocation": 503,
            "token after the refused revocation": 200,
            "sign-out": 503,
            "page after the refused sign-out": 200,
        }, line
        assert revoke["Retry-After"] and "nothing was changed" in revoke.content.decode()
        assert ApiToken.objects.filter(pk=token.pk).exists(), line
        assert Engagement.objects.filter(summary=body["summary"]).count() == 1, line
        assert max(timings) < 2, line  # a refused connection, then no attempt at all during the pause

        own_redis.start()  # back, empty (it keeps nothing on disk)
        time.sleep(0.4)  # the pause is over: the next call tries Redis again
        assert token_owner.post(reverse("api-token-revoke", args=[token.token_key])).status_code == 302
        assert api.get("/api/v1/status/").status_code == 401
        _token, api = token_api(liaison)
        first = api.get("/api/v1/status/")
        assert first.status_code == 200 and not portal_cache.cache_seems_down()
        assert api.get("/api/v1/status/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
        assert own_redis.client().dbsize() > 0  # the cache is used again


@pytest.fixture
def partition(monkeypatch):
    """Cut this process off from Redis (which keeps its data, as across a network partition) until ``heal()``."""
    from redis.connection import AbstractConnection
    from redis.exceptions import ConnectionError as RedisConnectionError

    original = AbstractConnection.send_packed_command
    state = {"cut": False}

    def send_packed_command(self, *args, **kwargs):
        if state["cut"]:
            raise RedisConnectionError("partitioned (test)")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", send_packed_command)

    class Partition:
        def cut(self):
            state["cut"] = True

        def heal(self):
            state["cut"] = False

    return Partition()


def test_what_an_outage_made_stale_is_dropped_when_the_cache_answers_again(partition, short_pause):
    import os

    from core.cache import CacheUnavailable

    redis_url = os.environ.get("REDIS_URL", "")
    needs(bool(redis_url), "REDIS_URL is not set: no Redis to cache in")
    staff = factories.staff(username="staff")
    gb = partnership_create(actor=staff, country=factories.country("GB")).country
    rollup_countries()
    with redis_as_cache(redis_url):
        cache.clear()
        token, api = token_api(staff)
        browser = Client()
        browser.force_login(staff)
        before = api.get("/api/v1/countries/gb/status/")  # the token, the status version and body are cached
        assert before.status_code == 200 and browser.get("/dashboard/").status_code == 200

        partition.cut()  # this process is cut off from a Redis that keeps its data
        # A rollup's new figures cannot move the cached status version...
        ct = CountryTrack.objects.get(country=gb, track__key="workforce")
        country_track_move(actor=staff, country_track=ct, to_stage=factories.stage("workforce", "exploring"))
        rollup_countries([gb.pk])
        # ...and what must reach the cache is refused whole: the revocation is rolled back, the sign-out refused.
        with pytest.raises(CacheUnavailable):
            api_token_revoke(actor=staff, token=token)
        assert ApiToken.objects.filter(pk=token.pk).exists()
        assert browser.post(reverse("logout")).status_code == 503
        partition.heal()
        raw = redis.Redis.from_url(redis_url)
        assert raw.exists(cache.make_key("status:version"))  # still there: without the clean-up, served as current
        time.sleep(0.4)  # the pause is over

        after = api.get("/api/v1/countries/gb/status/", HTTP_IF_NONE_MATCH=before["ETag"])
        assert after.status_code == 200 and after.json()["furthest_stage"] == "exploring"  # not a stale 304
        assert browser.get("/dashboard/").status_code == 200  # the session held
        api_token_revoke(actor=staff, token=token)  # and now both can end
        assert api.get("/api/v1/countries/gb/status/").status_code == 401
        assert browser.post(reverse("logout")).status_code == 302
        assert Client(cookies=browser.cookies).get("/dashboard/").status_code == 302
        cache.clear()
