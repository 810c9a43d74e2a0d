"""The page of an engagement, and correcting it with the form that logged it."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import Event
from countries.services import counterpart_create
from engagements.models import Engagement
from engagements.services import engagement_log, engagement_update, follow_up_create
from notifications.services import preferences_update
from partnerships.models import CountryTrack
from partnerships.services import country_track_move
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 20)


@pytest.fixture
def logged(gb_partnership, gb_liaison):
    gb = gb_partnership.country
    ada = counterpart_create(actor=gb_liaison, country=gb, name="Ada Lovelace", title="Minister for AI")
    engagement = engagement_log(
        actor=gb_liaison,
        country=gb,
        occurred_on=timezone.localdate() - datetime.timedelta(days=2),
        kind="meeting",
        summary="Skills programme kick-off",
        outcome="Curriculum agreed",
        tracks=[factories.track("workforce")],
        counterparts=[ada],
        follow_ups=[{"description": "Send the draft", "due_on": timezone.localdate() + datetime.timedelta(days=7)}],
    )
    cell = CountryTrack.objects.get(country=gb, track__key="workforce")
    country_track_move(
        actor=gb_liaison, country_track=cell, to_stage=factories.stage("workforce", "exploring"), evidence_engagement=engagement
    )
    return engagement


def page(client, user, engagement):
    client.force_login(user)
    return client.get(reverse("engagement-detail", args=[engagement.pk]))


def test_the_page_shows_everything_about_the_engagement(client, logged, gb_liaison):
    engagement_update(actor=gb_liaison, engagement=logged, outcome="Curriculum agreed in full")
    html = page(client, gb_liaison, logged).content.decode()
    for text in ("Skills programme kick-off", "Curriculum agreed in full", "Workforce training", "Send the draft", "Exploring"):
        assert text in html
    assert reverse("counterpart-edit", args=["gb", logged.counterparts.get().pk]) in html  # each person is a link
    assert reverse("engagement-edit", args=[logged.pk]) in html
    # The change history, with before and after.
    assert "<del>Curriculum agreed</del>" in html and "<ins>Curriculum agreed in full</ins>" in html


def test_a_reader_sees_a_normal_engagement_without_its_history_and_a_confidential_one_not_at_all(
    client, logged, viewer_user, gb_liaison
):
    engagement_update(actor=gb_liaison, engagement=logged, outcome="Changed")
    response = page(client, viewer_user, logged)
    html = response.content.decode()
    assert response.status_code == 200 and "Skills programme kick-off" in html
    assert "<del>" not in html and reverse("engagement-edit", args=[logged.pk]) not in html
    engagement_update(actor=gb_liaison, engagement=logged, sensitivity="confidential")
    assert page(client, viewer_user, logged).status_code == 404


def test_the_page_costs_the_same_queries_however_much_it_shows(client, logged, gb_liaison):
    def queries():
        client.force_login(gb_liaison)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("engagement-detail", args=[logged.pk])).status_code == 200
        return [q["sql"] for q in ctx.captured_queries]

    queries()  # the banner's demo-data check is cached after the first page of the process
    first = queries()
    for n in range(5):
        follow_up_create(actor=gb_liaison, country=logged.country, description=f"More {n}", due_on=TODAY, engagement=logged)
        engagement_update(actor=gb_liaison, engagement=logged, outcome=f"Outcome {n}")
    later = queries()
    assert len(later) == len(first) == 13


def form_data(engagement, **overrides):
    data = {
        "version": engagement.version,
        "occurred_on": engagement.occurred_on.isoformat(),
        "kind": engagement.kind,
        "summary": engagement.summary,
        "outcome": engagement.outcome,
        "tracks": [t.pk for t in engagement.tracks.all()],
        "counterparts": [c.pk for c in engagement.counterparts.all()],
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def edit(client, user, engagement, data):
    client.force_login(user)
    return client.post(reverse("engagement-edit", args=[engagement.pk]), data)


def test_a_liaison_corrects_the_date_and_the_change_is_recorded(client, logged, gb_liaison):
    day = logged.occurred_on - datetime.timedelta(days=1)
    response = edit(client, gb_liaison, logged, form_data(logged, occurred_on=day.isoformat()))
    assert response.status_code == 302 and response["Location"] == reverse("engagement-detail", args=[logged.pk])
    stored = Engagement.objects.get(pk=logged.pk)
    assert (stored.occurred_on, stored.version, stored.counterparts.count()) == (day, 2, 1)
    assert Event.objects.filter(kind="engagement.updated").latest("id").payload == {"fields": ["occurred_on"]}
    assert "<del>" in page(client, gb_liaison, logged).content.decode()


def test_another_countrys_liaison_may_not_correct_it(client, logged, fr_liaison):
    assert edit(client, fr_liaison, logged, form_data(logged, summary="Mine now")).status_code == 403
    assert Engagement.objects.get(pk=logged.pk).summary == "Skills programme kick-off"


def test_a_correction_from_an_older_page_is_refused_and_keeps_what_was_typed(client, logged, gb_liaison, staff_user):
    seen = form_data(logged, summary="Kick-off, corrected by the liaison")
    engagement_update(actor=staff_user, engagement=logged, summary="Kick-off, corrected by staff")
    response = edit(client, gb_liaison, logged, seen)
    html = response.content.decode()
    assert response.status_code == 409
    assert "Kick-off, corrected by the liaison" in html and "Your change was not saved" in html
    assert Engagement.objects.get(pk=logged.pk).summary == "Kick-off, corrected by staff"
    again = edit(client, gb_liaison, logged, {**seen, "version": seen["version"] + 1})  # the version the 409 showed
    assert again.status_code == 302
    assert Engagement.objects.get(pk=logged.pk).summary == "Kick-off, corrected by the liaison"


def test_making_a_confidential_engagement_normal_must_be_confirmed(client, logged, gb_liaison):
    engagement_update(actor=gb_liaison, engagement=logged, sensitivity="confidential")
    logged.refresh_from_db()
    refused = edit(client, gb_liaison, logged, form_data(logged))  # "confidential" left unticked
    assert refused.status_code == 400 and "tick the box to confirm" in refused.content.decode()
    assert Engagement.objects.get(pk=logged.pk).is_confidential

    confirmed = edit(client, gb_liaison, logged, form_data(logged, confirm_normal="on"))
    assert confirmed.status_code == 302 and not Engagement.objects.get(pk=logged.pk).is_confidential
    assert Event.objects.filter(kind="engagement.updated").latest("id").payload == {"fields": ["sensitivity"]}


def test_a_counterpart_no_longer_in_post_stays_on_the_engagement_when_it_is_corrected(client, logged, gb_liaison):
    person = logged.counterparts.get()
    person.active_to = timezone.localdate() - datetime.timedelta(days=1)
    person.save()
    assert edit(client, gb_liaison, logged, form_data(logged, outcome="Also agreed: a pilot")).status_code == 302
    assert list(Engagement.objects.get(pk=logged.pk).counterparts.all()) == [person]


def test_every_mention_of_the_engagement_leads_to_its_page(
    client, gb_partnership, gb_liaison, staff_user, django_capture_on_commit_callbacks
):
    preferences_update(actor=staff_user, email_frequency="never", language="en", programme=True, countries=[], tracks=[])
    with django_capture_on_commit_callbacks(execute=True):
        engagement = engagement_log(
            actor=gb_liaison, country=gb_partnership.country, occurred_on=timezone.localdate(), kind="call", summary="Kick-off"
        )
    url = reverse("engagement-detail", args=[engagement.pk])
    client.force_login(gb_liaison)
    assert url in client.get(reverse("country-detail", args=["gb"])).content.decode()
    assert url in client.get(reverse("home")).content.decode()
    assert url in client.get(reverse("search"), {"q": "kick-off"}).content.decode()
    client.force_login(staff_user)
    assert f'<a href="{url}">' in client.get(reverse("notifications:inbox")).content.decode()
