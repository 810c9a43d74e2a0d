"""Changing a user's role and countries: through the liaison services, audited, and seen at once by cached pages."""

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from accounts import services
from core import catalogue, roles
from core.models import Event
from countries.models import LiaisonAssignment
from countries.selectors import assigned_country_ids
from engagements.models import Engagement
from tests import factories

pytestmark = pytest.mark.django_db


def group_names(user):
    return set(user.groups.values_list("name", flat=True))


def test_countries_are_assigned_and_taken_off_through_the_liaison_services(staff_user, gb_liaison):
    fr, de = factories.country("FR"), factories.country("DE")
    assert services.user_access_change(actor=staff_user, user=gb_liaison, role=roles.LIAISON, countries=[fr, de])
    assert assigned_country_ids(gb_liaison) == {fr.pk, de.pk}
    kinds = list(Event.objects.order_by("id").values_list("kind", flat=True))
    assert kinds.count(catalogue.LIAISON_UNASSIGNED) == 1 and kinds.count(catalogue.LIAISON_ASSIGNED) == 2
    event = Event.objects.get(kind=catalogue.USER_ACCESS_CHANGED)
    assert event.actor == staff_user and event.payload == {"role": roles.LIAISON, "countries": ["DE", "FR"]}
    # Audited: the assignment taken off and the two added.
    entries = LogEntry.objects.filter(content_type__model="liaisonassignment")
    assert entries.filter(action=LogEntry.Action.DELETE).count() == 1
    assert entries.filter(action=LogEntry.Action.CREATE).count() >= 2


def test_saving_the_same_access_changes_nothing(staff_user, gb_liaison):
    before = Event.objects.count()
    gb = factories.country("GB")
    assert not services.user_access_change(actor=staff_user, user=gb_liaison, role=roles.LIAISON, countries=[gb])
    assert Event.objects.count() == before


def test_a_liaison_made_viewer_loses_their_countries(staff_user, gb_liaison):
    services.user_access_change(actor=staff_user, user=gb_liaison, role=roles.VIEWER)
    assert group_names(gb_liaison) == {roles.VIEWER}
    assert not LiaisonAssignment.objects.filter(user=gb_liaison).exists()
    groups = LogEntry.objects.get_for_object(gb_liaison).filter(action=LogEntry.Action.UPDATE)
    assert any("groups" in e.changes_dict for e in groups)


def test_countries_are_for_liaisons_only(staff_user, viewer_user):
    with pytest.raises(ValidationError, match="Only liaisons"):
        services.user_access_change(actor=staff_user, user=viewer_user, role=roles.VIEWER, countries=[factories.country("GB")])


def test_nobody_changes_their_own_role(staff_user):
    with pytest.raises(ValidationError, match="your own role"):
        services.user_access_change(actor=staff_user, user=staff_user, role=roles.VIEWER)
    assert group_names(staff_user) == {roles.STAFF}


def test_only_staff_change_access(gb_liaison, fr_liaison, viewer_user):
    for actor in (gb_liaison, viewer_user):
        with pytest.raises(PermissionDenied):
            services.user_access_change(actor=actor, user=fr_liaison, role=roles.STAFF)
    assert group_names(fr_liaison) == {roles.LIAISON}


def test_staff_do_not_change_an_administrators_access(staff_user):
    admin = factories.UserFactory(username="root", is_superuser=True)
    with pytest.raises(PermissionDenied):
        services.user_access_change(actor=staff_user, user=admin, role=roles.VIEWER)


def test_a_cached_page_stops_showing_confidential_data_once_the_country_is_taken_off(
    gb_partnership, staff_user, gb_liaison, django_capture_on_commit_callbacks
):
    factories.EngagementFactory(
        country=gb_partnership.country, summary="Quiet talks about Zephyr", sensitivity=Engagement.Sensitivity.CONFIDENTIAL
    )
    liaison = Client()
    liaison.force_login(gb_liaison)
    page = reverse("country-detail", args=["gb"])
    liaison.get(page)  # sets the CSRF cookie, which the page cache's key holds
    first = liaison.get(page)
    assert b"Quiet talks about Zephyr" in first.content
    second = liaison.get(page)
    assert second.content == first.content  # served from the page cache (core/pagecache.py)

    staff = Client()
    staff.force_login(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            reverse("user-access", args=[gb_liaison.pk]),
            {"access-role": roles.LIAISON, "access-countries": [factories.country("FR").pk]},
        )
    assert response.status_code == 302
    after = liaison.get(page)
    assert after.status_code == 200 and b"Quiet talks about Zephyr" not in after.content


def test_an_api_token_follows_the_new_role_at_once(staff_user, gb_liaison, django_capture_on_commit_callbacks):
    _token, api = factories.token_and_api_client(gb_liaison)
    before = api.get("/api/v1/users/me/").json()  # the token is now in the cache of authenticated tokens
    assert (before["roles"], before["countries"]) == ([roles.LIAISON], ["GB"])
    with django_capture_on_commit_callbacks(execute=True):
        services.user_access_change(actor=staff_user, user=gb_liaison, role=roles.VIEWER)
    after = api.get("/api/v1/users/me/").json()
    assert (after["roles"], after["countries"]) == ([roles.VIEWER], [])
    # A liaison's write is refused from the next call on.
    assert api.post("/api/v1/follow-ups/", {}, format="json").status_code == 403


def test_the_form_shows_errors(client, staff_user, viewer_user):
    client.force_login(staff_user)
    data = {"access-role": roles.VIEWER, "access-countries": [factories.country("GB").pk]}
    response = client.post(reverse("user-access", args=[viewer_user.pk]), data)
    assert response.status_code == 400 and b"Only liaisons are assigned countries" in response.content
