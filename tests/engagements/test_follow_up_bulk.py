"""The follow-ups list: filters by country, track, owner and text (kept across tabs and pages), and the bulk
actions (mark done, give to someone): all or none, refused for others' countries, stale rows and owners who do
not work on a country."""

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import Event
from engagements.models import FollowUp
from engagements.services import follow_up_create, follow_up_update, follow_ups_complete
from partnerships.services import partnership_create
from tests import factories

pytestmark = pytest.mark.django_db


def _days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.fixture
def world(staff_user, gb_liaison, fr_liaison):
    gb, fr = factories.country("GB"), factories.country("FR")
    partnership_create(actor=staff_user, country=gb)
    partnership_create(actor=staff_user, country=fr)
    workforce, safety = factories.track("workforce"), factories.track("safety_standards")
    gb_other = factories.liaison("GB", username="gb-second")
    make = lambda country, actor, text, due, owner=None, track=None: follow_up_create(  # noqa: E731
        actor=actor, country=country, description=text, due_on=_days(due), owner=owner, track=track
    )
    return {
        "gb": gb,
        "fr": fr,
        "gb_other": gb_other,
        "chase": make(gb, gb_liaison, "Chase the ministry", -3, gb_liaison, workforce),
        "draft": make(gb, gb_liaison, "Draft the MoU", 2, gb_other, safety),
        "room": make(gb, gb_liaison, "Book a room", 5),
        "paris": make(fr, fr_liaison, "Call Paris", 4, fr_liaison, workforce),
    }


def _list(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("follow-ups"), {"show": "all", **params})
    assert response.status_code == 200
    return response.content.decode()


def _bulk(client, user, rows, action="complete", owner="", next_url="/follow-ups/?show=all", versions=None):
    client.force_login(user)
    data = {"action": action, "owner": owner, "next": next_url, "ids": [fu.pk for fu in rows]}
    for fu in rows:
        data[f"version-{fu.pk}"] = (versions or {}).get(fu.pk, fu.version)
    return client.post(reverse("follow-up-bulk"), data)


def test_filters_by_country_track_owner_and_text(client, world, staff_user, gb_liaison):
    assert "Call Paris" in _list(client, staff_user) and "Chase the ministry" in _list(client, staff_user)
    only_fr = _list(client, staff_user, country="fr")
    assert "Call Paris" in only_fr and "Chase the ministry" not in only_fr
    workforce = _list(client, staff_user, track="workforce")
    assert "Call Paris" in workforce and "Chase the ministry" in workforce and "Draft the MoU" not in workforce
    unowned = _list(client, staff_user, owner="none")
    assert "Book a room" in unowned and "Draft the MoU" not in unowned
    theirs = _list(client, staff_user, owner=str(world["gb_other"].pk))
    assert "Draft the MoU" in theirs and "Chase the ministry" not in theirs
    text = _list(client, staff_user, q="mou")
    assert "Draft the MoU" in text and "Book a room" not in text and "1 follow-up" in text


def test_a_filter_that_matches_nothing_says_so_and_a_bad_value_is_reported_and_ignored(client, world, staff_user):
    html = _list(client, staff_user, q="nothing like this")
    assert "No follow-up matches these filters." in html
    html = _list(client, staff_user, country="zz", track="workforce")
    assert "Some filters were not understood and are ignored:" in html
    assert "Call Paris" in html and "Draft the MoU" not in html  # the valid filter still applies


def test_tabs_and_pages_keep_the_filters(client, world, staff_user):
    html = _list(client, staff_user, country="gb")
    assert 'href="/follow-ups/?show=overdue&amp;country=gb' in html
    for i in range(55):
        follow_up_create(actor=staff_user, country=world["gb"], description=f"Task {i}", due_on=_days(10 + i))
    html = _list(client, staff_user, country="gb")
    assert "Page 1 of 2" in html and "country=gb" in html.split('class="pagination"')[1]


def test_the_owner_choices_are_people_who_own_a_follow_up_the_reader_sees(client, world, viewer_user, gb_liaison):
    html = _list(client, viewer_user)
    options = html.split('name="owner"')[1].split("</select>")[0]
    assert gb_liaison.get_full_name() in options and "Call Paris" in html
    assert world["gb_other"].get_full_name() in options
    assert "Mark selected done" not in html  # a viewer gets no bulk bar and no boxes
    assert 'name="ids"' not in html


def test_a_liaison_can_select_only_the_rows_of_their_countries(client, world, gb_liaison):
    html = _list(client, gb_liaison)
    assert f'name="ids" value="{world["chase"].pk}"' in html
    assert f'name="ids" value="{world["paris"].pk}"' not in html and "Call Paris" in html


def test_bulk_done_marks_every_selected_one_with_its_audit_entry_and_event(client, world, gb_liaison):
    from auditlog.models import LogEntry

    entries = LogEntry.objects.count()
    response = _bulk(client, gb_liaison, [world["chase"], world["room"]])
    assert response.status_code == 302 and response["Location"] == "/follow-ups/?show=all"
    done = FollowUp.objects.filter(done_at__isnull=False)
    assert set(done.values_list("pk", flat=True)) == {world["chase"].pk, world["room"].pk}
    assert all(fu.done_by == gb_liaison and fu.version == 2 for fu in done)
    assert LogEntry.objects.count() == entries + 2
    kinds = Event.objects.filter(kind="follow_up.completed").values_list("subject_id", flat=True)
    assert set(kinds) == {str(world["chase"].pk), str(world["room"].pk)}
    html = client.get(response["Location"]).content.decode()
    assert "2 follow-ups marked done." in html


def test_bulk_done_leaves_those_already_done_and_says_so(client, world, gb_liaison):
    chase = FollowUp.objects.get(pk=world["chase"].pk)
    follow_ups_complete(actor=gb_liaison, expected_versions={chase.pk: chase.version})
    chase.refresh_from_db()
    response = _bulk(client, gb_liaison, [chase, world["room"]])
    html = client.get(response["Location"]).content.decode()
    assert "1 follow-up marked done." in html and "1 was already done." in html


def test_bulk_reassign_gives_them_to_someone_who_works_on_the_country(client, world, gb_liaison):
    other = world["gb_other"]
    response = _bulk(client, gb_liaison, [world["chase"], world["room"]], action="reassign", owner=other.pk)
    assert response.status_code == 302
    assert set(FollowUp.objects.filter(owner=other).values_list("pk", flat=True)) == {
        world["chase"].pk, world["room"].pk, world["draft"].pk,
    }  # fmt: skip
    event = Event.objects.filter(kind="follow_up.updated", subject_id=str(world["room"].pk)).get()
    assert event.payload == {"changes": {"owner": [None, other.pk]}}
    _bulk(client, gb_liaison, [FollowUp.objects.get(pk=world["room"].pk)], action="reassign", owner="nobody")
    assert FollowUp.objects.get(pk=world["room"].pk).owner is None  # given to nobody


def test_give_without_choosing_someone_changes_nothing_and_the_page_leads_back_to_the_list(client, world, gb_liaison):
    response = _bulk(
        client, gb_liaison, [world["chase"]], action="reassign", owner="", next_url="/follow-ups/?show=all&country=gb"
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose who gets the selected follow-ups." in html
    assert FollowUp.objects.get(pk=world["chase"].pk).owner == gb_liaison
    # Shown at /follow-ups/bulk/, its tabs, filters and reset lead to the list itself (a GET there is a 405).
    assert 'href="/follow-ups/?show=overdue&amp;country=gb"' in html and 'action="/follow-ups/"' in html
    assert 'id="bulk_owner"' in html and html.count('id="id_owner"') == 1  # the filter's and the bar's owner apart


def test_bulk_reassign_to_someone_outside_one_country_changes_nothing(client, world, staff_user, gb_liaison):
    before = list(FollowUp.objects.order_by("pk").values_list("owner_id", "version"))
    response = _bulk(client, staff_user, [world["chase"], world["paris"]], action="reassign", owner=gb_liaison.pk)
    assert response.status_code == 400
    html = response.content.decode()
    assert "does not work on France." in html
    assert html.count("checked") >= 2  # the selection is kept
    assert list(FollowUp.objects.order_by("pk").values_list("owner_id", "version")) == before


def test_bulk_on_another_countrys_follow_up_is_refused_and_changes_nothing(client, world, gb_liaison, viewer_user):
    response = _bulk(client, gb_liaison, [world["chase"], world["paris"]])
    assert response.status_code == 403
    assert not FollowUp.objects.filter(done_at__isnull=False).exists()
    assert _bulk(client, viewer_user, [world["chase"]]).status_code == 403
    assert not FollowUp.objects.filter(done_at__isnull=False).exists()


def test_a_stale_row_refuses_the_whole_bulk_action_with_409(client, world, gb_liaison):
    seen = {world["chase"].pk: world["chase"].version, world["room"].pk: world["room"].version}
    follow_up_update(actor=gb_liaison, follow_up=FollowUp.objects.get(pk=world["room"].pk), description="Book the hall")
    response = _bulk(client, gb_liaison, [world["chase"], world["room"]], versions=seen)
    assert response.status_code == 409
    assert "Someone else changed “Book the hall” since you loaded the page." in response.content.decode()
    assert not FollowUp.objects.filter(done_at__isnull=False).exists()


@pytest.mark.parametrize(
    "data, message",
    [
        ({"action": "complete"}, "Select at least one follow-up."),
        ({"action": "complete", "ids": ["x"]}, "Select a valid choice."),
        ({"action": "explode", "ids": ["1"]}, "Select a valid choice."),
        ({"action": "reassign", "ids": ["1"], "owner": "999999"}, "Select a valid choice."),
        ({"action": "reassign", "ids": ["1"], "owner": "abc"}, "Select a valid choice."),
        ({"action": "complete", "ids": [str(n) for n in range(1, 102)]}, "Select at most 100 follow-ups at a time."),
    ],
)
def test_bad_bulk_input_is_refused_before_any_write(client, world, gb_liaison, data, message):
    client.force_login(gb_liaison)
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(reverse("follow-up-bulk"), data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not any("FOR UPDATE" in q["sql"] or q["sql"].startswith("UPDATE") for q in ctx.captured_queries)
    assert not FollowUp.objects.filter(done_at__isnull=False).exists()


def test_the_bulk_page_is_in_french(client, world, gb_liaison):
    client.force_login(gb_liaison)
    html = client.get(reverse("follow-ups"), {"show": "all"}, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Marquer la sélection comme faite" in html and "Tous les pays" in html


def _bulk_queries(client, user, rows):
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        assert _bulk(client, user, rows).status_code == 302
    return len(ctx.captured_queries)


def test_bulk_query_count_does_not_grow_with_the_table(client, world, staff_user, gb_liaison):
    _bulk_queries(client, gb_liaison, [world["room"]])  # warm: the content types and the session are cached after it
    few = _bulk_queries(client, gb_liaison, [world["chase"]])
    for i in range(40):
        follow_up_create(actor=staff_user, country=world["gb"], description=f"Task {i}", due_on=_days(i))
    more = [FollowUp.objects.get(description="Task 0")]
    assert _bulk_queries(client, gb_liaison, more) == few


def test_a_refused_bulk_action_sends_every_form_of_the_page_back_to_the_list(client, world, gb_liaison):
    seen = {world["room"].pk: world["room"].version}
    follow_up_update(actor=gb_liaison, follow_up=FollowUp.objects.get(pk=world["room"].pk), description="Book the hall")
    response = _bulk(client, gb_liaison, [world["room"]], versions=seen, next_url="/follow-ups/?show=all&country=gb")
    assert response.status_code == 409
    html = response.content.decode()
    assert 'value="/follow-ups/bulk/"' not in html and "next=/follow-ups/bulk/" not in html
    assert 'name="next" value="/follow-ups/?show=all&amp;country=gb"' in html


def test_a_version_field_of_odd_digits_is_a_stale_row_not_a_server_error(client, world, gb_liaison):
    client.force_login(gb_liaison)
    pk = world["chase"].pk
    response = client.post(reverse("follow-up-bulk"), {"action": "complete", "ids": [pk], f"version-{pk}": "²"})
    assert response.status_code == 409
    assert FollowUp.objects.get(pk=pk).done_at is None


def test_the_mine_tab_does_not_carry_a_hidden_owner_filter(client, world, gb_liaison):
    html = _list(client, gb_liaison, owner="none", country="gb")
    mine = html.split('aria-label="Which follow-ups"')[1].split("</nav>")[0].split("show=mine")[1].split('"')[0]
    assert "owner" not in mine
