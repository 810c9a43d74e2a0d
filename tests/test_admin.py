"""Every model has an admin that loads, searches and filters for a superuser."""

import pytest
from django.contrib import admin
from django.urls import reverse

from core.models import Event
from partnerships.models import CountryTrack, StageChange
from partnerships.services import country_track_move, partnership_create
from tests import factories
from tracks.models import Stage, Track

pytestmark = pytest.mark.django_db

OUR_APPS = {"core", "countries", "infrastructure", "partnerships", "notifications", "accounts"}


@pytest.fixture
def admin_client(client):
    user = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    client.user = user
    return client


def our_models():
    from django.apps import apps

    return [m for m in apps.get_models() if m._meta.app_label in OUR_APPS]


def test_every_model_is_registered_in_the_admin():
    missing = [m._meta.label for m in our_models() if m not in admin.site._registry]
    assert missing == []


@pytest.mark.parametrize("model", our_models(), ids=lambda m: m._meta.label)
def test_changelist_and_search_load(admin_client, model, staff_user):
    gb = partnership_create(actor=staff_user, country=factories.country("GB"))
    factories.EngagementFactory(country=gb.country)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert admin_client.get(url).status_code == 200
    if admin.site._registry[model].search_fields:
        assert admin_client.get(url, {"q": "united"}).status_code == 200


def test_country_track_shows_its_stage_history_inline(admin_client, staff_user):
    partnership_create(actor=staff_user, country=factories.country("NO"))
    ct = CountryTrack.objects.get(country__iso2="NO", track__key="safety_standards")
    country_track_move(actor=staff_user, country_track=ct, to_stage=factories.stage("safety_standards", "negotiating"))
    html = admin_client.get(reverse("admin:partnerships_countrytrack_change", args=[ct.pk])).content.decode()
    assert "Stage changes" in html
    assert "Negotiating" in html and "Not started" in html


def test_adding_a_track_in_the_admin_gives_it_the_default_ladder_and_cells(admin_client, staff_user):
    partnership_create(actor=staff_user, country=factories.country("FR"))
    response = admin_client.post(
        reverse("admin:tracks_track_add"),
        {"key": "reindustrialisation", "name_en": "Reindustrialisation", "name_fr": "Réindustrialisation", "position": 9,
         "description": "", "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    track = Track.objects.get(key="reindustrialisation")
    assert list(Stage.objects.filter(track=track).order_by("position").values_list("key", flat=True)) == [
        "not_started", "exploring", "negotiating", "agreed", "implementing", "operational", "paused", "withdrawn",
    ]  # fmt: skip
    assert CountryTrack.objects.filter(track=track, country__iso2="FR", stage__key="not_started").exists()
    assert StageChange.objects.filter(country_track__track=track).count() == 1


def test_adding_a_partnership_in_the_admin_opens_its_cells(admin_client):
    country = factories.country("KE")
    response = admin_client.post(
        reverse("admin:partnerships_partnership_add"),
        {"country": country.pk, "status": "pipeline", "started_on": "2026-01-15", "notes": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert CountryTrack.objects.filter(country=country).count() == 4
    assert Event.objects.filter(kind="partnership.created", country_id=country.pk).exists()


def test_admin_edit_goes_through_the_outbox(admin_client):
    counterpart = factories.CounterpartFactory(country=factories.country("GB"), name="A. Official")
    response = admin_client.post(
        reverse("admin:countries_counterpart_change", args=[counterpart.pk]),
        {
            "country": counterpart.country_id,
            "name": "A. Official",
            "title": "Permanent Secretary",
            "organisation": "Ministry of Science",
            **dict.fromkeys(["email", "phone", "active_from", "active_to", "notes"], ""),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = Event.objects.get(kind="admin.changed", subject_type="countries.counterpart")
    assert event.actor == admin_client.user
    assert event.payload == {"fields": ["title"]}
    assert event.country_id == counterpart.country_id


def test_programme_staff_open_the_admin_with_their_group_permissions(client):
    user = factories.staff(username="staffer", is_staff=True)
    client.force_login(user)
    assert client.get(reverse("admin:engagements_engagement_changelist")).status_code == 200
    assert client.get(reverse("admin:countries_counterpart_add")).status_code == 200
    assert client.get(reverse("admin:core_event_changelist")).status_code == 200
    assert user.has_perm("engagements.change_engagement")
    assert not user.has_perm("engagements.delete_engagement")
    assert not user.has_perm("core.change_event")


def test_viewers_get_no_admin_permissions(client):
    user = factories.viewer(username="reader", is_staff=True)
    client.force_login(user)
    assert client.get(reverse("admin:engagements_engagement_changelist")).status_code == 403


# --- what the admin never shows, and what it refuses -------------------------------------------------

SECRET = "partner-signing-secret-0123456789"


@pytest.fixture
def endpoint(db):
    from notifications.models import WebhookEndpoint

    return WebhookEndpoint.objects.create(name="Ministry", url="https://ministry.example/hooks", secret=SECRET, event_kinds=[])


def test_programme_staff_see_that_a_webhook_has_a_secret_but_never_the_secret(client, endpoint):
    client.force_login(factories.staff(username="staffer", is_staff=True))
    for url in (
        reverse("admin:notifications_webhookendpoint_changelist"),
        reverse("admin:notifications_webhookendpoint_change", args=[endpoint.pk]),
        reverse("admin:notifications_webhookendpoint_history", args=[endpoint.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert SECRET not in response.content.decode(), url
    page = client.get(reverse("admin:notifications_webhookendpoint_change", args=[endpoint.pk])).content.decode()
    assert "Secret" in page  # shown as set (a tick), not as text


def test_an_administrator_sets_and_rotates_the_secret_without_ever_reading_it(admin_client, endpoint):
    change = reverse("admin:notifications_webhookendpoint_change", args=[endpoint.pk])
    page = admin_client.get(change).content.decode()
    assert SECRET not in page
    assert 'type="password"' in page
    form = {"name": "Ministry", "url": "https://ministry.example/hooks", "event_kinds": "[]", "is_active": "on"}
    assert admin_client.post(change, {**form, "new_secret": ""}).status_code == 302  # empty: the secret is kept
    endpoint.refresh_from_db()
    assert endpoint.secret == SECRET
    assert admin_client.post(change, {**form, "new_secret": "rotated-secret-abcdefghij"}).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.secret == "rotated-secret-abcdefghij"
    add = reverse("admin:notifications_webhookendpoint_add")
    response = admin_client.post(add, {**form, "name": "No secret", "new_secret": ""})
    assert response.status_code == 200
    assert "needs a secret" in response.content.decode()


def test_retrying_webhook_deliveries_needs_the_change_permission(admin_client, endpoint):
    from django.test import Client

    from notifications.models import WebhookDelivery

    event = Event.objects.create(kind="engagement.logged", subject_type="partnerships.engagement", subject_id="1")
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event=event, status=WebhookDelivery.Status.FAILED, attempts=5, last_error="timeout"
    )
    changelist = reverse("admin:notifications_webhookdelivery_changelist")
    action = {"action": "retry_now", "_selected_action": [str(delivery.pk)], "index": "0"}
    staff = Client()
    staff.force_login(factories.staff(username="staffer", is_staff=True))
    assert "retry_now" not in staff.get(changelist).content.decode()
    staff.post(changelist, action)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert "retry_now" in admin_client.get(changelist).content.decode()
    admin_client.post(changelist, action)
    delivery.refresh_from_db()
    assert delivery.attempts > 5 or delivery.status == WebhookDelivery.Status.PENDING  # queued again (or tried at once)


@pytest.mark.parametrize("selected", ["abc", "1.5", "", "1;2", "9" * 30])
def test_an_admin_action_on_rows_that_are_not_ids_is_a_400(admin_client, selected):
    changelist = reverse("admin:engagements_engagement_changelist")
    response = admin_client.post(changelist, {"action": "delete_selected", "_selected_action": [selected], "index": "0"})
    assert response.status_code == 400


def test_an_admin_action_on_token_digests_still_works(admin_client):
    """Not every model's id is a number (API tokens are keyed by their digest): the guard checks each model's own."""
    from core.models import ApiToken
    from core.services import api_token_create

    token, _secret = api_token_create(actor=admin_client.user, user=admin_client.user, name="old", days=30)
    changelist = reverse("admin:core_apitoken_changelist")
    response = admin_client.post(changelist, {"action": "delete_selected", "_selected_action": [token.pk], "index": "0"})
    assert response.status_code == 200  # the confirmation page
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_every_admin_action_needs_more_than_the_right_to_look():
    """An action changes rows: none may be offered on the view permission alone."""
    for model_admin in admin.site._registry.values():
        for action in model_admin.actions or ():
            func = getattr(model_admin, action, None) if isinstance(action, str) else action
            assert "view" not in getattr(func, "allowed_permissions", ()), (type(model_admin).__name__, action)


def test_publishing_from_the_admin_needs_the_change_permission(client):
    from announcements.models import Announcement

    viewer_admin = factories.UserFactory(username="looker", is_staff=True)
    from django.contrib.auth.models import Permission

    viewer_admin.user_permissions.add(Permission.objects.get(codename="view_announcement"))
    client.force_login(viewer_admin)
    page = client.get(reverse("admin:announcements_announcement_changelist"))
    assert page.status_code == 200
    assert "publish_now" not in page.content.decode()
    assert Announcement.objects.count() == 0
