"""Webhooks against real HTTP receivers on loopback: signed bodies, retries with back-off, and a failing or
slow endpoint that holds up nobody else."""

import datetime
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.utils import timezone

from engagements.services import engagement_log
from notifications import webhooks
from notifications.models import WebhookDelivery, WebhookEndpoint
from notifications.tasks import deliver_webhook, send_pending_deliveries
from partnerships.models import CountryTrack
from partnerships.services import country_track_move
from tests import factories

pytestmark = pytest.mark.django_db


class Receiver:
    """A loopback HTTP server that records what it receives and answers with a chosen status (or stalls)."""

    def __init__(self, status=200, delay=0.0):
        self.status, self.delay, self.requests = status, delay, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                time.sleep(receiver.delay)
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers():
    made = []

    def make(**kwargs):
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


@pytest.fixture
def moved(gb_partnership, gb_liaison, django_capture_on_commit_callbacks):
    def move():
        ct = CountryTrack.objects.get(country=gb_partnership.country, track__key="workforce")
        with django_capture_on_commit_callbacks(execute=True):
            country_track_move(actor=gb_liaison, country_track=ct, to_stage=factories.stage("workforce", "exploring"))

    return move


def test_delivery_is_signed_and_the_signature_verifies(receivers, moved):
    receiver = receivers()
    endpoint = WebhookEndpoint.objects.create(name="Ministry", url=receiver.url, secret="s3cret", event_kinds=["stage.moved"])
    moved()
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    body = json.loads(request["body"])
    assert body["kind"] == "stage.moved" and body["country"] == "GB"
    assert body["payload"]["from"] == "not_started" and body["payload"]["to"] == "exploring"
    assert request["headers"]["X-Portal-Event"] == "stage.moved"
    signature = request["headers"]["X-Portal-Signature"]
    assert webhooks.verify("s3cret", request["body"], signature)
    assert not webhooks.verify("wrong secret", request["body"], signature)
    assert not webhooks.verify("s3cret", request["body"] + b" ", signature)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 1, 200)
    # Delivered once: running the task again sends nothing.
    assert deliver_webhook(delivery.pk) is False
    assert len(receiver.requests) == 1


def test_only_the_kinds_asked_for_and_nothing_confidential(
    receivers, gb_partnership, gb_liaison, django_capture_on_commit_callbacks
):
    receiver = receivers()
    WebhookEndpoint.objects.create(name="Everything", url=receiver.url, secret="k", event_kinds=[])
    WebhookEndpoint.objects.create(name="Moves only", url=receiver.url, secret="k", event_kinds=["stage.moved"])
    with django_capture_on_commit_callbacks(execute=True):
        engagement_log(
            actor=gb_liaison, country=gb_partnership.country, occurred_on=timezone.localdate(), kind="call", summary="Open call"
        )
        engagement_log(
            actor=gb_liaison,
            country=gb_partnership.country,
            occurred_on=timezone.localdate(),
            kind="call",
            summary="Secret call",
            sensitivity="confidential",
        )
    kinds = [json.loads(r["body"])["kind"] for r in receiver.requests]
    assert kinds == ["engagement.logged"]  # the open one, to "Everything" only
    assert b"Secret call" not in b"".join(r["body"] for r in receiver.requests)


def test_a_failing_endpoint_is_retried_with_back_off_and_holds_up_no_one(receivers, moved):
    bad, slow, good = receivers(status=500), receivers(delay=1.0), receivers()
    WebhookEndpoint.objects.create(name="Bad", url=bad.url, secret="a")
    WebhookEndpoint.objects.create(name="Slow", url=slow.url, secret="b")
    WebhookEndpoint.objects.create(name="Good", url=good.url, secret="c")
    moved()
    assert len(good.requests) == len(slow.requests) == len(bad.requests) == 1
    failed = WebhookDelivery.objects.get(endpoint__name="Bad")
    assert (failed.status, failed.attempts, failed.response_status, failed.last_error) == ("pending", 1, 500, "HTTP 500")
    assert failed.next_attempt_at > timezone.now() + datetime.timedelta(seconds=25)
    assert WebhookDelivery.objects.get(endpoint__name="Good").status == "delivered"
    assert WebhookDelivery.objects.get(endpoint__name="Slow").status == "delivered"

    # Not due yet: the sweep leaves it alone.
    send_pending_deliveries()
    assert len(bad.requests) == 1
    # Due: retried, fails again, waits twice as long.
    with time_machine.travel(failed.next_attempt_at + datetime.timedelta(seconds=1)):
        send_pending_deliveries()
    failed.refresh_from_db()
    assert (failed.attempts, len(bad.requests)) == (2, 2)
    # The receiver recovers: the next due attempt delivers it, once.
    bad.status = 200
    with time_machine.travel(failed.next_attempt_at + datetime.timedelta(seconds=1)):
        send_pending_deliveries()
        send_pending_deliveries()
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, len(bad.requests)) == ("delivered", 3, 3)
    assert len(good.requests) == 1


def test_an_endpoint_that_never_recovers_is_marked_failed(receivers, moved):
    bad = receivers(status=503)
    WebhookEndpoint.objects.create(name="Down", url=bad.url, secret="a")
    moved()
    delivery = WebhookDelivery.objects.get()
    for _ in range(webhooks.MAX_ATTEMPTS):
        delivery.refresh_from_db()
        if delivery.status != "pending":
            break
        with time_machine.travel(delivery.next_attempt_at + datetime.timedelta(seconds=1)):
            send_pending_deliveries()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", webhooks.MAX_ATTEMPTS)
    assert len(bad.requests) == webhooks.MAX_ATTEMPTS


def test_backoff_doubles_and_is_capped():
    assert [webhooks.backoff_seconds(n) for n in (1, 2, 3, 4, 10)] == [30, 60, 120, 240, 3600]
