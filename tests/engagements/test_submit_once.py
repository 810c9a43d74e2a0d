"""Every portal form that creates something carries a one-time token: the same input sent twice with it (a double
click, a reload) creates once and shows what the first created; two tabs showing the same page (the same token, as
a page served from the cache has) with different input both create."""

import datetime
import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from announcements.models import Announcement
from core.models import ApiToken, Event, IdempotencyKey
from countries.models import Counterpart
from engagements.models import Engagement, FollowUp
from partnerships.services import partnership_create
from tests import factories

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="form_token" value="([0-9a-f]{32})"')


def _days(n):
    return (timezone.localdate() + datetime.timedelta(days=n)).isoformat()


@pytest.fixture
def gb(staff_user, gb_liaison):
    country = factories.country("GB")
    partnership_create(actor=staff_user, country=country)
    return country


def token_of(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    tokens = TOKEN.findall(response.content.decode())
    assert len(tokens) == 1, "the form carries one token"
    return tokens[0]


def engagement_post(token, summary="Talked about the skills programme.", **extra):
    return {
        "form_token": token,
        "occurred_on": _days(-2),
        "kind": "meeting",
        "summary": summary,
        "outcome": "",
        "new_counterpart_name": "",
        "new_counterpart_title": "",
        "new_counterpart_organisation": "",
        "fu-TOTAL_FORMS": "1",
        "fu-INITIAL_FORMS": "1",
        "fu-MIN_NUM_FORMS": "0",
        "fu-MAX_NUM_FORMS": "20",
        "fu-0-description": "",
        "fu-0-owner": "",
        "fu-0-due_on": "",
        **extra,
    }


def info_messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_a_double_click_logs_the_engagement_once_and_shows_it(client, gb, gb_liaison):
    client.force_login(gb_liaison)
    url = reverse("engagement-new", args=["gb"])
    data = engagement_post(token_of(client, url), **{"new_counterpart_name": "Ada New", "fu-0-description": "Call back",
                                                      "fu-0-due_on": _days(5)})  # fmt: skip

    first = client.post(url, data)
    second = client.post(url, data)

    engagement = Engagement.objects.get()
    assert first.status_code == 302
    assert second.status_code == 302
    assert second["Location"] == reverse("engagement-detail", args=[engagement.pk])
    assert "already been logged" in " ".join(info_messages(second))
    assert Counterpart.objects.filter(name="Ada New").count() == 1  # the quick-added counterpart too
    assert FollowUp.objects.filter(description="Call back").count() == 1
    assert Event.objects.filter(kind="engagement.logged").count() == 1


def test_two_tabs_of_the_same_page_with_different_input_both_log(client, gb, gb_liaison):
    """A page served twice from the cache carries the same token: only the same input is the same submission."""
    client.force_login(gb_liaison)
    url = reverse("engagement-new", args=["gb"])
    token = token_of(client, url)

    first = client.post(url, engagement_post(token, summary="Tab one: the skills programme"))
    second = client.post(url, engagement_post(token, summary="Tab two: the data centre"))

    assert first.status_code == second.status_code == 302
    assert second["Location"] == reverse("country-detail", args=["gb"]) + "#timeline-title"
    assert sorted(Engagement.objects.values_list("summary", flat=True)) == [
        "Tab one: the skills programme",
        "Tab two: the data centre",
    ]


def test_each_page_drawn_has_a_new_token(client, gb, gb_liaison):
    client.force_login(gb_liaison)
    url = reverse("engagement-new", args=["gb"])
    assert token_of(client, url) != token_of(client, url)


def test_the_same_input_from_a_new_page_is_a_new_engagement(client, gb, gb_liaison):
    client.force_login(gb_liaison)
    url = reverse("engagement-new", args=["gb"])
    client.post(url, engagement_post(token_of(client, url)))
    client.post(url, engagement_post(token_of(client, url)))
    assert Engagement.objects.count() == 2


def test_a_refused_submission_keeps_no_token_and_the_corrected_one_logs(client, gb, gb_liaison):
    client.force_login(gb_liaison)
    url = reverse("engagement-new", args=["gb"])
    token = token_of(client, url)

    refused = client.post(url, engagement_post(token, occurred_on=_days(3)))  # in the future
    assert refused.status_code == 400
    assert TOKEN.findall(refused.content.decode()) == [token]  # the page shown again keeps its token
    assert not IdempotencyKey.objects.exists()

    assert client.post(url, engagement_post(token)).status_code == 302
    assert Engagement.objects.count() == 1


def test_a_forged_token_is_refused_and_nothing_is_written(client, gb, gb_liaison):
    client.force_login(gb_liaison)
    url = reverse("engagement-new", args=["gb"])
    response = client.post(url, engagement_post("not-a-token"))
    assert response.status_code == 400
    assert "This page is out of date" in response.content.decode()
    assert not Engagement.objects.exists()
    assert not IdempotencyKey.objects.exists()


def test_a_form_without_a_token_still_saves_every_time(client, gb, gb_liaison):
    """A page drawn before the tokens (or a script) has nothing to compare: each send creates."""
    client.force_login(gb_liaison)
    url = reverse("engagement-new", args=["gb"])
    data = engagement_post("")
    del data["form_token"]
    client.post(url, data)
    client.post(url, data)
    assert Engagement.objects.count() == 2


def test_tokens_are_per_user(client, gb, gb_liaison, staff_user):
    url = reverse("engagement-new", args=["gb"])
    client.force_login(gb_liaison)
    data = engagement_post(token_of(client, url))
    client.post(url, data)
    client.force_login(staff_user)
    assert client.post(url, data)["Location"].endswith("#timeline-title")  # a new engagement, not a replay
    assert Engagement.objects.count() == 2


def test_the_quick_add_clicked_twice_adds_the_counterpart_once(client, gb, gb_liaison):
    client.force_login(gb_liaison)
    token = token_of(client, reverse("engagement-new", args=["gb"]))
    data = engagement_post(token, new_counterpart_name="Grace Quick", new_counterpart_title="Director")
    url = reverse("engagement-counterpart-add", args=["gb"])

    first = client.post(url, data, HTTP_HX_REQUEST="true")
    second = client.post(url, data, HTTP_HX_REQUEST="true")

    person = Counterpart.objects.get(name="Grace Quick")
    assert first.status_code == second.status_code == 200
    assert f'value="{person.pk}"' in second.content.decode()
    assert re.search(rf'value="{person.pk}"[^>]*checked', second.content.decode())


def test_a_follow_up_sent_twice_is_added_once(client, gb, gb_liaison):
    client.force_login(gb_liaison)
    url = reverse("follow-up-new", args=["gb"])
    data = {"form_token": token_of(client, url), "description": "Send the minutes", "due_on": _days(4), "owner": ""}

    assert client.post(url, data).status_code == 302
    second = client.post(url, data)

    follow_up = FollowUp.objects.get(description="Send the minutes")
    assert second["Location"] == reverse("follow-up-edit", args=[follow_up.pk])


def test_a_counterpart_sent_twice_is_added_once(client, gb, gb_liaison):
    client.force_login(gb_liaison)
    url = reverse("counterpart-new", args=["gb"])
    data = {"form_token": token_of(client, url), "name": "Alan Twice", "title": "", "organisation": "", "email": "",
            "phone": "", "active_from": "", "active_to": "", "notes": ""}  # fmt: skip

    assert client.post(url, data).status_code == 302
    second = client.post(url, data)

    person = Counterpart.objects.get(name="Alan Twice")
    assert second["Location"] == reverse("counterpart-edit", args=["gb", person.pk])


def test_an_announcement_sent_twice_is_drafted_once(client, gb, staff_user):
    client.force_login(staff_user)
    url = reverse("announcement-new")
    data = {"form_token": token_of(client, url), "title": "Skills partnership", "body": "Text", "is_public": "on"}

    first = client.post(url, data)
    second = client.post(url, data)

    announcement = Announcement.objects.get(title="Skills partnership")
    assert first["Location"] == second["Location"] == reverse("announcement-edit", args=[announcement.pk])
    assert "already been saved" in " ".join(info_messages(second))


def test_an_api_token_sent_twice_is_created_once_and_not_shown_again(client, gb_liaison):
    client.force_login(gb_liaison)
    url = reverse("api-tokens")
    data = {"form_token": token_of(client, url), "name": "ministry dashboard", "days": "90"}

    first = client.post(url, data)
    second = client.post(url, data)

    assert first.status_code == 200 and "ppt_" in first.content.decode()
    assert second.status_code == 302 and second["Location"] == url
    assert ApiToken.objects.filter(user=gb_liaison, name="ministry dashboard").count() == 1
    assert "shown once" in " ".join(info_messages(second))
