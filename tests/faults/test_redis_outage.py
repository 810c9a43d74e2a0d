"""Fault: Redis (the Celery broker) stops while a liaison posts engagements through the API.

Every POST is still a 201 and every engagement is saved with its outbox event; nothing reaches a worker while
Redis is down. When Redis is back, the worker (which ran all along) reconnects and the beat's sweeps deliver
every inbox row, e-mail and webhook exactly once, and the status rollup counts every engagement. A second round
of sweeps changes nothing.
"""

import datetime
import time

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from config.celery import app
from core import broker
from core.models import Event
from core.services import api_token_create
from countries.models import CountryStatus
from engagements.models import Engagement
from notifications.models import EmailDelivery, Notification, Preference, Subscription, WebhookDelivery, WebhookEndpoint
from partnerships.services import partnership_create
from tests import factories

from .conftest import Receiver, Worker, celery_sends_to, report, wait_for

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("reference_data")]

N = 20
SECRET = "outage-secret"


def _beat_tick():
    """What celery beat sends every minute: the outbox sweep, the requested rollups and the delivery sweep."""
    for name in (
        "core.tasks.dispatch_pending_events",
        "partnerships.tasks.rollup_requested",
        "notifications.tasks.send_pending_deliveries",
    ):
        app.send_task(name)


def test_engagements_posted_while_redis_is_down_are_all_delivered_once_when_it_returns(
    own_redis, queue, workers, receivers, tmp_path
):
    # Set-up, with tasks still run in-process: the programme, a follower who wants one e-mail per notification,
    # a webhook endpoint, and the liaison's API token.
    staff = factories.staff(username="staff")
    liaison = factories.liaison("GB", username="gb-liaison")
    follower = factories.viewer(username="follower", email="follower@example.org")
    Subscription.objects.create(user=follower, scope=Subscription.Scope.COUNTRY, country=factories.country("GB"))
    Preference.objects.create(user=follower, email_frequency=Preference.Frequency.IMMEDIATE)
    gb = partnership_create(actor=staff, country=factories.country("GB")).country
    receiver = Receiver("ministry", secret=SECRET)
    receivers.append(receiver)
    WebhookEndpoint.objects.create(name="ministry", url=receiver.url, secret=SECRET, event_kinds=["engagement.logged"])
    _token, secret = api_token_create(actor=liaison, user=liaison, name="ministry sync", days=30)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    events_before = Event.objects.count()

    worker = Worker(name="w", broker_url=own_redis.url, queue=queue, tmp_path=tmp_path).start()
    workers.append(worker)
    with celery_sends_to(own_redis.url, queue):
        own_redis.stop()  # the fault

        started = time.monotonic()
        statuses = []
        for i in range(N):
            body = {
                "country": "gb",
                "occurred_on": (timezone.localdate() - datetime.timedelta(days=i % 5)).isoformat(),
                "kind": "call",
                "summary": f"Call {i} while Redis is down",
                "tracks": ["workforce"],
            }
            statuses.append(api.post("/api/v1/engagements/", body, format="json").status_code)
        elapsed = time.monotonic() - started

        during = {
            "posted": N,
            "answered_201": statuses.count(201),
            "engagements_saved": Engagement.objects.filter(country=gb).count(),
            "events_pending": Event.objects.filter(state=Event.State.PENDING, kind="engagement.logged").count(),
            "inbox_rows": Notification.objects.filter(user=follower).count(),
            "emails_sent": len(worker.mails()),
            "webhook_posts": len(receiver.hits),
            "seconds_for_all_posts": round(elapsed, 1),
        }
        line = report("redis down", during)
        assert statuses == [201] * N, line
        assert during["engagements_saved"] == during["events_pending"] == N, line
        assert (during["inbox_rows"], during["emails_sent"], during["webhook_posts"]) == (0, 0, 0), line
        assert broker.broker_seems_down(), line
        # One failed hand-over costs the Redis client's own retries; the rest do not even try (generous bound).
        assert elapsed < 20, line

        own_redis.start()  # Redis is back, on the same port
        # The worker reconnects by itself; beat (here: the test, sending what beat sends) runs the sweeps.
        back = time.monotonic()
        _beat_tick()

        def delivered():
            return (
                Event.objects.filter(kind="engagement.logged", state=Event.State.DISPATCHED).count() == N
                and EmailDelivery.objects.filter(status=EmailDelivery.Status.SENT).count() == N
                and len(set(receiver.deliveries())) == N
                and CountryStatus.objects.filter(country=gb, engagement_count=N).exists()
            )

        recovered = wait_for(delivered, timeout=60, interval=0.25)
        seconds_to_deliver = round(time.monotonic() - back, 1)

        def figures():
            return {
                "events_dispatched": Event.objects.filter(kind="engagement.logged", state=Event.State.DISPATCHED).count(),
                "events_pending": Event.objects.filter(state=Event.State.PENDING).count(),
                "event_attempts": sorted(set(Event.objects.filter(kind="engagement.logged").values_list("attempts", flat=True))),
                "inbox_rows": Notification.objects.filter(user=follower).count(),
                "emails_sent_rows": EmailDelivery.objects.filter(status=EmailDelivery.Status.SENT).count(),
                "emails_sent": len(worker.mails()),
                "emails_distinct": len(set(worker.mails())),
                "webhook_posts": len(receiver.hits),
                "webhook_distinct_deliveries": len(set(receiver.deliveries())),
                "webhook_rows_delivered": WebhookDelivery.objects.filter(status=WebhookDelivery.Status.DELIVERED).count(),
                "signatures_valid": sum(hit["signed"] for hit in receiver.hits),
                "status_engagement_count": CountryStatus.objects.get(country=gb).engagement_count
                if CountryStatus.objects.filter(country=gb).exists()
                else None,
            }

        after = {**figures(), "seconds_from_redis_back_to_all_delivered": seconds_to_deliver}
        line = report("redis back", after)
        assert recovered, line + "\nworker log:\n" + worker.log()[-4000:]

        # A second beat tick (an overlapping beat, a redelivered sweep) must change nothing.
        _beat_tick()

        def succeeded(task_name):
            return sum(1 for row in worker.log().splitlines() if f"{task_name}[" in row and " succeeded " in row)

        sweeps = ("core.tasks.dispatch_pending_events", "notifications.tasks.send_pending_deliveries")
        assert wait_for(lambda: all(succeeded(name) >= 2 for name in sweeps), timeout=30), worker.log()[-4000:]
        again = figures()
        line = report("after a second beat tick", again)
        expected = {
            "events_dispatched": N,
            "events_pending": 0,
            "event_attempts": [1],
            "inbox_rows": N,
            "emails_sent_rows": N,
            "emails_sent": N,
            "emails_distinct": N,
            "webhook_posts": N,
            "webhook_distinct_deliveries": N,
            "webhook_rows_delivered": N,
            "signatures_valid": N,
            "status_engagement_count": N,
        }
        assert again == expected, line
        # Every event of the set-up was dispatched before the fault; the outage added exactly N.
        assert Event.objects.count() == events_before + N, line


def test_a_broker_that_refuses_connections_costs_a_request_no_wait():
    """The first hand-over to a broker that is down fails at once (kombu used to try again for 2 s, which the request
    waited, and which wrk counted as an error in the bench); the next ones do not even try."""
    from core.tasks import dispatch_event

    with celery_sends_to("redis://127.0.0.1:9/0", "unused"):  # nothing listens on port 9
        started = time.monotonic()
        handed = broker.safe_enqueue(dispatch_event, args=[0])
        first = time.monotonic() - started
        assert handed is False and broker.broker_seems_down()
    assert first < 0.5, f"the first failed hand-over took {first:.2f} s"
