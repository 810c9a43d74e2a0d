"""The counterpart pages: who is in post and who held the post before, adding and editing a counterpart with its
history, recording a departure with its successor; who may see and change what; query counts; French."""

import datetime

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from core.models import Event
from countries.models import Counterpart
from countries.services import counterpart_create, counterpart_leave_post, counterpart_update
from tests import factories

pytestmark = pytest.mark.django_db

POST = {"title": "Director of Digital", "organisation": "Ministry of Science"}


def _days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


def _shown(day, language="en"):
    """A date as the pages show it, in the reader's language."""
    with translation.override(language):
        return date_format(day)


@pytest.fixture(autouse=True)
def _back_to_english():
    """LocaleMiddleware leaves the last request's language active in the thread: a French request must not make
    the next test (in another module) French."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def writer(db):
    """The liaison for the United Kingdom, with a name the history can show."""
    return factories.liaison("GB", username="grace", first_name="Grace", last_name="Hopper")


@pytest.fixture
def ada(writer, gb):
    """A counterpart in post for 100 days, added through the service (so she has a history)."""
    return counterpart_create(
        actor=writer, country=gb, name="Ada Lovelace", email="ada@example.org", active_from=_days(-100), **POST
    )


def list_url(code="gb"):
    return reverse("counterparts", args=[code])


def new_url(code="gb"):
    return reverse("counterpart-new", args=[code])


def edit_url(counterpart, code="gb"):
    return reverse("counterpart-edit", args=[code, counterpart.pk])


def leave_url(counterpart, code="gb"):
    return reverse("counterpart-leave", args=[code, counterpart.pk])


def get_html(client, user, url, **extra):
    client.force_login(user)
    response = client.get(url, **extra)
    return response, response.content.decode()


def sections(html):
    """The "in post" and "former counterparts" sections of the list page."""
    current = html.split('id="current-title"')[1].split('id="former-title"')[0]
    former = html.split('id="former-title"')[1].split("</section>")[0]
    return current, former


def row_of(section, name):
    """The table row (``<tr>…</tr>``) that starts with ``name``."""
    rows = [row for row in section.split("<tr>") if f'<th scope="row">{name}</th>' in row]
    assert len(rows) == 1, f"{name} should have one row, found {len(rows)}"
    return rows[0].split("</tr>")[0]


def field_error(html, field):
    """The error shown next to ``field``: the element with id ``id_<field>_error``, up to the end of its field."""
    marker = f'id="id_{field}_error"'
    assert marker in html, f"no error next to {field}"
    return html.split(marker, 1)[1].split("</div>", 1)[0]


def history(html):
    return html.split('id="history-title"')[1].split("</section>")[0]


def form_data(counterpart, **changes):
    """What the edit form posts back: the stored values, with ``changes``."""
    data = {
        "name": counterpart.name,
        "title": counterpart.title,
        "organisation": counterpart.organisation,
        "email": counterpart.email,
        "phone": counterpart.phone,
        "active_from": counterpart.active_from.isoformat() if counterpart.active_from else "",
        "notes": counterpart.notes,
    }
    data.update(changes)
    return data


# --- The list page -------------------------------------------------------------------------------------------------


@pytest.fixture
def gb_people(gb):
    """Two people in post (one of whom had predecessors in the same post) and three former counterparts."""
    people = {
        "ada": factories.CounterpartFactory(country=gb, name="Ada Lovelace", active_from=_days(-30), **POST),
        "dan": factories.CounterpartFactory(country=gb, name="Dan Current", title="Head of Data", organisation="Statistics"),
        # Same post as Ada, written differently (case and spaces): still the same post.
        "brian": factories.CounterpartFactory(
            country=gb,
            name="Brian Before",
            title="director of  digital",
            organisation="MINISTRY OF SCIENCE",
            active_from=_days(-400),
            active_to=_days(-31),
        ),
        "bea": factories.CounterpartFactory(
            country=gb, name="Bea Earlier", active_from=_days(-900), active_to=_days(-401), **POST
        ),
        "carol": factories.CounterpartFactory(
            country=gb,
            name="Carol Elsewhere",
            title="Chief Scientist",
            organisation="Ministry of Science",
            active_to=_days(-10),
        ),
    }
    factories.CounterpartFactory(country=factories.country("FR"), name="Francine Paris")
    return people


def test_a_viewer_sees_who_is_in_post_and_who_held_the_post_before(client, gb_people, viewer_user):
    response, html = get_html(client, viewer_user, list_url())
    assert response.status_code == 200
    assert "Francine Paris" not in html  # another country's counterpart
    current, former = sections(html)

    assert "Ada Lovelace" in current and "Dan Current" in current
    assert "Carol Elsewhere" not in current
    ada_row = row_of(current, "Ada Lovelace")
    # Both earlier holders of Ada's post, the most recent first, each with the day they left.
    assert "Brian Before" in ada_row and "Bea Earlier" in ada_row
    assert ada_row.index("Brian Before") < ada_row.index("Bea Earlier")
    assert f"until {_shown(_days(-31))}" in ada_row and f"until {_shown(_days(-401))}" in ada_row
    assert f'<time datetime="{_days(-30).isoformat()}">{_shown(_days(-30))}</time>' in ada_row
    dan_row = row_of(current, "Dan Current")
    assert "Before" not in dan_row and "Earlier" not in dan_row and "until" not in dan_row

    assert "Ada Lovelace" not in former and "Dan Current" not in former
    # Former counterparts, the most recent departure first.
    assert former.index("Carol Elsewhere") < former.index("Brian Before") < former.index("Bea Earlier")
    assert f"{_shown(_days(-400))} to {_shown(_days(-31))}" in row_of(former, "Brian Before")
    assert f"until {_shown(_days(-10))}" in row_of(former, "Carol Elsewhere")

    # Read-only for a viewer.
    assert "Add a counterpart" not in html and new_url() not in html
    for person in gb_people.values():
        assert edit_url(person) not in html
    assert ">Edit</a>" not in html and ">History</a>" not in html


def test_the_liaison_of_the_country_may_add_and_edit(client, gb_people, writer):
    response, html = get_html(client, writer, list_url())
    assert response.status_code == 200
    current, former = sections(html)
    assert f'href="{new_url()}">Add a counterpart</a>' in html
    assert f'href="{edit_url(gb_people["ada"])}"' in row_of(current, "Ada Lovelace")
    assert f'href="{edit_url(gb_people["dan"])}"' in row_of(current, "Dan Current")
    assert f'href="{edit_url(gb_people["brian"])}"' in row_of(former, "Brian Before")


def test_the_liaison_of_another_country_only_reads(client, gb_people, fr_liaison):
    response, html = get_html(client, fr_liaison, list_url())
    assert response.status_code == 200
    assert "Ada Lovelace" in html
    assert "Add a counterpart" not in html and edit_url(gb_people["ada"]) not in html


def test_a_country_without_counterparts_says_so(client, gb, viewer_user):
    factories.CounterpartFactory(country=factories.country("FR"), name="Francine Paris")
    response, html = get_html(client, viewer_user, list_url())
    assert response.status_code == 200
    current, former = sections(html)
    assert "Nobody is recorded in post for this country." in current
    assert "Nobody has left a post yet." in former
    assert "<table>" not in current and "<table>" not in former
    assert "Francine Paris" not in html


def test_the_list_needs_a_login_and_a_role(client, gb):
    response = client.get(list_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))

    response, html = get_html(client, factories.make_user(None, username="nobody"), list_url())
    assert response.status_code == 403
    assert "Your account has no role in the portal yet" in html


def test_an_unknown_country_is_not_found(client, viewer_user):
    response, _html = get_html(client, viewer_user, list_url("zz"))
    assert response.status_code == 404


# --- Adding a counterpart ------------------------------------------------------------------------------------------


def test_the_liaison_adds_a_counterpart(client, gb, writer):
    response, html = get_html(client, writer, new_url())
    assert response.status_code == 200
    assert "Add a counterpart in United Kingdom" in html

    data = {"name": "Ada Lovelace", "email": "ada@example.org", "phone": "+44 20 7946 0000",
            "active_from": _days(-5).isoformat(), "notes": "Met at the summit", **POST}  # fmt: skip
    response = client.post(new_url(), data)
    assert response.status_code == 302
    assert response["Location"] == list_url()

    ada = Counterpart.objects.get(name="Ada Lovelace")
    assert ada.country == gb
    assert (ada.title, ada.organisation, ada.email) == ("Director of Digital", "Ministry of Science", "ada@example.org")
    assert (ada.active_from, ada.active_to) == (_days(-5), None)
    event = Event.objects.get(subject_type="countries.counterpart", subject_id=str(ada.pk))
    assert (event.kind, event.actor, event.country_id) == ("counterpart.created", writer, gb.pk)

    html = client.get(list_url()).content.decode()
    assert "Ada Lovelace added." in html
    current, _former = sections(html)
    assert "Ada Lovelace" in current


def test_an_invalid_counterpart_is_refused_with_errors_next_to_the_fields(client, gb, writer):
    client.force_login(writer)
    data = {"name": "   ", "email": "not-an-email", "active_from": _days(-5).isoformat(), "notes": "Typed notes",
            "title": "Typed title", "organisation": "Typed ministry"}  # fmt: skip
    response = client.post(new_url(), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was saved" in html
    assert "This field is required." in field_error(html, "name")
    assert "Enter a valid email address." in field_error(html, "email")
    assert 'id="id_active_from_error"' not in html
    # What was typed is still there.
    for value in ("not-an-email", "Typed title", "Typed ministry", _days(-5).isoformat()):
        assert f'value="{value}"' in html
    assert "Typed notes</textarea>" in html
    assert not Counterpart.objects.exists()
    assert not Event.objects.filter(kind="counterpart.created").exists()


@pytest.mark.parametrize("user_fixture", ["fr_liaison", "viewer_user"])
def test_only_a_writer_of_the_country_may_add(client, gb, user_fixture, request):
    user = request.getfixturevalue(user_fixture)
    response, _html = get_html(client, user, new_url())
    assert response.status_code == 403
    response = client.post(new_url(), {"name": "Intruder", **POST})
    assert response.status_code == 403
    assert not Counterpart.objects.exists()
    assert not Event.objects.filter(kind__startswith="counterpart.").exists()


# --- Editing a counterpart -----------------------------------------------------------------------------------------


def test_the_edit_page_shows_the_current_values_and_the_history(client, ada, writer):
    response, html = get_html(client, writer, edit_url(ada))
    assert response.status_code == 200
    assert "<h1>Ada Lovelace</h1>" in html
    for value in ("Ada Lovelace", "Director of Digital", "Ministry of Science", "ada@example.org", _days(-100).isoformat()):
        assert f'value="{value}"' in html
    assert "Record the departure" in html and leave_url(ada) in html
    assert f'value="{timezone.localdate().isoformat()}"' in html  # "left on" proposes today
    entries = history(html)
    assert "Grace Hopper:" in entries and "added to the counterparts" in entries


def test_editing_a_counterpart_changes_it_and_records_the_change(client, ada, writer):
    client.force_login(writer)
    response = client.post(edit_url(ada), form_data(ada, title="Minister for AI"))
    assert response.status_code == 302
    assert response["Location"] == list_url()
    ada.refresh_from_db()
    assert ada.title == "Minister for AI"
    assert ada.email == "ada@example.org" and ada.active_from == _days(-100)
    event = Event.objects.get(kind="counterpart.updated", subject_id=str(ada.pk))
    assert event.payload == {"changes": {"title": ["Director of Digital", "Minister for AI"]}}
    assert event.actor == writer

    html = client.get(list_url()).content.decode()
    assert "Ada Lovelace saved." in html

    entries = history(client.get(edit_url(ada)).content.decode())
    # The template shows the field's verbose name as it is (lower case), like the other entries after "Name:".
    assert "title: Director of Digital → Minister for AI" in entries
    # Newest first: the change, then the creation, both by Grace.
    assert entries.index("title: Director of Digital") < entries.index("added to the counterparts")
    assert entries.count("Grace Hopper:") == 2


def test_the_history_shows_changed_dates_in_the_readers_format(client, ada, writer):
    client.force_login(writer)
    response = client.post(edit_url(ada), form_data(ada, active_from=_days(-90).isoformat()))
    assert response.status_code == 302
    event = Event.objects.get(kind="counterpart.updated", subject_id=str(ada.pk))
    assert event.payload == {"changes": {"active_from": [_days(-100).isoformat(), _days(-90).isoformat()]}}
    entries = history(client.get(edit_url(ada)).content.decode())
    assert f"in post from: {_shown(_days(-100))} → {_shown(_days(-90))}" in entries


def test_saving_without_a_change_records_nothing(client, ada, writer):
    client.force_login(writer)
    response = client.post(edit_url(ada), form_data(ada))
    assert response.status_code == 302
    assert not Event.objects.filter(kind="counterpart.updated").exists()


def test_an_invalid_edit_is_refused_and_changes_nothing(client, ada, writer):
    client.force_login(writer)
    response = client.post(edit_url(ada), form_data(ada, title="Minister for AI", email="not-an-email"))
    html = response.content.decode()
    assert response.status_code == 400
    assert "Enter a valid email address." in field_error(html, "email")
    assert 'value="not-an-email"' in html and 'value="Minister for AI"' in html
    ada.refresh_from_db()
    assert (ada.title, ada.email) == ("Director of Digital", "ada@example.org")
    assert not Event.objects.filter(kind="counterpart.updated").exists()


def test_a_counterpart_of_another_country_is_not_found_under_this_one(client, gb, writer):
    fr_person = factories.CounterpartFactory(country=factories.country("FR"), name="Francine Paris")
    response, _html = get_html(client, writer, edit_url(fr_person, code="gb"))
    assert response.status_code == 404
    response = client.post(edit_url(fr_person, code="gb"), form_data(fr_person, title="Changed"))
    assert response.status_code == 404
    response = client.post(leave_url(fr_person, code="gb"), {"left_on": _days(-1).isoformat()})
    assert response.status_code == 404
    fr_person.refresh_from_db()
    assert fr_person.title == "Director of Digital" and fr_person.active_to is None


def test_the_liaison_of_another_country_may_not_edit(client, ada, fr_liaison, viewer_user):
    for user in (fr_liaison, viewer_user):
        response, _html = get_html(client, user, edit_url(ada))
        assert response.status_code == 403
        response = client.post(edit_url(ada), form_data(ada, title="Changed"))
        assert response.status_code == 403
        response = client.post(leave_url(ada), {"left_on": _days(-1).isoformat(), "successor_name": "Intruder"})
        assert response.status_code == 403
    ada.refresh_from_db()
    assert ada.title == "Director of Digital" and ada.active_to is None
    assert list(Counterpart.objects.values_list("name", flat=True)) == ["Ada Lovelace"]
    assert not Event.objects.filter(kind="counterpart.updated").exists()


# --- Leaving a post ------------------------------------------------------------------------------------------------


def test_leaving_with_a_successor(client, ada, writer):
    client.force_login(writer)
    data = {"left_on": _days(-1).isoformat(), "successor_name": "Brian Successor", "successor_email": "brian@example.org"}
    response = client.post(leave_url(ada), data)
    assert response.status_code == 302
    assert response["Location"] == list_url()

    ada.refresh_from_db()
    assert ada.active_to == _days(-1) and not ada.is_active
    brian = Counterpart.objects.get(name="Brian Successor")
    assert (brian.country, brian.title, brian.organisation) == (ada.country, "Director of Digital", "Ministry of Science")
    assert (brian.email, brian.active_from, brian.active_to) == ("brian@example.org", _days(-1), None)
    assert Event.objects.filter(kind="counterpart.created", subject_id=str(brian.pk), actor=writer).exists()
    left = Event.objects.get(kind="counterpart.updated", subject_id=str(ada.pk))
    assert left.payload == {"changes": {"active_to": [None, _days(-1).isoformat()]}}

    html = client.get(list_url()).content.decode()
    assert f"Ada Lovelace left the post on {_shown(_days(-1))}; Brian Successor holds it now." in html
    current, former = sections(html)
    brian_row = row_of(current, "Brian Successor")
    assert "Ada Lovelace" in brian_row and f"until {_shown(_days(-1))}" in brian_row
    assert f"{_shown(_days(-100))} to {_shown(_days(-1))}" in row_of(former, "Ada Lovelace")
    assert "Brian Successor" not in former

    html = client.get(edit_url(ada)).content.decode()
    assert f"Left the post on {_shown(_days(-1))}" in html  # the subtitle
    assert f"left the post on {_shown(_days(-1))}" in history(html)
    assert "Record the departure" not in html and leave_url(ada) not in html


def test_leaving_without_a_successor(client, ada, writer):
    client.force_login(writer)
    response = client.post(leave_url(ada), {"left_on": _days(-1).isoformat(), "successor_name": "", "successor_email": ""})
    assert response.status_code == 302
    ada.refresh_from_db()
    assert ada.active_to == _days(-1)
    assert list(Counterpart.objects.values_list("name", flat=True)) == ["Ada Lovelace"]
    assert Event.objects.filter(kind="counterpart.created").count() == 1  # Ada's own

    html = client.get(list_url()).content.decode()
    assert f"Ada Lovelace left the post on {_shown(_days(-1))}." in html
    assert "holds it now" not in html
    current, former = sections(html)
    assert "Nobody is recorded in post for this country." in current
    assert "Ada Lovelace" in former


def test_leaving_before_taking_the_post_is_refused_and_adds_no_successor(client, ada, writer):
    client.force_login(writer)
    events_before = Event.objects.count()
    data = {"left_on": _days(-200).isoformat(), "successor_name": "Brian Successor", "successor_email": "brian@example.org"}
    response = client.post(leave_url(ada), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "“In post until” cannot be before “in post from”." in field_error(html, "left_on")
    assert 'value="Brian Successor"' in html and f'value="{_days(-200).isoformat()}"' in html
    ada.refresh_from_db()
    assert ada.active_to is None
    assert not Counterpart.objects.filter(name="Brian Successor").exists()
    assert Event.objects.count() == events_before
    # The page is still the edit page of someone in post: the details form shows the stored values.
    assert '<p class="subtitle">In post</p>' in html
    assert 'value="Director of Digital"' in html


def test_a_successor_the_service_refuses_undoes_the_departure(client, ada, writer):
    # 308 characters: a valid address for the form (up to 320) but too long for the model's field (254).
    long_email = "a" * 60 + "@" + ".".join(["b" * 60] * 4) + ".org"
    client.force_login(writer)
    events_before = Event.objects.count()
    data = {"left_on": _days(-1).isoformat(), "successor_name": "Brian Successor", "successor_email": long_email}
    response = client.post(leave_url(ada), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Ensure this value has at most 254 characters" in field_error(html, "successor_email")
    # The departure was written first, then rolled back with the refused successor.
    ada.refresh_from_db()
    assert ada.active_to is None
    assert not Counterpart.objects.filter(name="Brian Successor").exists()
    assert Event.objects.count() == events_before


def test_a_departure_needs_a_valid_date(client, ada, writer):
    client.force_login(writer)
    response = client.post(leave_url(ada), {"left_on": "", "successor_name": "Brian Successor"})
    assert response.status_code == 400
    assert "This field is required." in field_error(response.content.decode(), "left_on")
    ada.refresh_from_db()
    assert ada.active_to is None
    assert not Counterpart.objects.filter(name="Brian Successor").exists()


def test_leaving_a_post_twice_is_refused(client, ada, writer):
    counterpart_leave_post(actor=writer, counterpart=ada, left_on=_days(-10))
    response, html = get_html(client, writer, edit_url(ada))
    assert response.status_code == 200
    assert "Record the departure" not in html and leave_url(ada) not in html

    response = client.post(leave_url(ada), {"left_on": _days(-1).isoformat(), "successor_name": "Brian Successor"})
    html = response.content.decode()
    assert response.status_code == 400
    assert f"Ada Lovelace already left this post on {_shown(_days(-10))}." in html
    ada.refresh_from_db()
    assert ada.active_to == _days(-10)
    assert not Counterpart.objects.filter(name="Brian Successor").exists()


def test_after_leaving_today_the_departure_is_not_offered_again(client, ada, writer):
    """The leave form proposes today. Once that departure is recorded, the edit page must not offer a second one:
    the service refuses any departure for someone whose ``active_to`` is set ("already left this post")."""
    client.force_login(writer)
    response = client.post(leave_url(ada), {"left_on": timezone.localdate().isoformat(), "successor_name": ""})
    assert response.status_code == 302
    ada.refresh_from_db()
    assert ada.active_to == timezone.localdate()
    # The service refuses a second departure...
    response = client.post(leave_url(ada), {"left_on": timezone.localdate().isoformat()})
    assert response.status_code == 400
    assert "already left this post" in response.content.decode()
    # ...so the edit page must not offer one.
    html = client.get(edit_url(ada)).content.decode()
    assert "Record the departure" not in html and leave_url(ada) not in html


def test_leaving_needs_a_post_request(client, ada, writer):
    response, _html = get_html(client, writer, leave_url(ada))
    assert response.status_code == 405


# --- Query counts --------------------------------------------------------------------------------------------------


def _queries(client, user, url):
    cache.clear()
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_list_page_query_count_does_not_grow_with_counterparts(client, gb, writer):
    factories.CounterpartFactory(country=gb, name="Person 0", **POST)
    factories.CounterpartFactory(country=gb, name="Person 1", active_from=_days(-400), active_to=_days(-30), **POST)
    small = _queries(client, writer, list_url())
    for i in range(2, 40):
        former = i % 2 == 1
        factories.CounterpartFactory(
            country=gb, name=f"Person {i}", title=f"Post {i // 4}", organisation="Ministry of Science",
            active_from=_days(-400 - i), active_to=_days(-30 - i) if former else None,
        )  # fmt: skip
    html = client.get(list_url()).content.decode()
    current, former = sections(html)
    assert current.count('<th scope="row">') == 20 and former.count('<th scope="row">') == 20
    large = _queries(client, writer, list_url())
    assert small == large == 8


def test_the_edit_page_query_count_does_not_grow_with_history(client, ada, writer):
    small = _queries(client, writer, edit_url(ada))
    for i in range(19):
        counterpart_update(actor=writer, counterpart=ada, notes=f"Note {i}")
    assert Event.objects.filter(subject_id=str(ada.pk)).count() == 20
    assert history(client.get(edit_url(ada)).content.decode()).count('class="entry"') == 20
    large = _queries(client, writer, edit_url(ada))
    assert small == large == 10  # with the records merged into it


# --- French --------------------------------------------------------------------------------------------------------


def test_the_list_page_in_french(client, gb_people, viewer_user):
    response, html = get_html(client, viewer_user, list_url(), HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    assert '<html lang="fr">' in html
    assert "Anciens homologues" in html and "Prédécesseurs à ce poste" in html
    assert "Former counterparts" not in html and "Held the post before" not in html
    current, _former = sections(html)
    assert f"jusqu’au {_shown(_days(-31), 'fr')}" in row_of(current, "Ada Lovelace")


def test_the_edit_history_in_french(client, ada, writer):
    counterpart_update(actor=writer, counterpart=ada, title="Minister for AI")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    client.force_login(writer)
    response = client.post(leave_url(ada), {"left_on": _days(-1).isoformat(), "successor_name": "Brian Successor"}, follow=True)
    html = response.content.decode()
    assert response.redirect_chain == [(list_url(), 302)]
    assert f"Ada Lovelace a quitté le poste le {_shown(_days(-1), 'fr')} ; Brian Successor l’occupe désormais." in html

    entries = history(client.get(edit_url(ada)).content.decode())
    assert "ajouté(e) aux homologues" in entries
    assert "titre : Director of Digital → Minister for AI" in entries
    assert f"a quitté le poste le {_shown(_days(-1), 'fr')}" in entries
    assert "added to the counterparts" not in entries and "left the post on" not in entries


# --- after the review: correcting a departure, and a successor's e-mail without a name -------------------


def test_a_departure_recorded_by_mistake_can_be_cleared_in_the_edit_form(client, gb_liaison):
    gb = factories.country("GB")
    person = counterpart_create(actor=gb_liaison, country=gb, name="Ada Lovelace", title="Minister")
    counterpart_leave_post(actor=gb_liaison, counterpart=person, left_on=timezone.localdate() - datetime.timedelta(days=3))
    client.force_login(gb_liaison)
    url = reverse("counterpart-edit", args=["gb", person.pk])
    response = client.post(url, {"name": "Ada Lovelace", "title": "Minister", "active_to": ""})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.active_to is None and person.is_active
    assert "Record the departure" in client.get(url).content.decode()


def test_a_successors_email_without_a_name_is_refused_and_nothing_changes(client, gb_liaison):
    gb = factories.country("GB")
    person = counterpart_create(actor=gb_liaison, country=gb, name="Ada Lovelace", title="Minister")
    client.force_login(gb_liaison)
    response = client.post(
        reverse("counterpart-leave", args=["gb", person.pk]),
        {"left_on": timezone.localdate().isoformat(), "successor_email": "next@example.org"},
    )
    assert response.status_code == 400
    assert "Give the successor&#x27;s name with their e-mail" in response.content.decode()
    person.refresh_from_db()
    assert person.active_to is None
    assert Counterpart.objects.filter(country=gb).count() == 1
