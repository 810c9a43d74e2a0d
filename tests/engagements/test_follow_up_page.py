"""The follow-ups page: mine, overdue, this week, all; marked done inline by those who write for the country."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from engagements.models import FollowUp
from engagements.services import follow_up_create
from partnerships.services import partnership_create
from tests import factories

pytestmark = pytest.mark.django_db


def _days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.fixture
def follow_ups(staff_user, gb_liaison):
    gb = factories.country("GB")
    partnership_create(actor=staff_user, country=gb)
    make = lambda text, due, owner=None: follow_up_create(  # noqa: E731
        actor=gb_liaison, country=gb, description=text, due_on=_days(due), owner=owner
    )
    return {
        "late": make("Chase the ministry", -3, gb_liaison),
        "soon": make("Draft the MoU", 2, gb_liaison),
        "later": make("Plan the visit", 30, gb_liaison),
        "unowned": make("Book a room", 5),
    }


def listing(client, user, show=None):
    client.force_login(user)
    html = client.get(reverse("follow-ups"), {"show": show} if show else {}).content.decode()
    return html


def test_each_view_lists_the_right_follow_ups(client, follow_ups, gb_liaison):
    mine = listing(client, gb_liaison)
    assert "Chase the ministry" in mine and "Plan the visit" in mine and "Book a room" not in mine
    overdue = listing(client, gb_liaison, "overdue")
    assert "Chase the ministry" in overdue and "Draft the MoU" not in overdue
    week = listing(client, gb_liaison, "week")
    assert "Draft the MoU" in week and "Book a room" in week and "Plan the visit" not in week
    everything = listing(client, gb_liaison, "all")
    assert all(text in everything for text in ("Chase the ministry", "Draft the MoU", "Plan the visit", "Book a room"))
    assert everything.index("Chase the ministry") < everything.index("Draft the MoU") < everything.index("Plan the visit")


def test_empty_state(client, viewer_user):
    assert "Nothing to follow up here." in listing(client, viewer_user)


def test_marking_done_inline(client, follow_ups, gb_liaison):
    client.force_login(gb_liaison)
    response = client.post(
        reverse("follow-up-done", args=[follow_ups["late"].pk]), {"next": "/follow-ups/?show=overdue"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/follow-ups/?show=overdue"
    html = response.content.decode()
    assert "Done: Chase the ministry" in html and "Nothing to follow up here." in html
    assert FollowUp.objects.get(pk=follow_ups["late"].pk).done_by == gb_liaison
    again = client.post(reverse("follow-up-done", args=[follow_ups["late"].pk]), follow=True)
    assert "This follow-up was already marked done." in again.content.decode()


def test_others_see_no_button_and_a_forged_post_is_refused(client, follow_ups, fr_liaison, viewer_user):
    html = listing(client, viewer_user, "all")
    assert "Chase the ministry" in html and "Mark “Chase the ministry” as done" not in html
    client.force_login(fr_liaison)
    assert client.post(reverse("follow-up-done", args=[follow_ups["late"].pk])).status_code == 403
    assert FollowUp.objects.get(pk=follow_ups["late"].pk).done_at is None
    assert client.post(reverse("follow-up-done", args=[999999])).status_code == 404
    assert client.get(reverse("follow-up-done", args=[follow_ups["late"].pk])).status_code == 405


def test_the_page_is_in_french(client, follow_ups, gb_liaison):
    client.force_login(gb_liaison)
    html = client.get(reverse("follow-ups"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "<h1>Suivis</h1>" in html and "En retard" in html


def _queries(client, user):
    from django.core.cache import cache

    cache.clear()
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("follow-ups"), {"show": "all"}).status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow(client, follow_ups, gb_liaison):
    few = _queries(client, gb_liaison)
    for i in range(30):
        follow_up_create(actor=gb_liaison, country=factories.country("GB"), description=f"Task {i}", due_on=_days(i),
                         owner=gb_liaison, track=factories.track("workforce"))  # fmt: skip
    # with the filters' countries, tracks and owners, and the people the bulk bar may give follow-ups to
    assert few == _queries(client, gb_liaison) == 13
