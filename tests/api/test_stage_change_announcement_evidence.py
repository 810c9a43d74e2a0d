"""A stage move's cited announcement in ``/api/v1/stage-changes/``: its id shows to readers only while the
announcement is published (``announcements.policies.can_cite``); withdrawn, or held under an embargo that ends in
the future, it reads as null. Programme staff see it in every state."""

import datetime

import pytest
from django.utils import timezone

from announcements.models import Announcement
from announcements.services import announcement_create, announcement_publish, announcement_withdraw
from partnerships.models import CountryTrack
from partnerships.services import country_track_move
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def cited(gb_partnership, staff_user):
    """A published announcement naming GB, cited as the evidence of GB's workforce move to "exploring"."""
    gb = gb_partnership.country
    news = announcement_publish(
        actor=staff_user, announcement=announcement_create(actor=staff_user, title="GB joins", countries=[gb])
    )
    ct = CountryTrack.objects.get(country=gb, track__key="workforce")
    change = country_track_move(
        actor=staff_user, country_track=ct, to_stage=factories.stage("workforce", "exploring"), evidence_announcement=news
    )
    return news, change


def evidence(api, change):
    response = api.get("/api/v1/stage-changes/", {"to_stage": "exploring"})
    assert response.status_code == 200
    (row,) = [r for r in response.json()["results"] if r["id"] == change.pk]
    return row["evidence_announcement"]


def test_a_published_cited_announcement_shows_to_every_reader(cited, staff_api, gb_api, fr_api, viewer_api):
    news, change = cited
    for api in (staff_api, gb_api, fr_api, viewer_api):
        assert evidence(api, change) == news.pk, api.user.username


def test_a_withdrawn_cited_announcement_is_null_for_readers_and_shown_to_staff(
    cited, staff_user, staff_api, gb_api, fr_api, viewer_api
):
    news, change = cited
    announcement_withdraw(actor=staff_user, announcement=news, reason="Announced too early")
    for api in (gb_api, fr_api, viewer_api):
        assert evidence(api, change) is None, api.user.username
    assert evidence(staff_api, change) == news.pk


@pytest.mark.parametrize("status", [Announcement.Status.SCHEDULED, Announcement.Status.PUBLISHED])
def test_a_cited_announcement_under_a_future_embargo_is_null_for_readers_until_it_ends(
    cited, status, staff_api, gb_api, fr_api, viewer_api
):
    news, change = cited
    # No service cites an announcement before it is public; these are stored states (an admin edit putting the
    # announcement back under embargo, with or without its status) that the API must still hide.
    ends = timezone.now() + datetime.timedelta(days=7)
    Announcement.objects.filter(pk=news.pk).update(status=status, embargo_until=ends)
    for api in (gb_api, fr_api, viewer_api):
        assert evidence(api, change) is None, api.user.username
    assert evidence(staff_api, change) == news.pk
    # Once the embargo has ended and it is published, readers see it.
    Announcement.objects.filter(pk=news.pk).update(
        status=Announcement.Status.PUBLISHED, embargo_until=timezone.now() - datetime.timedelta(minutes=1)
    )
    for api in (gb_api, fr_api, viewer_api):
        assert evidence(api, change) == news.pk, api.user.username
