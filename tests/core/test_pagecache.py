"""Whole pages served from the cache (core.pagecache): only while nothing they show has changed, and only
to the session that they were rendered for."""

import datetime

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.middleware.csrf import _get_new_csrf_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.pagecache import _cacheable_request
from engagements.services import engagement_log
from tests.partnerships.test_country_page import gb_page  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

URL = "/countries/gb/"


def signed_in(client, user, csrf=None):
    client.force_login(user)
    client.cookies[settings.CSRF_COOKIE_NAME] = csrf or _get_new_csrf_string()  # a browser that has been here before
    return client


def get(client, url=URL, **headers):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, headers=headers)
    assert response.status_code == 200
    return response, len(ctx.captured_queries)


def test_a_second_view_of_an_unchanged_page_is_the_same_page_for_a_few_queries(client, gb_page, gb_liaison):  # noqa: F811
    signed_in(client, gb_liaison)
    first, cold = get(client)
    second, warm = get(client)
    assert second.content == first.content
    assert "Skills kick-off" in second.content.decode()
    assert cold >= 20
    assert warm <= 4  # the session, the user, their groups, and the release of what is due (tasks in-process)
    assert "private" in second["Cache-Control"]


def test_a_write_anywhere_shows_at_once(client, gb_page, gb_liaison):  # noqa: F811
    signed_in(client, gb_liaison)
    get(client)
    engagement_log(actor=gb_liaison, country=gb_page, occurred_on=timezone.localdate(), kind="call", summary="Brand new call")
    response, _n = get(client)
    assert "Brand new call" in response.content.decode()


def test_a_page_is_never_served_to_another_reader(client, gb_page, gb_liaison, viewer_user):  # noqa: F811
    signed_in(client, gb_liaison)
    response, _n = get(client)
    assert "Secret budget call" in response.content.decode()  # the liaison sees their confidential engagement
    csrf = client.cookies[settings.CSRF_COOKIE_NAME].value
    client.logout()
    signed_in(client, viewer_user, csrf=csrf)  # the same browser: only the session differs
    response, _n = get(client)
    assert "Secret budget call" not in response.content.decode()


def test_a_page_follows_the_language(client, gb_page, gb_liaison):  # noqa: F811
    signed_in(client, gb_liaison)
    english, _n = get(client)
    french, _n = get(client, **{"Accept-Language": "fr"})
    assert '<html lang="en">' in english.content.decode()
    assert '<html lang="fr">' in french.content.decode()


def test_a_new_day_renders_the_page_again(client, gb_page, gb_liaison, settings):  # noqa: F811
    settings.SESSION_COOKIE_AGE = 3 * 24 * 3600  # the session must outlive the night
    signed_in(client, gb_liaison)
    today, _n = get(client)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=1)):
        tomorrow, queries = get(client)
    assert queries >= 20 and tomorrow.content != today.content  # days in stage, overdue follow-ups...


def test_a_role_taken_away_is_seen_at_once(client, gb_page, gb_liaison):  # noqa: F811
    signed_in(client, gb_liaison)
    get(client)
    gb_liaison.groups.clear()
    assert client.get(URL).status_code == 403


def test_what_is_never_cached(rf, gb_liaison):
    def request(path="/dashboard/", cookies=True, session=None, **headers):
        req = rf.get(path, headers=headers)
        req.user = gb_liaison
        req.session = session or {}
        if cookies:
            req.COOKIES[settings.CSRF_COOKIE_NAME] = "x"
        return req

    assert _cacheable_request(request())
    assert not _cacheable_request(request(cookies=False))  # a first visit: its page carries a new CSRF secret
    assert not _cacheable_request(request(session={"_messages": "[]"}))  # a message waiting to be shown
    assert not _cacheable_request(request("/dashboard/?export=csv"))
    assert not _cacheable_request(request(**{"HX-Request": "true"}))
    anonymous = request()
    anonymous.user = AnonymousUser()
    assert not _cacheable_request(anonymous)


def test_the_pipeline_dashboard_is_cached_and_follows_changes(client, gb_page, gb_liaison, staff_user):  # noqa: F811
    signed_in(client, staff_user)
    first, cold = get(client, reverse("dashboard"))
    second, warm = get(client, reverse("dashboard"))
    assert second.content == first.content and warm < cold
    engagement_log(actor=gb_liaison, country=gb_page, occurred_on=timezone.localdate(), kind="call", summary="Today")
    third, _n = get(client, reverse("dashboard"))
    assert third.content != first.content  # the last engagement of GB is today's now


def test_deploy_check_warns_about_a_per_process_cache(settings):
    from core.checks import shared_cache

    settings.CACHE_IS_SHARED = False
    assert [w.id for w in shared_cache(None)] == ["portal.W001"]
    settings.CACHE_IS_SHARED = True
    assert shared_cache(None) == []
