"""Fault: the webhook queue is saturated (every receiver takes longer than the portal waits), and a rollup must not
wait behind it. Real workers, one per kind of work (core/queues.py), as the Procfile runs them: the dispatcher on
the notifications queue, deliveries on the webhooks queue, rollups on the rollups queue.

Four slow receivers keep the single webhook worker busy for a timeout each (about 20 s in all); an engagement
logged in another country meanwhile shows in that country's status within seconds, while deliveries are still
waiting for the webhook worker.
"""

import time

import pytest
from django.utils import timezone

from core.queues import kind_of, queue_name
from countries.models import CountryStatus
from engagements.services import engagement_log
from notifications import webhooks
from notifications.models import WebhookDelivery, WebhookEndpoint
from partnerships.services import partnership_create
from tests import factories

from .conftest import Receiver, Worker, celery_sends_to, report, wait_for

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("reference_data")]

SLOW_RECEIVERS = 4
SLOW_DELAY = webhooks.TIMEOUT_SECONDS + 7  # longer than the portal waits: each request costs a full timeout


def test_each_kind_of_work_has_its_queue():
    assert kind_of("partnerships.tasks.rollup_requested") == "rollups"
    assert kind_of("partnerships.tasks.rollup_all_countries") == "rollups"
    assert kind_of("notifications.tasks.deliver_webhook") == "webhooks"
    assert kind_of("notifications.tasks.send_email") == "notifications"
    assert kind_of("core.tasks.dispatch_event") == "notifications"
    assert kind_of("imports.tasks.run_import") == "documents"
    assert kind_of("imports.tasks.resume_stalled_imports") == "notifications"  # a sweep, not behind an import
    assert kind_of("partnerships.tasks.release_announcement") is None  # the default queue, as before the split
    assert queue_name("rollups", "celery") == "celery-rollups" and queue_name(None, "celery") == "celery"


def test_a_saturated_webhook_queue_does_not_delay_a_rollup(own_redis, queue, workers, receivers, tmp_path):
    staff = factories.staff(username="staff")
    gb_liaison, fr_liaison = factories.liaison("GB", username="gb-liaison"), factories.liaison("FR", username="fr-liaison")
    gb = partnership_create(actor=staff, country=factories.country("GB")).country
    fr = partnership_create(actor=staff, country=factories.country("FR")).country
    slow = [Receiver(f"slow-{n}", secret=f"s-{n}", delay=SLOW_DELAY) for n in range(SLOW_RECEIVERS)]
    receivers.extend(slow)
    for r in slow:
        WebhookEndpoint.objects.create(name=r.name, url=r.url, secret=r.secret, event_kinds=["engagement.logged"])

    for kind in ("notifications", "webhooks", "rollups"):
        worker = Worker(name=kind, broker_url=own_redis.url, queue=queue, tmp_path=tmp_path, pool="solo", kinds=[kind])
        workers.append(worker.start())
    with celery_sends_to(own_redis.url, queue):
        engagement_log(actor=gb_liaison, country=gb, occurred_on=timezone.localdate(), kind="call", summary="Busy day")
        # The webhook worker is now inside its first timeout, with the other slow deliveries queued behind it.
        assert wait_for(lambda: sum(len(r.hits) for r in slow) >= 1, timeout=30), "no delivery was attempted"
        started = time.monotonic()
        engagement_log(actor=fr_liaison, country=fr, occurred_on=timezone.localdate(), kind="visit", summary="Meanwhile")

        def fr_rolled_up():
            status = CountryStatus.objects.filter(country=fr).first()
            return status is not None and status.engagement_count == 1

        rolled_up = wait_for(fr_rolled_up, timeout=30, interval=0.2)
        seconds = round(time.monotonic() - started, 1)
        untried = WebhookDelivery.objects.filter(attempts=0, status=WebhookDelivery.Status.PENDING).count()
        line = report(
            "saturated webhook queue",
            {"fr_rollup_after_s": seconds, "slow_requests_so_far": sum(len(r.hits) for r in slow),
             "deliveries_not_yet_tried": untried, "timeout_s": webhooks.TIMEOUT_SECONDS},
        )  # fmt: skip
        assert rolled_up, line
        # Well within one webhook timeout: the rollup did not queue behind the deliveries, which are still waiting.
        assert seconds < webhooks.TIMEOUT_SECONDS, line
        assert untried >= 1, line
