"""Voiding an engagement (logged twice, by mistake): it stays on record but leaves lists, counts and health; staff
see it struck through with its reason and may restore it. Portal, API and rollup."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from countries.models import CountryStatus
from engagements.models import Engagement
from engagements.selectors import engagement_list, follow_up_list
from engagements.services import engagement_log, engagement_restore, engagement_update, engagement_void
from partnerships.rollup import rollup_country
from tests import factories
from tests.factories import token_and_api_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def twice(gb_partnership, gb_liaison):
    """The same meeting logged twice; the second with a follow-up."""
    gb = gb_partnership.country
    day = timezone.localdate() - datetime.timedelta(days=3)
    first = engagement_log(actor=gb_liaison, country=gb, occurred_on=day, kind="meeting", summary="Kick-off")
    second = engagement_log(
        actor=gb_liaison,
        country=gb,
        occurred_on=day,
        kind="meeting",
        summary="Kick-off",
        tracks=[factories.track("workforce")],
        follow_ups=[{"description": "Send the note", "due_on": day}],  # overdue: puts the track at risk
    )
    return first, second


def test_a_voided_engagement_leaves_every_list_and_figure_and_comes_back_when_restored(
    twice, gb_liaison, viewer_user, staff_user
):
    first, duplicate = twice
    gb = first.country
    rollup_country(country_id=gb.pk)
    assert CountryStatus.objects.get(country=gb).engagement_count == 2

    engagement_void(actor=gb_liaison, engagement=duplicate, reason="Logged twice")

    for user in (gb_liaison, viewer_user, staff_user):
        assert list(engagement_list(user=user)) == [first]
        assert not follow_up_list(user=user).filter(engagement=duplicate).exists()
    status = rollup_country(country_id=gb.pk)
    assert (status.engagement_count, status.open_follow_ups, status.overdue_follow_ups) == (1, 0, 0)
    assert Engagement.objects.get(pk=duplicate.pk).void_reason == "Logged twice"  # kept on record

    engagement_restore(actor=staff_user, engagement=duplicate)
    assert set(engagement_list(user=viewer_user)) == {first, duplicate}
    assert rollup_country(country_id=gb.pk).engagement_count == 2


def test_who_may_void_and_restore_and_what_is_refused(twice, gb_liaison, fr_liaison, viewer_user, staff_user):
    _first, duplicate = twice
    with pytest.raises(PermissionDenied):
        engagement_void(actor=viewer_user, engagement=duplicate, reason="No")
    with pytest.raises(PermissionDenied):
        engagement_void(actor=fr_liaison, engagement=duplicate, reason="No")
    with pytest.raises(ValidationError, match="Say why"):
        engagement_void(actor=gb_liaison, engagement=duplicate, reason="  ")
    engagement_void(actor=gb_liaison, engagement=duplicate, reason="Logged twice")
    with pytest.raises(ValidationError, match="already voided"):
        engagement_void(actor=gb_liaison, engagement=duplicate, reason="Again")
    with pytest.raises(ValidationError, match="restore it before"):
        engagement_update(actor=gb_liaison, engagement=duplicate, summary="Edited")
    with pytest.raises(PermissionDenied):
        engagement_restore(actor=gb_liaison, engagement=duplicate)
    assert Engagement.objects.get(pk=duplicate.pk).is_voided


def test_the_portal_voids_from_the_engagement_page_and_staff_see_it_struck_through(client, twice, gb_liaison, staff_user):
    _first, duplicate = twice
    client.force_login(gb_liaison)
    refused = client.post(reverse("engagement-void", args=[duplicate.pk]), {"reason": ""})
    assert refused.status_code == 302 and not Engagement.objects.get(pk=duplicate.pk).is_voided
    done = client.post(reverse("engagement-void", args=[duplicate.pk]), {"reason": "Logged twice"})
    assert done.status_code == 302 and Engagement.objects.get(pk=duplicate.pk).is_voided
    # The liaison no longer finds it; staff see it on the timeline, struck through with its reason.
    assert client.get(reverse("engagement-detail", args=[duplicate.pk])).status_code == 404
    client.force_login(staff_user)
    timeline = client.get(reverse("country-detail", args=["gb"])).content.decode()
    assert "<del>" in timeline and "Logged twice" in timeline
    page = client.get(reverse("engagement-detail", args=[duplicate.pk])).content.decode()
    assert "Restore the engagement" in page
    assert client.post(reverse("engagement-restore", args=[duplicate.pk])).status_code == 302
    assert not Engagement.objects.get(pk=duplicate.pk).is_voided


def test_the_api_voids_and_restores(twice, gb_liaison, staff_user):
    _first, duplicate = twice
    _token, liaison_api = token_and_api_client(gb_liaison)
    _token, staff_api = token_and_api_client(staff_user)
    url = f"/api/v1/engagements/{duplicate.pk}/"
    assert liaison_api.post(url + "void/", {"reason": ""}, format="json").status_code == 400
    voided = liaison_api.post(url + "void/", {"reason": "Logged twice"}, format="json")
    assert voided.status_code == 200 and voided.json()["void_reason"] == "Logged twice"
    assert Engagement.objects.get(pk=duplicate.pk).is_voided
    assert liaison_api.get(url).status_code == 404
    assert [e["id"] for e in staff_api.get("/api/v1/engagements/").json()["results"]] == [_first.pk]
    assert staff_api.get(url).json()["void_reason"] == "Logged twice"
    assert liaison_api.post(url + "restore/", format="json").status_code == 404  # not visible to them any more
    restored = staff_api.post(url + "restore/", format="json")
    assert restored.status_code == 200 and restored.json()["voided_at"] is None


def test_the_follow_ups_of_a_voided_engagement_remind_nobody(twice, gb_liaison):
    from core.models import Event
    from engagements.models import FollowUp
    from notifications.tasks import send_follow_up_reminders

    _first, duplicate = twice
    FollowUp.objects.filter(engagement=duplicate).update(owner=gb_liaison)
    engagement_void(actor=gb_liaison, engagement=duplicate, reason="Logged twice")
    send_follow_up_reminders()
    assert not Event.objects.filter(kind="follow_up.reminder").exists()
    engagement_restore(actor=factories.staff(username="restorer"), engagement=duplicate)
    send_follow_up_reminders()
    assert Event.objects.filter(kind="follow_up.reminder").count() == 1
