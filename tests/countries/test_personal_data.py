"""Counterparts' personal data: who reads their contact details, the subject access export, erasure and retention."""

import csv
import datetime
import io
import json

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.models import Event
from countries.models import Counterpart
from countries.policies import can_see_contact_details
from countries.services import (
    counterpart_apply_retention,
    counterpart_create,
    counterpart_erase,
    counterpart_merge,
    counterpart_update,
)
from engagements import services as engagement_services
from engagements.models import Engagement, FollowUp
from notifications.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db

NAME, EMAIL, PHONE = "Quentin Zarathustra-Belló", "q.zarathustra@example.gov", "+44 7700 900123"
DUPLICATE_NAME, DUPLICATE_PHONE = "Q. Zarathustra-Belló", "+44 7700 900999"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- who reads contact details ---------------------------------------------------------------------------------


def test_contact_details_are_for_the_countrys_writers(gb, staff_user, gb_liaison, fr_liaison, viewer_user):
    assert [can_see_contact_details(u, gb) for u in (staff_user, gb_liaison, fr_liaison, viewer_user, None)] == [
        True,
        True,
        False,
        False,
        False,
    ]


@pytest.mark.parametrize(
    ("who", "sees"), [("viewer_user", False), ("fr_liaison", False), ("gb_liaison", True), ("staff_user", True)]
)
def test_the_counterparts_page_and_the_api_show_contact_details_to_writers_only(request, gb, who, sees):
    user = request.getfixturevalue(who)
    person = factories.CounterpartFactory(country=gb, name="Grace Minister", email=EMAIL, phone=PHONE)
    html = _client(user).get(reverse("counterparts", args=["gb"])).content.decode()
    assert "Grace Minister" in html
    assert (EMAIL in html, PHONE in html) == (sees, sees)

    _token, api = factories.token_and_api_client(user)
    body = api.get(reverse("api:counterpart-detail", args=[person.pk])).json()
    listed = api.get(reverse("api:counterpart-list")).json()["results"]
    expected = (EMAIL, PHONE) if sees else (None, None)
    assert (body["email"], body["phone"]) == expected
    assert [(row["email"], row["phone"]) for row in listed] == [expected]


def test_a_viewer_cannot_find_a_counterpart_by_e_mail_or_phone(gb, viewer_user):
    factories.CounterpartFactory(country=gb, name="Grace Minister", email=EMAIL, phone=PHONE)
    client = _client(viewer_user)
    for q in (EMAIL, "q.zarathustra", PHONE):
        response = client.get(reverse("search"), {"q": q})
        assert response.context["counts"]["counterparts"] == 0, q
        assert "Grace Minister" not in response.content.decode()


# --- erasure ------------------------------------------------------------------------------------------------


def _person_everywhere(gb, staff_user, gb_liaison):
    """A person whose name, e-mail and phone the portal copied wherever it does: their record and its history, a
    duplicate merged into it, an engagement naming them (and its follow-up, its audit entries), events, an inbox."""
    person = counterpart_create(actor=gb_liaison, country=gb, name=NAME, title="Minister", email=EMAIL, phone=PHONE)
    counterpart_update(actor=gb_liaison, counterpart=person, notes=f"Reach {NAME} on {PHONE} or {EMAIL}")
    duplicate = counterpart_create(actor=gb_liaison, country=gb, name=DUPLICATE_NAME, phone=DUPLICATE_PHONE)
    engagement = engagement_services.engagement_log(
        actor=gb_liaison,
        country=gb,
        occurred_on=timezone.localdate() - datetime.timedelta(days=3),
        kind="meeting",
        summary=f"Met {NAME} about skills; she asked us to write to {EMAIL}.",
        outcome=f"Call {PHONE} next week.",
        tracks=[factories.track("workforce")],
        counterparts=[duplicate],
        follow_ups=[{"description": f"Send {NAME} the slides", "due_on": timezone.localdate(), "owner": gb_liaison}],
    )
    other = factories.CounterpartFactory(country=gb, name="Annabel Other", email="annabel@example.gov")
    engagement_services.engagement_update(actor=gb_liaison, engagement=engagement, counterparts=[duplicate, other])
    counterpart_merge(actor=staff_user, keep=person, duplicate=duplicate)
    for kind in ("engagement.logged", "counterpart.updated"):  # an inbox row of each (handlers run after commit)
        Notification.objects.create(user=staff_user, event=Event.objects.filter(kind=kind).first())
    person.refresh_from_db()
    return person, duplicate, engagement, other


def _text_columns():
    """(model, text, char and JSON fields) of every table of the project, the through tables included."""
    for model in apps.get_models(include_auto_created=True):
        fields = [f for f in model._meta.concrete_fields if isinstance(f, (models.CharField, models.TextField, models.JSONField))]
        if fields and model._meta.managed:
            yield model, fields


def _where_found(needles) -> list[str]:
    found = []
    for model, fields in _text_columns():
        for row in model._base_manager.values_list("pk", *(f.attname for f in fields)).iterator():
            for field, value in zip(fields, row[1:], strict=True):
                text = json.dumps(value, ensure_ascii=False) if isinstance(field, models.JSONField) else str(value or "")
                hits = [n for n in needles if n.casefold() in text.casefold()]
                if hits:
                    found.append(f"{model._meta.label}.{field.name} #{row[0]}: {hits}")
    return found


def test_erasure_leaves_the_name_e_mail_and_phone_in_no_text_column_of_any_table(gb, staff_user, gb_liaison):
    person, duplicate, engagement, other = _person_everywhere(gb, staff_user, gb_liaison)
    needles = [NAME, EMAIL, PHONE, DUPLICATE_NAME, DUPLICATE_PHONE]
    assert len({hit.split(" ")[0] for hit in _where_found(needles)}) >= 6  # the search finds them where they were

    counterpart_erase(actor=staff_user, counterpart=person, reason="Request under the GDPR of 3 March")

    assert _where_found(needles) == []
    # The programme's facts stay: the engagement, its people (the erased one and the other), its follow-up.
    engagement.refresh_from_db()
    assert set(engagement.counterparts.all()) == {person, other}
    assert engagement.summary == "Met Erased person about skills; she asked us to write to [erased]."
    assert FollowUp.objects.get(engagement=engagement).description == "Send Erased person the slides"
    other.refresh_from_db()
    assert (other.name, other.email) == ("Annabel Other", "annabel@example.gov")


def test_an_erased_person_keeps_their_engagements_and_leaves_every_list(gb, staff_user, gb_liaison, viewer_user):
    person, duplicate, engagement, _other = _person_everywhere(gb, staff_user, gb_liaison)

    counterpart_erase(actor=staff_user, counterpart=person, reason="Request under the GDPR")

    for row in Counterpart.objects.filter(pk__in=[person.pk, duplicate.pk]):
        assert (row.name, row.title, row.email, row.phone, row.notes) == ("Erased person", "", "", "", "")
        assert row.erased_at is not None and row.erased_by == staff_user
        assert row.organisation == "" or row.country_id == gb.pk  # the country, ministry and dates are kept
    html = _client(viewer_user).get(reverse("engagement-detail", args=[engagement.pk])).content.decode()
    assert "a counterpart (erased)" in html
    assert reverse("counterparts", args=["gb"]) in html  # the other person is a link to the counterparts
    people = _client(staff_user).get(reverse("counterparts", args=["gb"])).context
    assert person not in people["current"] + people["former"]
    _token, api = factories.token_and_api_client(viewer_user)
    assert person.pk not in {row["id"] for row in api.get(reverse("api:counterpart-list")).json()["results"]}
    assert api.get(reverse("api:counterpart-detail", args=[person.pk])).status_code == 404
    # The engagement's edit page still names them: saving it does not drop them.
    edit = _client(gb_liaison).get(reverse("engagement-edit", args=[engagement.pk]))
    assert person.pk in {c.pk for c in edit.context["form"].fields["counterparts"].queryset}


def test_erasure_is_recorded_without_the_data_erased(gb, staff_user, gb_liaison):
    person, duplicate, engagement, _other = _person_everywhere(gb, staff_user, gb_liaison)

    counterpart_erase(actor=staff_user, counterpart=person, reason="Request under the GDPR")

    event = Event.objects.get(kind="counterpart.erased")
    assert (event.subject_id, event.actor, event.payload) == (
        str(person.pk),
        staff_user,
        {"records": [person.pk, duplicate.pk], "engagements": [engagement.pk]},
    )
    entry = LogEntry.objects.get(object_pk=str(person.pk), action=LogEntry.Action.UPDATE, changes__has_key="erased_at")
    assert set(entry.changes) == {"erased_at", "erased_by", "erasure_reason"}
    assert entry.changes["erasure_reason"] == ["", "Request under the GDPR"]


@pytest.mark.parametrize("who", ["gb_liaison", "viewer_user"])
def test_only_staff_erase_and_a_refused_erasure_changes_nothing(request, gb, who):
    person = factories.CounterpartFactory(country=gb, name=NAME, email=EMAIL)
    with pytest.raises(PermissionDenied):
        counterpart_erase(actor=request.getfixturevalue(who), counterpart=person, reason="Asked")
    person.refresh_from_db()
    assert (person.name, person.email, person.erased_at) == (NAME, EMAIL, None)
    assert not Event.objects.filter(kind="counterpart.erased").exists()


def test_an_erased_person_stays_erased(gb, staff_user, gb_liaison):
    person = counterpart_create(actor=gb_liaison, country=gb, name=NAME, email=EMAIL)
    live = counterpart_create(actor=gb_liaison, country=gb, name="Someone Else")
    with pytest.raises(ValidationError, match="Say why"):
        counterpart_erase(actor=staff_user, counterpart=person, reason="  ")
    counterpart_erase(actor=staff_user, counterpart=person, reason="Asked")

    with pytest.raises(ValidationError, match="already erased"):
        counterpart_erase(actor=staff_user, counterpart=person, reason="Again")
    with pytest.raises(ValidationError, match="cannot be changed"):
        counterpart_update(actor=staff_user, counterpart=person, name=NAME, email=EMAIL)
    for keep, duplicate in ((person, live), (live, person)):
        with pytest.raises(ValidationError, match="erased person cannot be merged"):
            counterpart_merge(actor=staff_user, keep=keep, duplicate=duplicate)
    engagement = factories.EngagementFactory(country=gb)
    with pytest.raises(ValidationError, match="erased person cannot be named"):
        engagement_services.engagement_update(actor=staff_user, engagement=engagement, counterparts=[person])
    person.refresh_from_db()
    assert (person.name, person.email) == ("Erased person", "")


def test_the_erase_page_asks_why_and_erases_on_post(gb, staff_user):
    person = factories.CounterpartFactory(country=gb, name=NAME, email=EMAIL)
    client = _client(staff_user)
    url = reverse("counterpart-erase", args=["gb", person.pk])
    edit = client.get(reverse("counterpart-edit", args=["gb", person.pk])).content.decode()
    assert url in edit and reverse("counterpart-personal-data", args=["gb", person.pk]) in edit
    assert client.get(url).status_code == 200

    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 400
    person.refresh_from_db()
    assert person.erased_at is None

    assert client.post(url, {"reason": "Request under the GDPR"}).status_code == 302
    person.refresh_from_db()
    assert (person.name, person.email, person.erasure_reason) == ("Erased person", "", "Request under the GDPR")
    assert client.post(url, {"reason": "Again"}).status_code == 400


def test_the_edit_page_offers_no_personal_data_actions_to_a_liaison(gb, gb_liaison):
    person = factories.CounterpartFactory(country=gb, name=NAME)
    html = _client(gb_liaison).get(reverse("counterpart-edit", args=["gb", person.pk])).content.decode()
    assert reverse("counterpart-erase", args=["gb", person.pk]) not in html


# --- the subject access export ----------------------------------------------------------------------------------


def test_the_export_holds_everything_on_the_person_and_is_audited(gb, staff_user, gb_liaison):
    person, duplicate, engagement, _other = _person_everywhere(gb, staff_user, gb_liaison)
    client = _client(staff_user)
    url = reverse("counterpart-personal-data", args=["gb", person.pk])
    assert "?export=json" in client.get(url).content.decode()

    response = client.get(url, {"export": "json"})
    assert response["Content-Type"].startswith("application/json")
    data = json.loads(response.content)
    assert (data["person"]["name"], data["person"]["email"], data["person"]["phone"]) == (NAME, EMAIL, PHONE)
    assert [(r["id"], r["phone"]) for r in data["merged_records"]] == [(duplicate.pk, DUPLICATE_PHONE)]
    assert [e["id"] for e in data["engagements"]] == [engagement.pk]
    assert data["engagements"][0]["follow_ups"][0]["description"] == f"Send {NAME} the slides"
    assert {c["record"] for c in data["changes"]} == {person.pk, duplicate.pk}
    assert "counterpart.merged" in {e["kind"] for e in data["events"]}

    rows = list(csv.reader(io.StringIO(client.get(url, {"export": "csv"}).getvalue().decode("utf-8-sig"))))
    assert ["person", str(person.pk), "email", EMAIL] in rows
    assert ["engagements", str(engagement.pk), "occurred_on", engagement.occurred_on.isoformat()] in rows

    read = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_pk=str(person.pk)).order_by("pk")
    assert [(e.actor, e.additional_data) for e in read] == [
        (staff_user, {"access": "personal data exported (json)"}),
        (staff_user, {"access": "personal data exported (csv)"}),
    ]


def test_an_unknown_export_format_is_refused_before_anything_is_read(gb, staff_user):
    person = factories.CounterpartFactory(country=gb, name=NAME)
    response = _client(staff_user).get(reverse("counterpart-personal-data", args=["gb", person.pk]), {"export": "pdf"})
    assert response.status_code == 400
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()


@pytest.mark.parametrize("who", ["gb_liaison", "viewer_user"])
def test_the_export_is_for_staff_only(request, gb, who):
    person = factories.CounterpartFactory(country=gb, name=NAME, email=EMAIL)
    response = _client(request.getfixturevalue(who)).get(
        reverse("counterpart-personal-data", args=["gb", person.pk]), {"export": "json"}
    )
    assert response.status_code == 403
    assert EMAIL not in response.content.decode()
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()


# --- retention --------------------------------------------------------------------------------------------------


def test_retention_empties_voided_engagements_and_old_erasure_records(gb, staff_user, gb_liaison, settings):
    settings.RETENTION_VOIDED_DAYS, settings.RETENTION_ERASED_DAYS = 30, 60
    person = counterpart_create(actor=gb_liaison, country=gb, name=NAME)
    old, recent = (
        engagement_services.engagement_log(
            actor=gb_liaison,
            country=gb,
            occurred_on=timezone.localdate(),
            kind="call",
            summary=f"Spoke with {NAME}",
            counterparts=[person],
            follow_ups=[{"description": "Write back", "due_on": timezone.localdate()}],
        )
        for _ in range(2)
    )
    for engagement in (old, recent):
        engagement_services.engagement_void(actor=gb_liaison, engagement=engagement, reason="Logged twice")
    Engagement.objects.filter(pk=old.pk).update(voided_at=timezone.now() - datetime.timedelta(days=31))
    counterpart_erase(actor=staff_user, counterpart=person, reason="Asked on the phone")
    Counterpart.objects.filter(pk=person.pk).update(erased_at=timezone.now() - datetime.timedelta(days=61))

    call_command("apply_retention", stdout=io.StringIO())
    call_command("apply_retention", stdout=io.StringIO())  # a second run finds nothing left to do

    old.refresh_from_db(), recent.refresh_from_db(), person.refresh_from_db()
    assert (old.summary, old.outcome, list(old.counterparts.all())) == ("[removed after the retention period]", "", [])
    assert old.follow_ups.get().description == "[removed after the retention period]"
    assert (old.void_reason, old.occurred_on) == ("Logged twice", timezone.localdate())
    assert recent.summary == "Spoke with Erased person" and list(recent.counterparts.all()) == [person]
    assert (person.erasure_reason, person.erased_by, person.name) == ("", None, "Erased person")
    assert _where_found(["Asked on the phone"]) == []
    old_entries = [
        *LogEntry.objects.get_for_object(old),
        *LogEntry.objects.get_for_object(old.follow_ups.get()),
    ]
    assert len(old_entries) >= 3
    assert not [e.pk for e in old_entries if "Write back" in json.dumps(e.changes) + e.object_repr]
    assert not [e.pk for e in old_entries if NAME in json.dumps(e.changes, ensure_ascii=False) + e.object_repr]


def test_retention_of_zero_days_keeps_everything(gb, staff_user, settings):
    settings.RETENTION_ERASED_DAYS = 0
    person = factories.CounterpartFactory(country=gb, name=NAME)
    counterpart_erase(actor=staff_user, counterpart=person, reason="Asked")
    Counterpart.objects.filter(pk=person.pk).update(erased_at=timezone.now() - datetime.timedelta(days=9999))
    assert counterpart_apply_retention() == 0
    person.refresh_from_db()
    assert person.erasure_reason == "Asked"
