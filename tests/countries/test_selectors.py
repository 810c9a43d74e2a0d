"""Who may write for a country, and the counterpart reads."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from countries.policies import ensure_can_read, ensure_programme_staff, user_can_write_country
from countries.selectors import assigned_country_ids, counterpart_list
from tests import factories

pytestmark = pytest.mark.django_db


def test_who_writes_for_a_country(gb, staff_user, gb_liaison, fr_liaison, viewer_user):
    fr = factories.country("FR")
    no_role = factories.make_user(username="nobody")
    superuser = factories.make_user(username="root", is_superuser=True)
    inactive_liaison = factories.liaison("GB", username="gone", is_active=False)

    assert [user_can_write_country(u, gb) for u in (staff_user, superuser, gb_liaison)] == [True, True, True]
    assert [user_can_write_country(u, gb) for u in (fr_liaison, viewer_user, no_role, inactive_liaison)] == [False] * 4
    assert user_can_write_country(AnonymousUser(), gb) is False
    assert user_can_write_country(fr_liaison, fr.pk) is True  # an id works as well as a country
    assert assigned_country_ids(gb_liaison) == frozenset({gb.pk})


def test_a_user_with_no_role_may_not_read(viewer_user):
    ensure_can_read(viewer_user)
    with pytest.raises(PermissionDenied, match="Your account has no role in the portal yet"):
        ensure_can_read(factories.make_user(username="nobody"))
    with pytest.raises(PermissionDenied, match="Only programme staff may do this."):
        ensure_programme_staff(viewer_user)


def test_counterpart_list_active_only_hides_those_who_left(gb):
    today = timezone.localdate()
    in_post = factories.CounterpartFactory(country=gb, name="In post")
    leaving_today = factories.CounterpartFactory(country=gb, name="Leaves today", active_to=today)
    factories.CounterpartFactory(country=gb, name="Left", active_to=today - datetime.timedelta(days=1))
    factories.CounterpartFactory(country=factories.country("FR"), name="Elsewhere")

    assert list(counterpart_list(country=gb, active_only=True)) == [in_post, leaving_today]
    assert counterpart_list(country=gb).count() == 3
    assert counterpart_list().count() == 4
