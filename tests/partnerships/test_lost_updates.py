"""No lost updates in the portal and the services: a save based on what someone read before another person's save
is refused (409 on a page, ``ConflictError`` from a service) with the current values, and nothing is written.

The sequence of each portal test is the one of two people at their desks: A opens the page (the form carries the
version it shows), B saves, A saves. On PostgreSQL, two threads with their own connections save at the same moment
from the same version: exactly one wins.
"""

import datetime
import re
import threading

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.conflicts import ConflictError
from core.models import Event
from countries.models import Counterpart
from countries.services import counterpart_create, counterpart_leave_post, counterpart_update
from engagements.models import Engagement
from engagements.services import engagement_log, engagement_update
from partnerships.models import CountryTrack, StageChange
from partnerships.rollup import rollup_countries
from partnerships.services import country_track_move, country_track_pause, country_track_update, partnership_create
from tests import factories
from tests.conftest import needs_postgresql

pytestmark = pytest.mark.django_db


def _days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.fixture
def gb(staff_user):
    partnership_create(actor=staff_user, country=factories.country("GB"))
    return factories.country("GB")


@pytest.fixture
def alice(db):
    return factories.liaison("GB", username="alice", first_name="Alice", last_name="Ashdown")


@pytest.fixture
def bea(db):
    return factories.liaison("GB", username="bea", first_name="Bea", last_name="Brennan")


@pytest.fixture
def other_desk():
    """Bea's browser (Alice uses ``client``): its own cookies, session and messages."""
    return Client()


def cell(track="workforce") -> CountryTrack:
    return CountryTrack.objects.select_related("stage").get(country__iso2="GB", track__key=track)


def hidden_version(html: str, name: str) -> str:
    """The value of the hidden version field a page carries (what the browser will send back)."""
    found = re.search(rf'<input type="hidden" name="{re.escape(name)}" value="(\d+)"', html)
    assert found, f"no hidden {name} on the page"
    return found.group(1)


def snapshot():
    return Event.objects.count(), StageChange.objects.count()


# --- the stage form on the country page -------------------------------------------------------------------------


def open_country_page(client, user, track="workforce") -> str:
    """User opens the country page: the version their track form will send back."""
    client.force_login(user)
    page = client.get(reverse("country-detail", args=["gb"]))
    assert page.status_code == 200
    return hidden_version(page.content.decode(), f"track-{track}-version")


def save_stage_form(client, user, data, version, track="workforce"):
    client.force_login(user)
    payload = {f"track-{track}-{key}": value for key, value in {**data, "version": version}.items()}
    return client.post(reverse("country-track-change", args=["gb", track]), payload)


def test_the_second_of_two_stage_changes_from_the_same_page_is_refused_with_the_current_stage(client, gb, alice, bea, other_desk):
    seen_by_alice = open_country_page(client, alice)
    seen_by_bea = open_country_page(other_desk, bea)
    assert seen_by_alice == seen_by_bea == "1"
    saved = save_stage_form(other_desk, bea, {"action": "move", "to_stage": "negotiating"}, seen_by_bea)
    assert saved.status_code == 302 and cell().stage.key == "negotiating"
    before = snapshot()

    refused = save_stage_form(
        client, alice, {"action": "move", "to_stage": "exploring", "note": "Alice's own reasoning"}, seen_by_alice
    )

    html = refused.content.decode()
    assert refused.status_code == 409
    assert "Someone else changed this track while you were editing: it is now at stage “Negotiating”" in html
    assert "changed by Bea Brennan at" in html and "Your change was not saved." in html
    assert "Workforce training: saved." not in html
    assert "Alice&#x27;s own reasoning" in html  # what Alice typed is kept
    assert '<option value="exploring" selected>' in html
    assert 'aria-current="step">Negotiating</li>' in html  # the card shows where the track stands now
    assert snapshot() == before and cell().stage.key == "negotiating" and cell().version == 2
    # The page now carries the version Alice has seen: saving again applies her change, on purpose.
    assert hidden_version(html, "track-workforce-version") == "2"
    again = save_stage_form(client, alice, {"action": "move", "to_stage": "exploring", "note": "Alice's own reasoning"}, "2")
    assert again.status_code == 302
    assert cell().stage.key == "exploring" and cell().version == 3
    assert StageChange.objects.filter(country_track=cell(), note="Alice's own reasoning", actor=alice).exists()


def test_a_pause_from_an_old_page_is_refused_after_someone_withdrew_the_track(client, gb, alice, bea, other_desk):
    seen_by_alice = open_country_page(client, alice)
    save_stage_form(other_desk, bea, {"action": "withdraw", "reason": "Ministry dissolved"}, open_country_page(other_desk, bea))
    before = snapshot()
    refused = save_stage_form(
        client, alice, {"action": "pause", "reason": "Elections in May", "resume_on": _days(60).isoformat()}, seen_by_alice
    )
    html = refused.content.decode()
    assert refused.status_code == 409
    assert "it is now at stage “Withdrawn”" in html and "Elections in May" in html
    assert snapshot() == before and cell().stage.key == "withdrawn"


def test_each_track_has_its_own_version(client, gb, alice, bea, other_desk):
    seen = open_country_page(client, alice, track="public_services")
    save_stage_form(other_desk, bea, {"action": "move", "to_stage": "exploring"}, open_country_page(other_desk, bea))
    other = save_stage_form(client, alice, {"action": "move", "to_stage": "exploring"}, seen, track="public_services")
    assert other.status_code == 302 and cell("public_services").stage.key == "exploring"


def test_a_page_without_a_version_still_saves_and_a_forged_one_is_refused(client, gb, alice):
    client.force_login(alice)
    url = reverse("country-track-change", args=["gb", "workforce"])
    # A page rendered before versions existed sends none: the last write wins for it, as before.
    assert client.post(url, {"track-workforce-action": "move", "track-workforce-to_stage": "exploring"}).status_code == 302
    forged = client.post(
        url, {"track-workforce-action": "move", "track-workforce-to_stage": "agreed", "track-workforce-version": "x"}
    )
    assert forged.status_code == 400
    assert "This page is out of date: reload it and try again." in forged.content.decode()
    assert cell().stage.key == "exploring"


# --- the counterpart edit page ----------------------------------------------------------------------------------


@pytest.fixture
def ada(gb, alice):
    return counterpart_create(actor=alice, country=gb, name="Ada Lovelace", title="Minister for AI", organisation="DSIT")


def edit_url(counterpart):
    return reverse("counterpart-edit", args=["gb", counterpart.pk])


def counterpart_form(name="Ada Lovelace", title="Minister for AI", organisation="DSIT", **extra):
    return {"name": name, "title": title, "organisation": organisation, "email": "", "phone": "", "active_from": "",
            "active_to": "", "notes": "", **extra}  # fmt: skip


def test_the_second_of_two_counterpart_edits_is_refused_with_the_stored_values_next_to_the_typed_ones(
    client, ada, alice, bea, other_desk
):
    client.force_login(alice)
    seen_by_alice = hidden_version(client.get(edit_url(ada)).content.decode(), "version")
    other_desk.force_login(bea)
    seen_by_bea = hidden_version(other_desk.get(edit_url(ada)).content.decode(), "version")
    saved = other_desk.post(edit_url(ada), counterpart_form(title="Secretary of State for AI", version=seen_by_bea))
    assert saved.status_code == 302
    events = Event.objects.count()

    client.force_login(alice)
    refused = client.post(edit_url(ada), counterpart_form(notes="Prefers calls in the morning", version=seen_by_alice))

    html = refused.content.decode()
    assert refused.status_code == 409
    assert "Someone else changed Ada Lovelace while you were editing (changed by Bea Brennan at" in html
    assert "Your change was not saved." in html
    conflict = html[html.index('<table class="conflict">') : html.index("</table>")]
    assert "Secretary of State for AI" in conflict  # stored now (Bea's)
    assert "Prefers calls in the morning" in conflict  # Alice's
    assert '<tr class="differs"><th scope="row">Title <span class="badge">differs</span>' in conflict
    assert '<tr class="differs"><th scope="row">Notes <span class="badge">differs</span>' in conflict
    assert re.search(r'<textarea name="notes"[^>]*>\s*Prefers calls in the morning</textarea>', html)  # Alice's input kept
    stored = Counterpart.objects.get(pk=ada.pk)
    assert (stored.title, stored.notes, stored.version) == ("Secretary of State for AI", "", 2)
    assert Event.objects.count() == events
    # Saving again from the refused page replaces the stored values with Alice's: she has now seen them.
    assert hidden_version(html, "version") == "2"
    again = client.post(edit_url(ada), counterpart_form(notes="Prefers calls in the morning", version="2"))
    assert again.status_code == 302
    stored.refresh_from_db()
    assert (stored.title, stored.notes, stored.version) == ("Minister for AI", "Prefers calls in the morning", 3)


def test_an_admin_edit_is_a_new_version_too_so_an_older_portal_form_is_refused(client, ada, alice, rf):
    from django.contrib.admin.sites import site

    client.force_login(alice)
    seen = hidden_version(client.get(edit_url(ada)).content.decode(), "version")
    request = rf.post("/admin/")
    request.user = factories.make_user(username="root", is_superuser=True, is_staff=True)
    stored = Counterpart.objects.get(pk=ada.pk)
    stored.title = "Secretary of State for AI"
    site._registry[Counterpart].save_model(request, stored, type("Form", (), {"changed_data": ["title"]})(), change=True)
    assert Counterpart.objects.get(pk=ada.pk).version == int(seen) + 1
    refused = client.post(edit_url(ada), counterpart_form(notes="Morning calls", version=seen))
    assert refused.status_code == 409
    assert Counterpart.objects.get(pk=ada.pk).title == "Secretary of State for AI"


def test_a_departure_recorded_meanwhile_is_not_undone_by_an_old_edit_page(client, ada, alice, bea):
    client.force_login(alice)
    seen = hidden_version(client.get(edit_url(ada)).content.decode(), "version")
    counterpart_leave_post(actor=bea, counterpart=Counterpart.objects.get(pk=ada.pk), left_on=_days(-1))
    # Alice's form still has "in post until" empty: saving it would silently clear the departure.
    refused = client.post(edit_url(ada), counterpart_form(phone="+44 20 7946 0000", version=seen))
    assert refused.status_code == 409
    assert Counterpart.objects.get(pk=ada.pk).active_to == _days(-1)


# --- the services -----------------------------------------------------------------------------------------------


def test_every_service_write_raises_the_version_by_one_and_the_rollup_and_a_no_op_do_not(gb, alice):
    ct = cell()
    assert ct.version == 1
    country_track_move(actor=alice, country_track=ct, to_stage=factories.stage("workforce", "exploring"))
    assert ct.version == 2 and cell().version == 2  # the caller's instance follows
    country_track_update(actor=alice, country_track=ct, next_step="Draft the MoU")
    country_track_update(actor=alice, country_track=ct, next_step="Draft the MoU")  # nothing changes
    rollup_countries([gb.pk])  # the figures of the rollup are not an edit
    assert cell().version == 3
    engagement = engagement_log(actor=alice, country=gb, occurred_on=_days(-1), kind="call", summary="Call")
    assert engagement.version == 1
    engagement_update(actor=alice, engagement=engagement, tracks=[factories.track("workforce")])  # links only
    engagement_update(actor=alice, engagement=engagement, summary="Call")  # the same text: no change
    assert Engagement.objects.get(pk=engagement.pk).version == engagement.version == 2


def test_a_stale_expected_version_is_refused_under_the_lock_with_the_current_values(gb, alice, bea):
    ct = cell()
    country_track_move(actor=bea, country_track=cell(), to_stage=factories.stage("workforce", "agreed"), expected_version=1)
    before = snapshot()
    with pytest.raises(ConflictError) as refused:
        country_track_move(
            actor=alice, country_track=ct, to_stage=factories.stage("workforce", "exploring"), note="x", expected_version=1
        )
    assert isinstance(refused.value, ValidationError)  # callers that only know ValidationError still refuse
    assert refused.value.current.stage.key == "agreed" and refused.value.current.version == 2
    assert refused.value.changed_by == bea and refused.value.changed_at is not None
    assert "it is now at stage “Agreed” (changed by Bea Brennan at" in refused.value.messages[0]
    assert snapshot() == before
    assert ct.stage.key == "not_started"  # the caller's instance is left as it was read
    # The version read now is accepted.
    country_track_pause(actor=alice, country_track=ct, reason="Elections", resume_on=_days(30), expected_version=2)
    assert cell().stage.key == "paused"


def test_a_stale_engagement_or_counterpart_edit_changes_nothing(gb, alice, bea):
    engagement = engagement_log(actor=alice, country=gb, occurred_on=_days(-2), kind="meeting", summary="First draft")
    engagement_update(actor=bea, engagement=Engagement.objects.get(pk=engagement.pk), outcome="Agreed", expected_version=1)
    events = Event.objects.count()
    with pytest.raises(ConflictError) as refused:
        engagement_update(
            actor=alice, engagement=engagement, summary="Second draft", tracks=[factories.track("workforce")], expected_version=1
        )
    assert "Someone else changed this engagement while you were editing (changed by Bea Brennan" in refused.value.messages[0]
    stored = Engagement.objects.get(pk=engagement.pk)
    assert (stored.summary, stored.outcome, stored.version, stored.tracks.count()) == ("First draft", "Agreed", 2, 0)
    person = counterpart_create(actor=alice, country=gb, name="Grace Official")
    counterpart_update(actor=bea, counterpart=Counterpart.objects.get(pk=person.pk), title="Director", expected_version=1)
    with pytest.raises(ConflictError):
        counterpart_update(actor=alice, counterpart=person, title="Deputy director", expected_version=1)
    assert Counterpart.objects.get(pk=person.pk).title == "Director"
    assert Event.objects.count() == events + 2  # the counterpart's creation and Bea's edit only


# --- real concurrency (PostgreSQL) ------------------------------------------------------------------------------


def _race(*calls):
    """Run the calls at the same moment in threads, each on its own database connection; their outcomes."""
    from django.db import connections

    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            call()
            results[index] = "saved"
        except ConflictError as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("reference_data")
def test_two_stage_changes_from_the_same_version_at_once_exactly_one_is_saved():
    needs_postgresql()
    staff = factories.staff(username="race-staff")
    first, second = factories.liaison("BR", username="race-a"), factories.liaison("BR", username="race-b")
    partnership_create(actor=staff, country=factories.country("BR"))
    ct = CountryTrack.objects.get(country__iso2="BR", track__key="workforce")
    version = ct.version
    results = _race(
        lambda: country_track_move(
            actor=first,
            country_track=CountryTrack.objects.get(pk=ct.pk),
            to_stage=factories.stage("workforce", "exploring"),
            expected_version=version,
        ),
        lambda: country_track_pause(
            actor=second,
            country_track=CountryTrack.objects.get(pk=ct.pk),
            reason="Elections",
            resume_on=_days(30),
            expected_version=version,
        ),
    )
    assert results.count("saved") == 1 and sum(isinstance(r, ConflictError) for r in results) == 1, results
    winner = results.index("saved")
    refused = results[1 - winner]
    stored = CountryTrack.objects.select_related("stage").get(pk=ct.pk)
    assert stored.version == version + 1
    assert stored.stage.key == ("exploring", "paused")[winner]
    assert refused.current.stage.key == stored.stage.key  # the loser is told what the winner did
    assert StageChange.objects.filter(country_track=ct).count() == 2  # the opening and the one move


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("reference_data")
def test_two_engagement_edits_from_the_same_version_at_once_exactly_one_is_saved():
    needs_postgresql()
    writer = factories.liaison("BR", username="race-writer")
    engagement = engagement_log(actor=writer, country=factories.country("BR"), occurred_on=_days(-1), kind="call", summary="x")
    results = _race(
        *(
            lambda text=text: engagement_update(
                actor=writer, engagement=Engagement.objects.get(pk=engagement.pk), summary=text, expected_version=1
            )
            for text in ("From desk A", "From desk B")
        )
    )
    assert results.count("saved") == 1 and sum(isinstance(r, ConflictError) for r in results) == 1, results
    stored = Engagement.objects.get(pk=engagement.pk)
    assert stored.version == 2 and stored.summary == ("From desk A", "From desk B")[results.index("saved")]
    assert Event.objects.filter(kind="engagement.updated", subject_id=str(engagement.pk)).count() == 1
