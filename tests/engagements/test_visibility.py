"""Who reads what: confidential engagements and their follow-ups, and announcements by status."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from announcements.models import Announcement
from announcements.selectors import announcement_list
from engagements.models import Engagement
from engagements.policies import can_see_confidential
from engagements.selectors import engagement_list, follow_up_list, open_follow_ups, overdue_follow_ups
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def users(staff_user, gb_liaison, fr_liaison, viewer_user):
    return {
        "staff": staff_user,
        "superuser": factories.make_user(username="root", is_superuser=True),
        "gb_liaison": gb_liaison,
        "fr_liaison": fr_liaison,
        "viewer": viewer_user,
        "no_role": factories.make_user(username="nobody"),
        "anonymous": AnonymousUser(),
    }


@pytest.fixture
def engagements(gb):
    fr = factories.country("FR")
    return {
        "gb_normal": factories.EngagementFactory(country=gb, summary="GB normal"),
        "gb_secret": factories.EngagementFactory(
            country=gb, summary="GB secret", sensitivity=Engagement.Sensitivity.CONFIDENTIAL
        ),
        "fr_secret": factories.EngagementFactory(
            country=fr, summary="FR secret", sensitivity=Engagement.Sensitivity.CONFIDENTIAL
        ),
    }


def _names(qs, catalogue):
    by_pk = {obj.pk: name for name, obj in catalogue.items()}
    return sorted(by_pk[obj.pk] for obj in qs)


VISIBLE_ENGAGEMENTS = {
    "staff": ["fr_secret", "gb_normal", "gb_secret"],
    "superuser": ["fr_secret", "gb_normal", "gb_secret"],
    "gb_liaison": ["gb_normal", "gb_secret"],
    "fr_liaison": ["fr_secret", "gb_normal"],
    "viewer": ["gb_normal"],
    "no_role": [],
    "anonymous": [],
}


@pytest.mark.parametrize(("who", "expected"), VISIBLE_ENGAGEMENTS.items())
def test_confidential_engagements_are_seen_by_staff_and_the_countrys_liaisons_only(users, engagements, who, expected):
    assert _names(engagement_list(user=users[who]), engagements) == expected


@pytest.mark.parametrize(("who", "expected"), VISIBLE_ENGAGEMENTS.items())
def test_follow_ups_of_confidential_engagements_follow_the_same_rule(users, engagements, gb, who, expected):
    follow_ups = {
        name: factories.FollowUpFactory(country=engagement.country, engagement=engagement, description=f"after {name}")
        for name, engagement in engagements.items()
    }
    follow_ups["gb_standalone"] = factories.FollowUpFactory(country=gb, description="standalone")
    readers = {"staff", "superuser", "gb_liaison", "fr_liaison", "viewer"}

    assert _names(follow_up_list(user=users[who]), follow_ups) == sorted(expected + (["gb_standalone"] if who in readers else []))


def test_who_can_see_confidential(users, gb):
    assert {who: can_see_confidential(user, gb.pk) for who, user in users.items()} == {
        "staff": True,
        "superuser": True,
        "gb_liaison": True,
        "fr_liaison": False,
        "viewer": False,
        "no_role": False,
        "anonymous": False,
    }


def test_open_and_overdue_follow_ups(viewer_user, gb):
    today = timezone.localdate()
    overdue = factories.FollowUpFactory(country=gb, due_on=today - datetime.timedelta(days=1), owner=viewer_user)
    due_today = factories.FollowUpFactory(country=gb, due_on=today)
    factories.FollowUpFactory(country=gb, due_on=today - datetime.timedelta(days=5), done_at=timezone.now())

    assert list(open_follow_ups(user=viewer_user)) == [overdue, due_today]
    assert list(open_follow_ups(user=viewer_user, owner=viewer_user)) == [overdue]
    assert list(overdue_follow_ups(user=viewer_user)) == [overdue]


@pytest.fixture
def announcements(gb):
    fr = factories.country("FR")
    now = timezone.now()
    catalogue = {
        "gb_draft": factories.AnnouncementFactory(title="GB draft"),
        "fr_draft": factories.AnnouncementFactory(title="FR draft"),
        "gb_scheduled": factories.AnnouncementFactory(
            title="GB embargoed", status=Announcement.Status.SCHEDULED, embargo_until=now + datetime.timedelta(days=1)
        ),
        "fr_published": factories.AnnouncementFactory(
            title="FR published", status=Announcement.Status.PUBLISHED, published_at=now - datetime.timedelta(days=1)
        ),
        "fr_published_internal": factories.AnnouncementFactory(
            title="FR internal",
            status=Announcement.Status.PUBLISHED,
            published_at=now - datetime.timedelta(days=1),
            is_public=False,
        ),
        "fr_withdrawn": factories.AnnouncementFactory(title="FR withdrawn", status=Announcement.Status.WITHDRAWN),
    }
    for name, announcement in catalogue.items():
        announcement.countries.set([gb if name.startswith("gb") else fr])
    return catalogue


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (
            "staff",
            ["fr_draft", "fr_published", "fr_published_internal", "fr_withdrawn", "gb_draft", "gb_scheduled"],
        ),
        # Liaisons see their countries' drafts, never one held under embargo nor a withdrawn one.
        ("gb_liaison", ["fr_published", "fr_published_internal", "gb_draft"]),
        ("fr_liaison", ["fr_draft", "fr_published", "fr_published_internal"]),
        # Portal readers see published announcements, including those kept off the public pages.
        ("viewer", ["fr_published", "fr_published_internal"]),
        ("no_role", ["fr_published"]),
        ("anonymous", ["fr_published"]),
    ],
)
def test_announcement_list_hides_drafts_embargoed_and_non_public(users, announcements, who, expected):
    assert _names(announcement_list(user=users[who]), announcements) == expected
