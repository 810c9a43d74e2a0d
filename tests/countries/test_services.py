"""Rules of the countries services: counterparts and liaison assignment."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.models import Event
from countries.models import Counterpart, LiaisonAssignment
from countries.policies import user_can_write_country
from countries.services import (
    counterpart_create,
    counterpart_leave_post,
    counterpart_update,
    liaison_assign,
    liaison_unassign,
)
from tests import factories

pytestmark = pytest.mark.django_db


D = datetime.date


def _events(kind):
    return list(Event.objects.filter(kind=kind).values_list("country_id", "actor_id", "payload"))


@pytest.fixture
def minister(gb):
    return factories.CounterpartFactory(country=gb, name="Ada Minister", title="Minister", active_from=D(2024, 1, 1))


# --- counterpart_create -----------------------------------------------------------------------


def test_liaison_creates_a_counterpart_for_their_country(gb, gb_liaison):
    counterpart = counterpart_create(actor=gb_liaison, country=gb, name="  Grace Hopper  ", title="Director")

    row = Counterpart.objects.get()
    assert row.pk == counterpart.pk
    assert (row.country_id, row.name, row.title) == (gb.pk, "Grace Hopper", "Director")
    assert _events("counterpart.created") == [(gb.pk, gb_liaison.pk, {"name": "Grace Hopper"})]
    event = Event.objects.get(kind="counterpart.created")
    assert (event.subject_type, event.subject_id, event.state) == ("countries.counterpart", str(row.pk), "pending")


@pytest.mark.parametrize("actor_fixture", ["fr_liaison", "viewer_user"])
def test_counterpart_create_refused_for_someone_who_does_not_write_for_the_country(request, gb, actor_fixture):
    actor = request.getfixturevalue(actor_fixture)

    with pytest.raises(PermissionDenied, match="You may not change data for United Kingdom"):
        counterpart_create(actor=actor, country=gb, name="Grace Hopper")

    assert Counterpart.objects.count() == 0
    assert Event.objects.filter(kind="counterpart.created").count() == 0


def test_counterpart_create_refuses_dates_out_of_order(gb, gb_liaison):
    with pytest.raises(ValidationError) as err:
        counterpart_create(actor=gb_liaison, country=gb, name="Grace", active_from=D(2024, 5, 2), active_to=D(2024, 5, 1))

    assert err.value.message_dict == {"active_to": ["“In post until” cannot be before “in post from”."]}
    assert Counterpart.objects.count() == 0
    assert Event.objects.filter(kind="counterpart.created").count() == 0


def test_counterpart_create_accepts_a_single_day_in_post(gb, gb_liaison):
    counterpart = counterpart_create(
        actor=gb_liaison, country=gb, name="Grace", active_from=D(2024, 5, 1), active_to=D(2024, 5, 1)
    )
    assert counterpart.active_to == D(2024, 5, 1)


def test_counterpart_create_refuses_a_blank_name(gb, gb_liaison):
    with pytest.raises(ValidationError) as err:
        counterpart_create(actor=gb_liaison, country=gb, name="   ")

    assert err.value.message_dict == {"name": ["This field cannot be blank."]}
    assert Counterpart.objects.count() == 0


def test_counterpart_create_refuses_unknown_fields(gb, gb_liaison):
    with pytest.raises(TypeError, match="country_id"):
        counterpart_create(actor=gb_liaison, country=gb, name="Grace", country_id=1)
    assert Counterpart.objects.count() == 0


# --- counterpart_update -------------------------------------------------------------------------


def test_counterpart_update_records_the_changes(minister, gb_liaison):
    counterpart_update(actor=gb_liaison, counterpart=minister, title="Deputy Minister", active_to=D(2025, 1, 31))

    minister.refresh_from_db()
    assert (minister.title, minister.active_to) == ("Deputy Minister", D(2025, 1, 31))
    assert _events("counterpart.updated") == [
        (
            minister.country_id,
            gb_liaison.pk,
            {"changes": {"title": ["Minister", "Deputy Minister"], "active_to": [None, "2025-01-31"]}},
        )
    ]


def test_counterpart_update_without_a_change_emits_nothing(minister, gb_liaison):
    counterpart_update(actor=gb_liaison, counterpart=minister, title="Minister")
    assert Event.objects.filter(kind="counterpart.updated").count() == 0


def test_counterpart_update_refused_for_liaison_of_another_country(minister, fr_liaison):
    with pytest.raises(PermissionDenied):
        counterpart_update(actor=fr_liaison, counterpart=minister, title="Hacked")

    minister.refresh_from_db()
    assert minister.title == "Minister"
    assert Event.objects.filter(kind="counterpart.updated").count() == 0


def test_counterpart_update_refuses_dates_out_of_order(minister, gb_liaison):
    with pytest.raises(ValidationError) as err:
        counterpart_update(actor=gb_liaison, counterpart=minister, active_to=D(2023, 12, 31))

    assert err.value.message_dict == {"active_to": ["“In post until” cannot be before “in post from”."]}
    assert Counterpart.objects.get(pk=minister.pk).active_to is None
    assert Event.objects.filter(kind="counterpart.updated").count() == 0


def test_counterpart_update_refuses_unknown_fields(minister, gb_liaison):
    with pytest.raises(TypeError, match="country"):
        counterpart_update(actor=gb_liaison, counterpart=minister, country=factories.country("FR"))


def test_counterpart_update_refuses_a_whitespace_name(minister, gb_liaison):
    with pytest.raises(ValidationError) as err:
        counterpart_update(actor=gb_liaison, counterpart=minister, name="   ")
    assert "name" in err.value.message_dict


# --- counterpart_leave_post ---------------------------------------------------------------------


def test_counterpart_leaves_post_on_a_given_day(minister, gb_liaison):
    counterpart_leave_post(actor=gb_liaison, counterpart=minister, left_on=D(2025, 3, 1))

    assert Counterpart.objects.get(pk=minister.pk).active_to == D(2025, 3, 1)
    assert _events("counterpart.updated") == [
        (minister.country_id, gb_liaison.pk, {"changes": {"active_to": [None, "2025-03-01"]}})
    ]


def test_counterpart_leaves_post_today_by_default(minister, gb_liaison):
    counterpart_leave_post(actor=gb_liaison, counterpart=minister)

    row = Counterpart.objects.get(pk=minister.pk)
    assert row.active_to == timezone.localdate()
    assert row.is_active  # still in post for the rest of today


def test_leaving_a_post_twice_is_refused(minister, gb_liaison):
    counterpart_leave_post(actor=gb_liaison, counterpart=minister, left_on=D(2025, 3, 1))

    with pytest.raises(ValidationError) as err:
        counterpart_leave_post(actor=gb_liaison, counterpart=minister, left_on=D(2025, 4, 1))

    assert err.value.messages == ["Ada Minister already left this post on 1 Mar 2025."]
    assert Counterpart.objects.get(pk=minister.pk).active_to == D(2025, 3, 1)
    assert Event.objects.filter(kind="counterpart.updated").count() == 1


def test_leaving_before_taking_post_is_refused(minister, gb_liaison):
    with pytest.raises(ValidationError) as err:
        counterpart_leave_post(actor=gb_liaison, counterpart=minister, left_on=D(2023, 6, 1))

    assert err.value.message_dict == {"active_to": ["“In post until” cannot be before “in post from”."]}
    assert Counterpart.objects.get(pk=minister.pk).active_to is None


def test_leave_post_refused_for_liaison_of_another_country(minister, fr_liaison):
    with pytest.raises(PermissionDenied):
        counterpart_leave_post(actor=fr_liaison, counterpart=minister, left_on=D(2025, 3, 1))

    assert Counterpart.objects.get(pk=minister.pk).active_to is None
    assert Event.objects.count() == 0


def test_leave_post_checks_permission_before_anything_else(minister, gb_liaison, fr_liaison):
    counterpart_leave_post(actor=gb_liaison, counterpart=minister, left_on=D(2025, 3, 1))

    with pytest.raises(PermissionDenied):
        counterpart_leave_post(actor=fr_liaison, counterpart=minister, left_on=D(2025, 4, 1))


# --- liaison_assign / liaison_unassign ------------------------------------------------------------


def test_staff_assigns_a_liaison_once(staff_user, gb):
    user = factories.liaison(username="new-liaison")

    assignment = liaison_assign(actor=staff_user, user=user, country=gb)
    again = liaison_assign(actor=staff_user, user=user, country=gb)

    assert again.pk == assignment.pk
    assert list(LiaisonAssignment.objects.values_list("user_id", "country_id")) == [(user.pk, gb.pk)]
    assert _events("liaison.assigned") == [(gb.pk, staff_user.pk, {"user": "new-liaison"})]
    # A fresh read of the user (as the next request would make) now writes for the country.
    assert user_can_write_country(get_user_model().objects.get(pk=user.pk), gb)


@pytest.mark.parametrize("actor_fixture", ["gb_liaison", "viewer_user"])
def test_only_staff_assign_liaisons(request, gb, actor_fixture):
    actor = request.getfixturevalue(actor_fixture)
    user = factories.liaison(username="new-liaison")

    with pytest.raises(PermissionDenied, match="Only programme staff may do this."):
        liaison_assign(actor=actor, user=user, country=gb)

    assert not LiaisonAssignment.objects.filter(user=user).exists()
    assert _events("liaison.assigned") == []


def test_assigning_a_user_who_is_not_a_liaison_is_refused(staff_user, gb):
    user = factories.viewer(username="just-a-viewer")

    with pytest.raises(ValidationError) as err:
        liaison_assign(actor=staff_user, user=user, country=gb)

    assert err.value.messages == ["just-a-viewer is not in the liaison group."]
    assert not LiaisonAssignment.objects.filter(user=user).exists()
    assert _events("liaison.assigned") == []


def test_staff_unassigns_a_liaison(staff_user, gb, gb_liaison):
    liaison_unassign(actor=staff_user, user=gb_liaison, country=gb)

    assert not LiaisonAssignment.objects.filter(user=gb_liaison).exists()
    assert _events("liaison.unassigned") == [(gb.pk, staff_user.pk, {"user": "gb-liaison"})]
    assert not user_can_write_country(get_user_model().objects.get(pk=gb_liaison.pk), gb)


def test_unassigning_someone_not_assigned_emits_nothing(staff_user, gb, fr_liaison):
    liaison_unassign(actor=staff_user, user=fr_liaison, country=gb)

    assert LiaisonAssignment.objects.filter(user=fr_liaison).count() == 1
    assert _events("liaison.unassigned") == []


def test_only_staff_unassign_liaisons(gb, gb_liaison):
    with pytest.raises(PermissionDenied):
        liaison_unassign(actor=gb_liaison, user=gb_liaison, country=gb)

    assert LiaisonAssignment.objects.filter(user=gb_liaison, country=gb).exists()
    assert _events("liaison.unassigned") == []
