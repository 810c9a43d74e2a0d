"""Fault: one webhook receiver is slow (it answers after longer than the portal's timeout), another fails (HTTP 500);
a third is fast. A real worker (prefork, two processes, as in the Procfile) delivers engagements to all three.

The fast receiver must get every delivery promptly - well before the slow receiver would even have answered one -
and exactly once; the slow and failing deliveries are recorded as pending with a retry time (back-off), not
retried in a loop and not holding the worker. When both receivers recover and their retry time has come, the
delivery sweep sends each of their deliveries once.
"""

import datetime
import time
from collections import Counter

import pytest
from django.utils import timezone

from config.celery import app
from engagements.services import engagement_log
from notifications import webhooks
from notifications.models import WebhookDelivery, WebhookEndpoint
from partnerships.services import partnership_create
from tests import factories

from .conftest import Receiver, Worker, celery_sends_to, report, wait_for

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("reference_data")]

N = 8
CONCURRENCY = 2
SLOW_DELAY = 12.0  # seconds the slow receiver takes to answer: longer than the portal waits


def _rows(endpoint):
    return WebhookDelivery.objects.filter(endpoint=endpoint)


def _summary(endpoint, receiver):
    rows = _rows(endpoint)
    requested_at = {hit["delivery"]: hit["wall"] for hit in receiver.hits}  # the latest request of each delivery
    backoff = [
        row.next_attempt_at.timestamp() - requested_at[str(row.pk)]
        for row in rows
        if row.next_attempt_at and row.attempts and str(row.pk) in requested_at
    ]
    return {
        "rows": rows.count(),
        "delivered": rows.filter(status=WebhookDelivery.Status.DELIVERED).count(),
        "pending": rows.filter(status=WebhookDelivery.Status.PENDING).count(),
        "attempts": dict(Counter(rows.values_list("attempts", flat=True))),
        "requests_received": len(receiver.hits),
        "put_off": rows.filter(attempts=0, next_attempt_at__isnull=False).count(),
        # Seconds from each attempt's request to the retry it was given (30 s back-off, plus the timeout if it had one).
        "retry_after_request_s": (round(min(backoff)), round(max(backoff))) if backoff else None,
        "errors": sorted({row.last_error[:40] for row in rows if row.last_error}),
    }


def test_a_slow_and_a_failing_receiver_do_not_hold_up_a_fast_one(own_redis, queue, workers, receivers, tmp_path):
    assert webhooks.TIMEOUT_SECONDS <= 10 < SLOW_DELAY  # a short timeout, and a receiver slower than it
    staff = factories.staff(username="staff")
    liaison = factories.liaison("GB", username="gb-liaison")
    gb = partnership_create(actor=staff, country=factories.country("GB")).country
    fast = Receiver("fast", secret="s-fast")
    slow = Receiver("slow", secret="s-slow", delay=SLOW_DELAY)
    failing = Receiver("failing", secret="s-failing", status=500)
    receivers.extend([fast, slow, failing])
    endpoints = {
        r.name: WebhookEndpoint.objects.create(name=r.name, url=r.url, secret=r.secret, event_kinds=["engagement.logged"])
        for r in (slow, failing, fast)
    }

    worker = Worker(name="w", broker_url=own_redis.url, queue=queue, tmp_path=tmp_path, concurrency=CONCURRENCY).start()
    workers.append(worker)
    with celery_sends_to(own_redis.url, queue):
        started = time.monotonic()
        for i in range(N):
            engagement_log(actor=liaison, country=gb, occurred_on=timezone.localdate(), kind="call", summary=f"Call {i}")

        wait_for(lambda: len(set(fast.deliveries())) == N, timeout=40)
        fast_seconds = round(max(hit["at"] for hit in fast.hits) - started, 1) if len(set(fast.deliveries())) == N else None

        def settled():
            # Every slow and failing delivery was tried or put off: none is left without a retry time.
            others = WebhookDelivery.objects.filter(endpoint__name__in=["slow", "failing"])
            return others.count() == 2 * N and not others.filter(next_attempt_at__isnull=True).exists()

        settled_in_time = wait_for(settled, timeout=40)
        settled_seconds = round(time.monotonic() - started, 1)
        figures = {name: _summary(endpoints[name], r) for name, r in (("fast", fast), ("slow", slow), ("failing", failing))}
        line = report(
            "slow and failing receivers",
            {"events": N, "fast_all_delivered_after_s": fast_seconds, "all_settled_after_s": settled_seconds, **figures},
        )
        assert settled_in_time, line

        # The fast receiver got all N, once each, signed, before the slow receiver could have answered even one.
        assert fast_seconds is not None and fast_seconds < SLOW_DELAY, line
        assert sorted(fast.deliveries()) == sorted(str(pk) for pk in _rows(endpoints["fast"]).values_list("pk", flat=True))
        assert all(hit["signed"] for hit in fast.hits), line
        assert figures["fast"]["delivered"] == N and figures["fast"]["attempts"] == {1: N}, line
        # The failing receiver: each delivery tried once, answered 500, waiting for its retry in about 30 s.
        assert figures["failing"]["pending"] == N and figures["failing"]["attempts"] == {1: N}, line
        assert figures["failing"]["requests_received"] == N and figures["failing"]["errors"] == ["HTTP 500"], line
        assert 28 <= figures["failing"]["retry_after_request_s"][0] <= figures["failing"]["retry_after_request_s"][1] <= 32, line
        # The slow receiver: pending, to be retried after a back-off; it cost at most one timeout per worker process,
        # not one per delivery: its other deliveries wait for its next attempt without a request of their own.
        assert figures["slow"]["pending"] == N and figures["slow"]["requests_received"] <= CONCURRENCY, line
        assert figures["slow"]["put_off"] == N - figures["slow"]["requests_received"], line
        assert 33 <= figures["slow"]["retry_after_request_s"][0] <= figures["slow"]["retry_after_request_s"][1] <= 37, line
        assert not WebhookDelivery.objects.filter(endpoint__name="slow", next_attempt_at__lt=timezone.now()).exists(), line
        assert any("timed out" in error for error in figures["slow"]["errors"]), line

        # Later: both receivers recover and their retry time comes; the beat's delivery sweep sends the rest, once.
        slow.delay, failing.status = 0, 200
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).update(
            next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
        )
        app.send_task("notifications.tasks.send_pending_deliveries")
        delivered = wait_for(lambda: not WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.DELIVERED).exists())
        figures = {name: _summary(endpoints[name], r) for name, r in (("fast", fast), ("slow", slow), ("failing", failing))}
        # 2xx answers the portal waited for (the slow receiver's first answers came after it had hung up).
        ok_per_delivery = {
            r.name: dict(
                Counter(
                    Counter(
                        hit["delivery"] for hit in r.hits if hit["answered"] == 200 and hit["delay"] < webhooks.TIMEOUT_SECONDS
                    ).values()
                )
            )
            for r in (fast, slow, failing)
        }
        line = report("after the receivers recovered", {**figures, "2xx_answers_per_delivery": ok_per_delivery})
        assert delivered, line + "\n" + worker.log()[-4000:]
        # Every delivery of every endpoint was answered 2xx exactly once.
        assert ok_per_delivery == {"fast": {1: N}, "slow": {1: N}, "failing": {1: N}}, line
        assert all(hit["signed"] for r in (fast, slow, failing) for hit in r.hits), line


# --- the two fixes, each on its own (in-process, no worker) ------------------------------------------------------


def _pending_events(n, actor, country, monkeypatch):
    """``n`` engagement events left pending (the broker "down"), so that the test makes the deliveries itself."""
    from core import broker
    from core.models import Event

    monkeypatch.setattr(broker, "_down_until", time.monotonic() + 600)
    for i in range(n):
        engagement_log(actor=actor, country=country, occurred_on=timezone.localdate(), kind="call", summary=f"Call {i}")
    monkeypatch.setattr(broker, "_down_until", 0.0)
    return list(Event.objects.filter(kind="engagement.logged").order_by("id"))


def test_a_delivery_in_flight_locks_only_its_own_row(receivers, monkeypatch):
    """While one delivery of an event waits on a slow receiver, the event's delivery to another endpoint goes out at
    once. (Before the fix FOR UPDATE also locked the joined event and endpoint rows, and the other delivery, finding
    them locked, was skipped and left for the sweep.)"""
    import threading

    from django.db import connection

    from notifications.tasks import deliver_webhook
    from tests.conftest import needs_postgresql

    needs_postgresql()
    staff, liaison = factories.staff(username="staff"), factories.liaison("GB", username="gb-liaison")
    gb = partnership_create(actor=staff, country=factories.country("GB")).country
    slow, fast = Receiver("slow", secret="a", delay=2.0), Receiver("fast", secret="b")
    receivers.extend([slow, fast])
    (event,) = _pending_events(1, liaison, gb, monkeypatch)
    endpoints = [WebhookEndpoint.objects.create(name=r.name, url=r.url, secret=r.secret) for r in (slow, fast)]
    to_slow, to_fast = (WebhookDelivery.objects.create(endpoint=endpoint, event=event) for endpoint in endpoints)

    def in_flight():
        try:
            deliver_webhook(to_slow.pk)
        finally:
            connection.close()

    thread = threading.Thread(target=in_flight)
    thread.start()
    assert wait_for(lambda: len(slow.hits) == 1, timeout=10)  # the slow POST holds its row lock from now on
    started = time.monotonic()
    sent = deliver_webhook(to_fast.pk)
    seconds = round(time.monotonic() - started, 2)
    thread.join(timeout=15)
    line = report("a delivery while another of its event is in flight", {"sent": sent, "seconds": seconds})
    assert sent is True and len(fast.hits) == 1, line
    assert seconds < slow.delay, line
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}, line


def test_an_endpoint_that_does_not_answer_puts_off_its_other_deliveries_until_its_retry(receivers, monkeypatch):
    """One timeout per back-off period, not one per delivery; a receiver that answers (even 500) is tried each time."""
    import time_machine

    from notifications.tasks import deliver_webhook

    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.5)
    staff, liaison = factories.staff(username="staff"), factories.liaison("GB", username="gb-liaison")
    gb = partnership_create(actor=staff, country=factories.country("GB")).country
    slow, failing = Receiver("slow", secret="a", delay=2.0), Receiver("failing", secret="b", status=500)
    receivers.extend([slow, failing])
    events = _pending_events(3, liaison, gb, monkeypatch)
    slow_endpoint = WebhookEndpoint.objects.create(name="slow", url=slow.url, secret="a")
    failing_endpoint = WebhookEndpoint.objects.create(name="failing", url=failing.url, secret="b")
    to_slow = [WebhookDelivery.objects.create(endpoint=slow_endpoint, event=e) for e in events]
    to_failing = [WebhookDelivery.objects.create(endpoint=failing_endpoint, event=e) for e in events]

    for delivery in to_slow + to_failing:
        deliver_webhook(delivery.pk)
    first, *others = (WebhookDelivery.objects.get(pk=d.pk) for d in to_slow)
    figures = {
        "slow_requests": len(slow.hits),
        "failing_requests": len(failing.hits),
        "slow_attempts": [first.attempts] + [d.attempts for d in others],
    }
    line = report("an endpoint that does not answer", figures)
    assert figures == {"slow_requests": 1, "failing_requests": 3, "slow_attempts": [1, 0, 0]}, line
    assert first.response_status is None and "timed out" in first.last_error, line
    for delivery in others:
        assert delivery.next_attempt_at == first.next_attempt_at + datetime.timedelta(seconds=1), line
        assert delivery.last_error.startswith(f"Not sent: the endpoint did not answer delivery {first.pk}"), line

    # The retry time comes and the receiver is quick again: the first goes out, then the ones put off.
    slow.delay = 0
    with time_machine.travel(first.next_attempt_at + datetime.timedelta(seconds=0.1)):
        assert deliver_webhook(first.pk) is True
    with time_machine.travel(first.next_attempt_at + datetime.timedelta(seconds=2)):
        assert [deliver_webhook(d.pk) for d in others] == [True, True]
    assert len(slow.hits) == 1 + 3
    assert WebhookDelivery.objects.filter(endpoint=slow_endpoint, status="delivered").count() == 3


def test_two_unanswered_deliveries_of_one_endpoint_do_not_put_each_other_off(receivers, monkeypatch):
    """Each delivery that went unanswered is retried at its own time, so both get on towards delivery or failure."""
    import time_machine

    from notifications.tasks import deliver_webhook

    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.5)
    staff, liaison = factories.staff(username="staff"), factories.liaison("GB", username="gb-liaison")
    gb = partnership_create(actor=staff, country=factories.country("GB")).country
    slow = Receiver("slow", secret="a", delay=2.0)
    receivers.append(slow)
    endpoint = WebhookEndpoint.objects.create(name="slow", url=slow.url, secret="a")
    first, second = (
        WebhookDelivery.objects.create(endpoint=endpoint, event=e) for e in _pending_events(2, liaison, gb, monkeypatch)
    )
    now = timezone.now()
    for delivery, retry_in in ((first, 30), (second, 40)):  # both tried once already, neither answered
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            attempts=1, response_status=None, last_error="timed out", next_attempt_at=now + datetime.timedelta(seconds=retry_in)
        )
    slow.delay = 0
    with time_machine.travel(now + datetime.timedelta(seconds=31)):
        assert deliver_webhook(first.pk) is True  # not put off behind the second's retry
    with time_machine.travel(now + datetime.timedelta(seconds=41)):
        assert deliver_webhook(second.pk) is True
    assert len(slow.hits) == 2
