"""Many events for one country in a burst ask for one rollup (a RollupRequest row per country); one run takes them all."""

import pytest
from django.db import transaction
from django.utils import timezone

from core.events import dispatch
from core.models import Event
from countries.models import CountryStatus
from engagements.services import engagement_log, follow_up_create
from partnerships.models import RollupRequest
from partnerships.rollup import run_requested_rollups
from partnerships.services import partnership_create
from tests import factories

from .support import move

pytestmark = pytest.mark.django_db


def _burst(staff_user, gb, capture):
    """Several GB events in one transaction; returns the on-commit dispatches, not yet run."""
    with capture(execute=False) as dispatches, transaction.atomic():
        move(staff_user, gb, "exploring")
        move(staff_user, gb, "exploring", track_key="data_centres")
        for summary in ("Kick-off", "Follow-up call"):
            engagement_log(actor=staff_user, country=gb, occurred_on=timezone.localdate(), kind="call", summary=summary)
        follow_up_create(actor=staff_user, country=gb, description="Send the memo", due_on=timezone.localdate())
    return dispatches


def test_several_events_for_one_country_make_one_rollup_request(gb_partnership, staff_user, django_capture_on_commit_callbacks):
    gb = gb_partnership.country
    dispatches = _burst(staff_user, gb, django_capture_on_commit_callbacks)
    assert len(dispatches) == 5

    # Dispatch every event (as the worker would), but hold back the rollup task they enqueue after commit.
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        for callback in dispatches:
            callback()
        dispatch(Event.objects.get(kind="partnership.created").pk)

    assert Event.objects.filter(state="pending").count() == 0
    assert list(RollupRequest.objects.values_list("country_id", flat=True)) == [gb.pk]
    assert not CountryStatus.objects.filter(country=gb).exists()
    assert len([cb for cb in enqueued if cb.__name__ == "enqueue_requested_rollups"]) == 6  # each asks; the table coalesces

    assert run_requested_rollups() == 1

    assert not RollupRequest.objects.exists()
    status = CountryStatus.objects.get(country=gb)
    assert (status.engagement_count, status.open_follow_ups, status.furthest_stage_key) == (2, 1, "exploring")
    assert run_requested_rollups() == 0


def test_one_run_takes_every_requested_country(gb_partnership, staff_user, django_capture_on_commit_callbacks):
    gb = gb_partnership.country
    fr = partnership_create(actor=staff_user, country=factories.country("FR")).country
    with django_capture_on_commit_callbacks(execute=False) as dispatches:
        move(staff_user, gb, "exploring")
        move(staff_user, fr, "exploring")
        move(staff_user, fr, "negotiating")
    with django_capture_on_commit_callbacks(execute=False):
        for callback in dispatches:
            callback()

    assert sorted(RollupRequest.objects.values_list("country_id", flat=True)) == sorted([gb.pk, fr.pk])
    assert run_requested_rollups() == 2
    assert CountryStatus.objects.get(country=fr).furthest_stage_key == "negotiating"
    assert CountryStatus.objects.get(country=gb).furthest_stage_key == "exploring"
    assert run_requested_rollups() == 0


def test_with_eager_tasks_the_burst_ends_rolled_up_with_the_table_empty(
    gb_partnership, staff_user, django_capture_on_commit_callbacks
):
    gb = gb_partnership.country
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for summary in ("Kick-off", "Follow-up call", "Debrief"):
            engagement_log(actor=staff_user, country=gb, occurred_on=timezone.localdate(), kind="call", summary=summary)

    assert not RollupRequest.objects.exists()
    assert CountryStatus.objects.get(country=gb).engagement_count == 3
    assert run_requested_rollups() == 0


def test_events_of_countries_outside_the_programme_and_of_the_rollup_itself_request_nothing(
    gb_partnership, staff_user, django_capture_on_commit_callbacks
):
    from partnerships.rollup import handle_event

    germany = factories.country("DE")
    for kind in ("counterpart.created", "track.health_changed", "follow_up.reminder"):
        country = germany if kind == "counterpart.created" else gb_partnership.country
        handle_event(Event.objects.create(kind=kind, subject_type="countries.country", subject_id="1", country_id=country.pk))

    assert not RollupRequest.objects.exists()
