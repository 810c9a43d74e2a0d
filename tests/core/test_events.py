"""The outbox: emit() writes a pending Event in the caller's transaction; it is dispatched after commit."""

import logging

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone

from core import catalogue, events, tasks
from core.events import dispatch, emit
from core.models import Event
from core.tasks import dispatch_pending_events
from countries.models import Counterpart, CountryStatus
from countries.services import counterpart_create
from engagements.services import engagement_log
from partnerships.models import RollupRequest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _test_event_kinds(monkeypatch):
    """The kinds these tests emit, declared as a module of the portal declares its own."""
    kinds = dict(catalogue.KINDS)
    for name in ("test.happened", "test.0", "test.1", "test.2"):
        kinds[name] = catalogue.EventKind(name, "countries.country", frozenset({"n"}), "A test event.")
    monkeypatch.setattr(catalogue, "KINDS", kinds)


def test_an_event_the_catalogue_does_not_describe_is_refused(gb):
    with pytest.raises(ValueError, match="Unknown event kind 'test.unheard_of'"):
        emit(kind="test.unheard_of", subject=gb)
    with pytest.raises(ValueError, match=r"undeclared payload fields \['secret'\]"):
        emit(kind="test.happened", subject=gb, payload={"n": 1, "secret": "x"})
    assert not Event.objects.exists()


def test_moved_models_keep_the_subject_type_webhook_receivers_know():
    from announcements.models import Announcement
    from engagements.models import Engagement, FollowUp
    from partnerships.models import CountryTrack

    assert [catalogue.subject_type(m) for m in (Engagement, FollowUp, Announcement, CountryTrack)] == [
        "partnerships.engagement",
        "partnerships.followup",
        "partnerships.announcement",
        "partnerships.countrytrack",
    ]


@pytest.fixture
def flaky_handler(request):
    """A handler that fails until told otherwise; removed from the registry after the test."""
    state = {"fail": True, "seen": []}

    def handler(event):
        state["seen"].append(event.pk)
        if state["fail"]:
            raise RuntimeError("mail server down")

    def remove():
        events._handlers[:] = [(name, h) for name, h in events._handlers if name != "tests.flaky"]

    request.addfinalizer(remove)
    events.register_handler("tests.flaky", handler)
    events.register_handler("tests.flaky", lambda event: None)  # registering a name twice keeps the first
    return state


def test_emit_writes_a_pending_event(gb, staff_user):
    event = emit(kind="test.happened", subject=gb, actor=staff_user, country_id=gb.pk, payload={"n": 1})

    row = Event.objects.get()
    assert row.pk == event.pk
    assert (row.kind, row.subject_type, row.subject_id, row.country_id, row.actor_id, row.payload) == (
        "test.happened",
        "countries.country",
        str(gb.pk),
        gb.pk,
        staff_user.pk,
        {"n": 1},
    )
    assert (row.state, row.attempts, row.dispatched_at, row.last_error) == ("pending", 0, None, "")


def test_an_anonymous_actor_is_not_recorded(gb):
    emit(kind="test.happened", subject=gb, actor=AnonymousUser())
    assert Event.objects.values_list("actor_id", "country_id", "payload").get() == (None, None, {})


def dispatches(callbacks) -> list:
    """The after-commit callbacks that hand work on, without the ones that drop a cached version."""
    return [c for c in callbacks if not c.__qualname__.startswith("changed.")]  # core.versions.changed


def test_after_commit_the_event_is_dispatched_and_the_country_rolled_up(
    gb_partnership, gb_liaison, django_capture_on_commit_callbacks
):
    gb = gb_partnership.country
    assert not CountryStatus.objects.filter(country=gb).exists()  # the fixture's events were never committed

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        engagement_log(actor=gb_liaison, country=gb, occurred_on=timezone.localdate(), kind="call", summary="Kick-off")
        assert Event.objects.get(kind="engagement.logged").state == "pending"  # not before commit

    # The dispatch of the event, then the (coalesced) rollup that the dispatch requested; besides those, the
    # rollup drops the cached status version after its commit.
    assert len(dispatches(callbacks)) == 2
    assert not RollupRequest.objects.exists()
    event = Event.objects.get(kind="engagement.logged")
    assert (event.state, event.attempts, event.last_error, event.country_id, event.actor_id) == (
        "dispatched",
        1,
        "",
        gb.pk,
        gb_liaison.pk,
    )
    assert event.dispatched_at is not None
    status = CountryStatus.objects.get(country=gb)
    assert (status.engagement_count, status.last_engagement_on) == (1, timezone.localdate())
    assert Event.objects.get(kind="partnership.created").state == "pending"


def test_an_event_of_a_rolled_back_transaction_is_neither_written_nor_dispatched(gb, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        emit(kind="test.happened", subject=gb, country_id=gb.pk)
        raise RuntimeError("the service failed after emitting")

    assert callbacks == []
    assert Event.objects.count() == 0


def test_dispatch_runs_once(gb):
    event = emit(kind="test.happened", subject=gb)

    assert dispatch(event.pk) is True
    assert dispatch(event.pk) is False

    row = Event.objects.get()
    assert (row.state, row.attempts) == ("dispatched", 1)
    assert dispatch(event.pk + 1000) is False


def test_a_failing_handler_leaves_the_event_pending_until_the_sweep(
    gb_partnership, flaky_handler, django_capture_on_commit_callbacks
):
    gb = gb_partnership.country
    with django_capture_on_commit_callbacks(execute=True):
        event = emit(kind="test.happened", subject=gb, country_id=gb.pk)

    row = Event.objects.get(pk=event.pk)
    assert (row.state, row.attempts, row.last_error, row.dispatched_at) == ("pending", 1, "tests.flaky: mail server down", None)
    assert flaky_handler["seen"] == [event.pk]
    # The rollup handler ran first, but its work was rolled back with the failed dispatch.
    assert not CountryStatus.objects.filter(country=gb).exists()

    with pytest.raises(RuntimeError, match="mail server down"):
        dispatch(event.pk)
    assert Event.objects.get(pk=event.pk).attempts == 2
    assert dispatch_pending_events() == 0  # the sweep swallows the failures and carries on

    flaky_handler["fail"] = False
    with django_capture_on_commit_callbacks(execute=True):  # the rollup the dispatch requests runs after commit
        assert dispatch_pending_events() == 2  # this event and the partnership's, which was never committed

    row = Event.objects.get(pk=event.pk)
    assert (row.state, row.attempts, row.last_error) == (
        "dispatched",
        4,
        "",
    )  # commit, direct dispatch, failed sweep, successful sweep
    assert CountryStatus.objects.filter(country=gb).exists()
    assert dispatch_pending_events() == 0


def test_the_sweep_takes_the_oldest_first_up_to_its_limit(gb):
    first, second, third = (emit(kind=f"test.{n}", subject=gb) for n in range(3))

    assert dispatch_pending_events(limit=2) == 2

    assert dict(Event.objects.values_list("pk", "state")) == {
        first.pk: "dispatched",
        second.pk: "dispatched",
        third.pk: "pending",
    }


def test_a_broker_outage_does_not_break_the_write(gb, gb_liaison, monkeypatch, caplog, django_capture_on_commit_callbacks):
    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(tasks.dispatch_event, "apply_async", broker_down)

    with caplog.at_level(logging.WARNING, logger="core.broker"), django_capture_on_commit_callbacks(execute=True) as callbacks:
        counterpart = counterpart_create(actor=gb_liaison, country=gb, name="Grace Hopper")

    assert len(dispatches(callbacks)) == 1
    assert Counterpart.objects.get().pk == counterpart.pk
    event = Event.objects.get(kind="counterpart.created")
    assert (event.state, event.attempts) == ("pending", 0)
    assert "Broker unreachable (redis is down)" in caplog.text

    monkeypatch.undo()
    assert dispatch_pending_events() == 1
    assert Event.objects.get(pk=event.pk).state == "dispatched"


def test_an_event_that_keeps_failing_is_marked_failed_and_left_alone(gb, flaky_handler):
    from core.events import MAX_ATTEMPTS

    event = emit(kind="test.happened", subject=gb, country_id=gb.pk)
    for _ in range(MAX_ATTEMPTS):
        dispatch_pending_events()
    row = Event.objects.get(pk=event.pk)
    assert (row.state, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert dispatch_pending_events() == 0
    assert Event.objects.get(pk=event.pk).attempts == MAX_ATTEMPTS


# --- the embedded default: tasks in-process, no worker and no beat -------------------------------------------------


@pytest.fixture
def locked_database_handler(request, monkeypatch):
    """A handler that fails as SQLite does while another write holds the database, ``times`` times, then works."""
    from django.db import OperationalError

    monkeypatch.setattr(events, "IN_PROCESS_RETRY_DELAYS", (0, 0, 0))
    state = {"times": 1, "calls": 0}

    def handler(event):
        state["calls"] += 1
        if state["calls"] <= state["times"]:
            raise OperationalError("database is locked")

    request.addfinalizer(
        lambda: events._handlers.__setitem__(slice(None), [h for h in events._handlers if h[0] != "tests.locked"])
    )
    events.register_handler("tests.locked", handler)
    return state


def test_in_process_a_dispatch_refused_by_a_locked_database_is_retried(
    gb, locked_database_handler, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        event = emit(kind="test.happened", subject=gb, country_id=gb.pk)

    row = Event.objects.get(pk=event.pk)
    assert (row.state, row.attempts, row.last_error) == ("dispatched", 2, "")
    assert locked_database_handler["calls"] == 2


def test_in_process_an_event_left_pending_is_dispatched_by_a_later_hand_off(
    gb, locked_database_handler, django_capture_on_commit_callbacks, caplog
):
    locked_database_handler["times"] = 4  # longer than the retries: the first hand-off gives up
    with caplog.at_level(logging.WARNING, logger="core.events"), django_capture_on_commit_callbacks(execute=True):
        stuck = emit(kind="test.happened", subject=gb, country_id=gb.pk)
    assert Event.objects.get(pk=stuck.pk).state == "pending"
    assert "the next hand-off retries it" in caplog.text

    # Too recent for the sweep (its own hand-off may still be running): the next write leaves it alone...
    with django_capture_on_commit_callbacks(execute=True):
        emit(kind="test.0", subject=gb)
    assert Event.objects.get(pk=stuck.pk).state == "pending"

    # ...once older than IN_PROCESS_SWEEP_AFTER, the next write's hand-off dispatches it, without any beat.
    Event.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - events.IN_PROCESS_SWEEP_AFTER)
    with django_capture_on_commit_callbacks(execute=True):
        emit(kind="test.1", subject=gb)
    assert Event.objects.get(pk=stuck.pk).state == "dispatched"


def test_with_a_worker_the_hand_off_does_not_sweep(gb, settings, django_capture_on_commit_callbacks, monkeypatch):
    from config.celery import app

    old = emit(kind="test.happened", subject=gb)
    Event.objects.filter(pk=old.pk).update(created_at=timezone.now() - events.IN_PROCESS_SWEEP_AFTER * 2)
    monkeypatch.setattr(tasks.dispatch_event, "apply_async", lambda *args, **kwargs: None)  # handed to the broker
    app.conf.task_always_eager = False
    with django_capture_on_commit_callbacks(execute=True):
        emit(kind="test.0", subject=gb)
    assert Event.objects.get(pk=old.pk).state == "pending"  # the beat's sweep is the worker's job
