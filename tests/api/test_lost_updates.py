"""No lost updates through the API: If-Match is compared under the object's row lock, in the transaction of the write.

Sequential: client A reads an object (its ETag), client B changes it, A writes with its tag: 412, the body carries the
object as it is now (``current``) and the ETag header its tag, and nothing is written (row and events unchanged).
On PostgreSQL: a write holding the row lock makes a conditional write wait and then refuse; two conditional writes
with the same tag at once: exactly one succeeds.
"""

import datetime
import threading

import pytest
from django.db import connections, transaction

from core.conflicts import ConflictError
from core.models import Event
from countries.models import Counterpart
from engagements import services as engagement_services
from engagements.models import Engagement
from partnerships import services
from partnerships.models import CountryTrack, StageChange
from tests import factories
from tests.api.conftest import token_client
from tests.conftest import needs_postgresql

pytestmark = pytest.mark.django_db


def track_url(ct) -> str:
    return f"/api/v1/country-tracks/{ct.pk}/"


def engagement_url(engagement) -> str:
    return f"/api/v1/engagements/{engagement.pk}/"


def assert_refused_with_current(response, client, url):
    """412 in the error shape, plus the current representation and its tag (the same as a fresh read gives)."""
    assert response.status_code == 412, response.content
    body = response.json()
    assert body["type"] == "client_error"
    assert [e["code"] for e in body["errors"]] == ["precondition_failed"]
    fresh = client.get(url)
    assert body["current"] == fresh.json()
    assert response["ETag"] == fresh["ETag"]
    return body["current"]


def test_a_stage_move_from_a_stale_tag_is_412_with_the_current_track_and_writes_nothing(programme, gb_api, staff_api):
    url = track_url(programme.gb_workforce)
    tag_read_by_a = gb_api.get(url)["ETag"]
    assert staff_api.post(url + "move/", {"to_stage": "agreed"}, format="json").status_code == 200  # B, meanwhile
    before = (Event.objects.count(), StageChange.objects.count())

    refused = gb_api.post(url + "move/", {"to_stage": "implementing"}, format="json", HTTP_IF_MATCH=tag_read_by_a)

    current = assert_refused_with_current(refused, gb_api, url)
    assert current["stage"] == "agreed"
    assert (Event.objects.count(), StageChange.objects.count()) == before
    assert CountryTrack.objects.get(pk=programme.gb_workforce.pk).stage.key == "agreed"
    # The tag of the 412 is the one to re-apply the change with.
    retried = gb_api.post(url + "move/", {"to_stage": "implementing"}, format="json", HTTP_IF_MATCH=refused["ETag"])
    assert retried.status_code == 200 and retried.json()["stage"] == "implementing"


def test_a_pause_or_a_withdrawal_from_a_stale_tag_is_refused(programme, gb_api, staff_api, today):
    url = track_url(programme.gb_public)
    stale = gb_api.get(url)["ETag"]
    staff_api.patch(url, {"next_step": "Call the permanent secretary"}, format="json")
    before = (Event.objects.count(), StageChange.objects.count())
    for action, body in [
        ("pause/", {"reason": "Elections", "resume_on": str(today + datetime.timedelta(days=60))}),
        ("withdraw/", {"reason": "No budget"}),
    ]:
        assert_refused_with_current(gb_api.post(url + action, body, format="json", HTTP_IF_MATCH=stale), gb_api, url)
    assert (Event.objects.count(), StageChange.objects.count()) == before
    assert CountryTrack.objects.get(pk=programme.gb_public.pk).stage.key == "exploring"


def test_an_engagement_patch_from_a_stale_tag_is_412_and_keeps_the_other_edit(programme, gb_api, staff_api):
    url = engagement_url(programme.gb_engagement)
    tag_read_by_a = gb_api.get(url)["ETag"]
    assert staff_api.patch(url, {"outcome": "Curriculum agreed"}, format="json").status_code == 200
    events = Event.objects.count()

    refused = gb_api.patch(url, {"outcome": "Nothing agreed", "tracks": []}, format="json", HTTP_IF_MATCH=tag_read_by_a)

    current = assert_refused_with_current(refused, gb_api, url)
    assert current["outcome"] == "Curriculum agreed" and current["tracks"] == ["workforce"]
    stored = Engagement.objects.get(pk=programme.gb_engagement.pk)
    assert stored.outcome == "Curriculum agreed" and stored.tracks.count() == 1 and stored.version == 2
    assert Event.objects.count() == events


def test_a_counterpart_patch_from_a_stale_tag_is_412(programme, gb_api, staff_api):
    url = f"/api/v1/counterparts/{programme.gb_counterpart.pk}/"
    stale = gb_api.get(url)["ETag"]
    staff_api.patch(url, {"title": "Secretary of State"}, format="json")
    current = assert_refused_with_current(
        gb_api.patch(url, {"title": "Junior minister"}, format="json", HTTP_IF_MATCH=stale), gb_api, url
    )
    assert current["title"] == "Secretary of State"
    assert Counterpart.objects.get(pk=programme.gb_counterpart.pk).title == "Secretary of State"


def test_without_if_match_the_last_write_wins(programme, gb_api, staff_api):
    url = engagement_url(programme.gb_engagement)
    staff_api.patch(url, {"outcome": "From B"}, format="json")
    response = gb_api.patch(url, {"outcome": "From A"}, format="json")
    assert response.status_code == 200 and response.json()["outcome"] == "From A"


def test_a_conflict_raised_by_a_service_is_a_412_with_the_current_representation(programme, gb_api, monkeypatch):
    url = engagement_url(programme.gb_engagement)

    def someone_was_quicker(*, engagement, **kwargs):
        raise ConflictError("Someone else changed this engagement.", current=engagement)

    monkeypatch.setattr(engagement_services, "engagement_update", someone_was_quicker)
    response = gb_api.patch(url, {"outcome": "x"}, format="json")
    current = assert_refused_with_current(response, gb_api, url)
    assert response.json()["errors"][0]["detail"] == "Someone else changed this engagement."
    assert current["id"] == programme.gb_engagement.pk


# --- real concurrency (PostgreSQL) ------------------------------------------------------------------------------


@pytest.fixture
def br_track(reference_data):
    staff = factories.staff(username="race-staff")
    services.partnership_create(actor=staff, country=factories.country("BR"))
    ct = CountryTrack.objects.get(country__iso2="BR", track__key="workforce")
    return staff, ct


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_if_match_is_compared_under_the_lock_a_write_in_progress_makes_it_wait_then_refuse(br_track):
    """The old gap: the tag was compared before the lock, so a write in progress (locked, not committed) was not
    seen, and the conditional write overwrote it once the lock was free. Now it waits for the lock, then sees it."""
    needs_postgresql()
    staff, ct = br_track
    client = token_client(factories.liaison("BR", username="race-liaison"))
    stale = client.get(track_url(ct))["ETag"]
    locked, release = threading.Event(), threading.Event()

    def write_in_progress():
        try:
            with transaction.atomic():
                services.country_track_update(
                    actor=staff, country_track=CountryTrack.objects.get(pk=ct.pk), next_step="Sign the MoU"
                )
                locked.set()
                release.wait(timeout=10)  # holds the row lock (and its uncommitted change) meanwhile
        finally:
            connections.close_all()

    holder = threading.Thread(target=write_in_progress)
    holder.start()
    assert locked.wait(timeout=10)
    threading.Timer(0.5, release.set).start()  # commit while the request below waits for the lock
    response = client.patch(track_url(ct), {"next_step": "Draft the MoU"}, format="json", HTTP_IF_MATCH=stale)
    holder.join(timeout=30)

    assert response.status_code == 412, response.content
    assert response.json()["current"]["next_step"] == "Sign the MoU"
    stored = CountryTrack.objects.get(pk=ct.pk)
    assert stored.next_step == "Sign the MoU" and stored.version == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_conditional_writes_with_the_same_tag_at_once_exactly_one_succeeds(br_track):
    needs_postgresql()
    _staff, ct = br_track
    desks = [token_client(factories.liaison("BR", username=f"desk-{n}")) for n in "ab"]
    tag = desks[0].get(track_url(ct))["ETag"]
    assert desks[1].get(track_url(ct))["ETag"] == tag
    barrier = threading.Barrier(2)
    answers = {}

    def write(client, stage):
        try:
            barrier.wait(timeout=10)
            answers[stage] = client.post(track_url(ct) + "move/", {"to_stage": stage}, format="json", HTTP_IF_MATCH=tag)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=args) for args in zip(desks, ("exploring", "negotiating"), strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    codes = sorted(response.status_code for response in answers.values())
    assert codes == [200, 412], codes
    winner = next(stage for stage, response in answers.items() if response.status_code == 200)
    loser = next(response for response in answers.values() if response.status_code == 412)
    assert loser.json()["current"]["stage"] == winner
    stored = CountryTrack.objects.select_related("stage").get(pk=ct.pk)
    assert stored.stage.key == winner and stored.version == 2
    assert StageChange.objects.filter(country_track=ct).count() == 2  # the opening and the one move
