"""Rules tightened after review: confidential figures, embargo in the admin, follow-up tracks and owners,
inactive tracks, one side state of each kind per track, and concurrent stage moves on PostgreSQL."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from announcements.models import Announcement
from announcements.selectors import announcement_list
from countries.models import CountryStatus
from engagements.models import Engagement, FollowUp
from engagements.services import engagement_log, follow_up_create, follow_up_update
from partnerships.models import CountryTrack
from partnerships.rollup import rollup_countries
from partnerships.services import country_track_move, partnership_create
from tests import factories
from tests.conftest import needs_postgresql
from tracks.models import Stage

pytestmark = pytest.mark.django_db


def _days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


def test_status_figures_do_not_reveal_confidential_engagements_but_health_sees_them(gb_partnership, gb_liaison):
    gb = gb_partnership.country
    ct = CountryTrack.objects.get(country=gb, track__key="workforce")
    CountryTrack.objects.filter(pk=ct.pk).update(
        stage=factories.stage("workforce", "exploring"),
        ladder_stage=factories.stage("workforce", "exploring"),
        stage_changed_at=timezone.now() - datetime.timedelta(days=200),
    )
    engagement_log(
        actor=gb_liaison,
        country=gb,
        occurred_on=_days(-5),
        kind="meeting",
        summary="Secret talks",
        tracks=[factories.track("workforce")],
        sensitivity=Engagement.Sensitivity.CONFIDENTIAL,
        follow_ups=[{"description": "Confidential step", "due_on": _days(-1), "owner": gb_liaison}],
    )
    rollup_countries()
    status = CountryStatus.objects.get(country=gb)
    assert (status.engagement_count, status.last_engagement_on, status.open_follow_ups, status.overdue_follow_ups) == (
        0,
        None,
        0,
        0,
    )
    workforce = next(t for t in status.tracks if t["track"] == "workforce")
    assert workforce["last_engagement_on"] is None and workforce["overdue_follow_ups"] == 0
    # ... yet the meeting counts as activity and its overdue follow-up puts the track at risk.
    assert workforce["health"] == "at_risk"


def test_follow_up_takes_the_track_of_a_single_track_engagement(gb_partnership, gb_liaison):
    engagement = engagement_log(
        actor=gb_liaison,
        country=gb_partnership.country,
        occurred_on=_days(-1),
        kind="call",
        summary="Standards call",
        tracks=[factories.track("safety_standards")],
        follow_ups=[{"description": "Send the draft", "due_on": _days(-1)}],
    )
    follow_up = engagement.follow_ups.get()
    assert follow_up.track.key == "safety_standards"
    rollup_countries()
    assert CountryTrack.objects.get(country=gb_partnership.country, track__key="safety_standards").overdue_follow_ups == 1
    later = follow_up_create(
        actor=gb_liaison, country=gb_partnership.country, description="Chase", due_on=_days(3), engagement=engagement
    )
    assert later.track.key == "safety_standards"


def test_follow_up_update_reschedules_and_refuses_an_outside_owner(gb_partnership, gb_liaison, fr_liaison):
    follow_up = follow_up_create(actor=gb_liaison, country=gb_partnership.country, description="Call", due_on=_days(2))
    follow_up_update(actor=gb_liaison, follow_up=follow_up, due_on=_days(9), owner=gb_liaison)
    assert FollowUp.objects.get().due_on == _days(9)
    with pytest.raises(ValidationError) as err:
        follow_up_update(actor=gb_liaison, follow_up=follow_up, owner=fr_liaison)
    assert list(err.value.message_dict) == ["owner"]
    assert FollowUp.objects.get().owner == gb_liaison


def test_stages_of_an_inactive_track_cannot_move(gb_partnership, staff_user):
    track = factories.track("data_centres")
    track.is_active = False
    track.save()
    ct = CountryTrack.objects.get(country=gb_partnership.country, track=track)
    with pytest.raises(ValidationError, match="is no longer active"):
        country_track_move(actor=staff_user, country_track=ct, to_stage=factories.stage("data_centres", "exploring"))


def test_a_track_has_one_paused_and_one_withdrawn_state():
    stage = factories.stage("workforce", "implementing")
    stage.kind = Stage.Kind.PAUSED
    with pytest.raises(ValidationError):
        stage.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        stage.save()


def test_embargoed_announcement_stays_hidden_even_if_marked_published(viewer_user, gb_liaison):
    now = timezone.now()
    leaked = factories.AnnouncementFactory(
        title="Leaked",
        status=Announcement.Status.PUBLISHED,
        published_at=now - datetime.timedelta(hours=1),
        embargo_until=now + datetime.timedelta(days=10),
    )
    leaked.countries.set([factories.country("GB")])
    assert leaked not in announcement_list(user=viewer_user)
    assert leaked not in announcement_list(user=gb_liaison)


def test_admin_cannot_edit_announcements_and_publishes_only_through_the_service(client, staff_user):
    admin_user = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    embargoed = factories.AnnouncementFactory(
        title="Embargoed", status=Announcement.Status.SCHEDULED, embargo_until=timezone.now() + datetime.timedelta(days=3)
    )
    draft = factories.AnnouncementFactory(title="Ready")
    change = client.post(
        reverse("admin:announcements_announcement_change", args=[embargoed.pk]), {"title": "x", "status": "published"}
    )
    assert change.status_code == 403
    response = client.post(
        reverse("admin:announcements_announcement_changelist"),
        {"action": "publish_now", "_selected_action": [embargoed.pk, draft.pk]},
        follow=True,
    )
    html = response.content.decode()
    assert "under embargo until" in html and "Published: Ready" in html
    embargoed.refresh_from_db()
    draft.refresh_from_db()
    assert embargoed.status == Announcement.Status.SCHEDULED
    assert draft.status == Announcement.Status.PUBLISHED


def test_rule_bearing_rows_are_read_only_in_the_admin(client, gb_partnership):
    admin_user = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    engagement = factories.EngagementFactory(country=gb_partnership.country)
    assert client.get(reverse("admin:engagements_engagement_change", args=[engagement.pk])).status_code == 200
    refused = client.post(
        reverse("admin:engagements_engagement_change", args=[engagement.pk]),
        {"occurred_on": str(_days(30)), "summary": "future", "kind": "call", "country": engagement.country_id},
    )
    assert refused.status_code == 403
    engagement.refresh_from_db()
    assert engagement.summary == "Discussed the skills programme."
    assert client.get(reverse("admin:engagements_engagement_add")).status_code == 403


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("reference_data")
def test_two_concurrent_moves_one_wins_the_other_gets_a_clear_refusal(staff_user):
    needs_postgresql()
    partnership_create(actor=staff_user, country=factories.country("BR"))
    ct = CountryTrack.objects.get(country__iso2="BR", track__key="workforce")
    target = factories.stage("workforce", "exploring")
    barrier = threading.Barrier(2)
    results = []

    def move():
        from django.db import connections

        try:
            barrier.wait(timeout=10)
            country_track_move(actor=staff_user, country_track=CountryTrack.objects.get(pk=ct.pk), to_stage=target)
            results.append("moved")
        except ValidationError as exc:
            results.append(" ".join(exc.messages))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=move) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["The track is already at “Exploring”.", "moved"]
    assert ct.stage_changes.filter(to_stage=target).count() == 1
