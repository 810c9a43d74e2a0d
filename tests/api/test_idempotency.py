"""POST with an Idempotency-Key: the same key and request within 24 hours is answered once and written once; the same
key with another request is a 422; keys are per user, kept only with a write that commits, and expire."""

import datetime
import json
import threading

import pytest
from django.db import connection
from django.utils import timezone

from core.idempotency import WINDOW
from core.models import Event, IdempotencyKey
from engagements.models import Engagement, FollowUp
from tests import factories
from tests.api.conftest import token_client
from tests.conftest import needs_postgresql

pytestmark = pytest.mark.django_db

URL = "/api/v1/engagements/"


@pytest.fixture
def gb_ready(gb_partnership, gb_liaison):
    return gb_partnership.country


def engagement(summary="Curriculum workshop", **extra):
    return {
        "country": "gb",
        "occurred_on": (timezone.localdate() - datetime.timedelta(days=1)).isoformat(),
        "kind": "workshop",
        "summary": summary,
        "tracks": ["workforce"],
        **extra,
    }


def post(client, body, key=None, url=URL):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def test_the_same_key_twice_writes_once_and_answers_the_same(gb_ready, gb_api):
    first = post(gb_api, engagement(), key="3f1c-order-1")
    second = post(gb_api, engagement(), key="3f1c-order-1")

    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second["ETag"] == first["ETag"]
    assert second["Content-Type"] == first["Content-Type"]
    assert second["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Engagement.objects.filter(summary="Curriculum workshop").count() == 1
    assert Event.objects.filter(kind="engagement.logged").count() == 1
    assert IdempotencyKey.objects.get().status_code == 201


def test_without_a_key_each_post_writes(gb_ready, gb_api):
    assert post(gb_api, engagement()).status_code == 201
    assert post(gb_api, engagement()).status_code == 201
    assert Engagement.objects.filter(summary="Curriculum workshop").count() == 2
    assert not IdempotencyKey.objects.exists()


def test_the_same_key_with_another_body_or_address_is_422_and_writes_nothing(gb_ready, gb_api, gb_liaison):
    assert post(gb_api, engagement(), key="k-1").status_code == 201
    events = Event.objects.count()

    other_body = post(gb_api, engagement(summary="Another meeting"), key="k-1")
    other_path = post(
        gb_api,
        {"country": "gb", "description": "x", "due_on": timezone.localdate().isoformat()},
        key="k-1",
        url="/api/v1/follow-ups/",
    )

    for response in (other_body, other_path):
        assert response.status_code == 422, response.content
        body = response.json()
        assert body["type"] == "client_error"
        assert body["errors"][0]["code"] == "idempotency_key_reused"
    assert not Engagement.objects.filter(summary="Another meeting").exists()
    assert not FollowUp.objects.filter(description="x").exists()
    assert Event.objects.count() == events
    assert IdempotencyKey.objects.count() == 1


def test_a_refused_request_keeps_no_key_and_may_be_sent_again(gb_ready, gb_api, gb_liaison):
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    refused = post(gb_api, engagement(occurred_on=future), key="k-2")
    assert refused.status_code == 400
    assert not IdempotencyKey.objects.exists()
    assert not Engagement.objects.filter(summary="Curriculum workshop").exists()

    # Sent again it runs again (a refusal is not replayed); corrected under the same key it is done.
    assert post(gb_api, engagement(occurred_on=future), key="k-2").status_code == 400
    assert post(gb_api, engagement(), key="k-2").status_code == 201
    assert Engagement.objects.filter(summary="Curriculum workshop").count() == 1


def test_the_key_is_stored_only_when_the_write_commits(gb_ready, gb_api, monkeypatch):
    from engagements.api import views

    def fails_after_writing(**kwargs):
        Engagement.objects.create(country=kwargs["country"], occurred_on=kwargs["occurred_on"], kind="call", summary="half")
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(views.services, "engagement_log", fails_after_writing)
    gb_api.raise_request_exception = False
    assert post(gb_api, engagement(), key="k-3").status_code == 500
    assert not Engagement.objects.filter(summary="half").exists()
    assert not IdempotencyKey.objects.exists()

    monkeypatch.undo()
    assert post(gb_api, engagement(), key="k-3").status_code == 201  # nothing was kept: the key is free


def test_keys_are_per_user(gb_ready, gb_api, staff_api):
    assert post(gb_api, engagement(), key="shared-key").status_code == 201
    staffs = post(staff_api, engagement(), key="shared-key")

    assert staffs.status_code == 201
    assert not staffs.has_header("Idempotent-Replayed")
    assert Engagement.objects.filter(summary="Curriculum workshop").count() == 2
    assert IdempotencyKey.objects.count() == 2


def test_another_token_of_the_same_user_gets_the_answer(gb_ready, gb_api, gb_liaison):
    first = post(gb_api, engagement(), key="k-4")
    second = post(token_client(gb_liaison, "second system"), engagement(), key="k-4")
    assert second.status_code == 201 and second.content == first.content
    assert Engagement.objects.filter(summary="Curriculum workshop").count() == 1


def test_an_expired_key_may_be_used_again(gb_ready, gb_api):
    assert post(gb_api, engagement(), key="k-5").status_code == 201
    IdempotencyKey.objects.update(created_at=timezone.now() - WINDOW - datetime.timedelta(seconds=1))

    again = post(gb_api, engagement(summary="A new one"), key="k-5")

    assert again.status_code == 201
    assert not again.has_header("Idempotent-Replayed")
    assert Engagement.objects.filter(summary="A new one").count() == 1
    assert IdempotencyKey.objects.count() == 1


def test_a_key_just_within_the_window_still_replays(gb_ready, gb_api):
    post(gb_api, engagement(), key="k-6")
    IdempotencyKey.objects.update(created_at=timezone.now() - WINDOW + datetime.timedelta(minutes=1))
    assert post(gb_api, engagement(), key="k-6")["Idempotent-Replayed"] == "true"
    assert Engagement.objects.filter(summary="Curriculum workshop").count() == 1


@pytest.mark.parametrize("key", ["", "é-accent", "tab\there", "x" * 256])
def test_a_malformed_key_is_400_and_writes_nothing(gb_ready, gb_api, key):
    response = post(gb_api, engagement(), key=key)
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "Idempotency-Key"
    assert not Engagement.objects.filter(summary="Curriculum workshop").exists()
    assert not IdempotencyKey.objects.exists()


def test_an_action_is_idempotent_too(gb_ready, gb_api, gb_liaison):
    follow_up = FollowUp.objects.create(country=gb_ready, description="Call back", due_on=timezone.localdate())
    url = f"/api/v1/follow-ups/{follow_up.pk}/complete/"
    first = post(gb_api, {}, key="done-1", url=url)
    second = post(gb_api, {}, key="done-1", url=url)
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert Event.objects.filter(kind="follow_up.completed").count() == 1


def test_without_permission_the_key_is_not_looked_at(gb_ready, gb_api, viewer_api):
    post(gb_api, engagement(), key="k-7")
    assert post(viewer_api, engagement(), key="k-7").status_code == 403
    assert IdempotencyKey.objects.count() == 1


def test_the_schema_documents_the_header_on_every_post(client):
    schema = json.loads(client.get("/api/v1/schema/?format=json").content)
    posts = [(path, ops["post"]) for path, ops in schema["paths"].items() if "post" in ops]
    assert len(posts) > 10
    for path, operation in posts:
        headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        assert "Idempotency-Key" in headers, path
        assert "422" in operation["responses"], path


def test_the_purge_deletes_only_expired_keys(gb_ready, gb_api):
    from core.tasks import purge_idempotency_keys

    post(gb_api, engagement(), key="old")
    post(gb_api, engagement(summary="b"), key="new")
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - WINDOW - datetime.timedelta(hours=1))
    assert purge_idempotency_keys() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_the_purge_runs_on_the_beat(settings):
    entries = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "core.tasks.purge_idempotency_keys" in entries


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_requests_with_the_same_key_write_once():
    """Two hosts at once: the second waits on the first's key row, then answers with its result."""
    needs_postgresql()
    from partnerships.services import partnership_create

    staff = factories.staff(username="staff-c")
    liaison = factories.liaison("GB", username="gb-c")
    partnership_create(actor=staff, country=factories.country("GB"))
    clients = [token_client(liaison, f"host {n}") for n in range(2)]
    barrier = threading.Barrier(2)
    answers = [None, None]

    def send(n):
        barrier.wait()
        answers[n] = post(clients[n], engagement(), key="race-1")
        connection.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].content == answers[1].content
    assert sorted(a.has_header("Idempotent-Replayed") for a in answers) == [False, True]
    assert Engagement.objects.filter(summary="Curriculum workshop").count() == 1
