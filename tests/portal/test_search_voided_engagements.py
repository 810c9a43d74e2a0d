"""The header search never finds a voided engagement, whoever searches: the search lists through
``engagement_list`` without ``include_voided``, so even programme staff (who see a voided engagement struck
through on its own page and the timeline) do not find one there. Restored, it is found again."""

import pytest
from django.urls import reverse
from django.utils import timezone

from engagements.models import Engagement
from engagements.services import engagement_log, engagement_restore, engagement_void

pytestmark = pytest.mark.django_db


@pytest.fixture
def engagements(gb_partnership, gb_liaison):
    """A kept engagement, a normal duplicate and a confidential duplicate, all matching "zephyr"."""
    gb = gb_partnership.country

    def log(summary, **extra):
        return engagement_log(
            actor=gb_liaison, country=gb, occurred_on=timezone.localdate(), kind="call", summary=summary, **extra
        )

    kept = log("Zephyr skills call")
    duplicate = log("Zephyr duplicate call", outcome="Zephyr pilot agreed")
    secret = log("Zephyr secret call", sensitivity=Engagement.Sensitivity.CONFIDENTIAL)
    return kept, duplicate, secret


def found(client, user, **params):
    """The engagement pages linked from the search for "zephyr" (all sections, or the engagements section)."""
    client.force_login(user)
    return client.get(reverse("search"), {"q": "zephyr", **params}).content.decode()


def links(html, *engagements):
    return {e.pk for e in engagements if f'href="{reverse("engagement-detail", args=[e.pk])}"' in html}


@pytest.fixture
def readers(staff_user, gb_liaison, fr_liaison, viewer_user):
    return {"staff": staff_user, "gb liaison": gb_liaison, "fr liaison": fr_liaison, "viewer": viewer_user}


def test_no_role_finds_a_voided_engagement_in_the_search_and_all_find_it_again_once_restored(
    client, engagements, readers, gb_liaison, staff_user
):
    kept, duplicate, secret = engagements
    # Before: everyone finds the normal ones; the confidential one only staff and the country's liaison.
    sees_secret = {"staff", "gb liaison"}
    for name, user in readers.items():
        expected = {kept.pk, duplicate.pk} | ({secret.pk} if name in sees_secret else set())
        assert links(found(client, user), *engagements) == expected, name

    engagement_void(actor=gb_liaison, engagement=duplicate, reason="Logged twice")
    engagement_void(actor=gb_liaison, engagement=secret, reason="Logged by mistake")

    for name, user in readers.items():
        for params in ({}, {"section": "engagements"}):
            html = found(client, user, **params)
            assert links(html, *engagements) == {kept.pk}, (name, params)
            assert "Zephyr duplicate" not in html and "Zephyr secret" not in html, (name, params)
            assert '<span class="count-label">(1)</span>' in html, (name, params)  # not counted either

    engagement_restore(actor=staff_user, engagement=duplicate)
    engagement_restore(actor=staff_user, engagement=secret)

    for name, user in readers.items():
        expected = {kept.pk, duplicate.pk} | ({secret.pk} if name in sees_secret else set())
        assert links(found(client, user), *engagements) == expected, name
        assert links(found(client, user, section="engagements"), *engagements) == expected, name


def test_staff_still_reach_a_voided_engagement_by_its_page_though_the_search_does_not_list_it(
    client, engagements, gb_liaison, staff_user
):
    _kept, duplicate, _secret = engagements
    engagement_void(actor=gb_liaison, engagement=duplicate, reason="Logged twice")
    client.force_login(staff_user)
    assert client.get(reverse("engagement-detail", args=[duplicate.pk])).status_code == 200
    assert duplicate.pk not in links(found(client, staff_user), duplicate)
