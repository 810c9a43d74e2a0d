"""Logging an engagement from the portal: the form (tracks, counterparts with quick-add, follow-up rows, confidential),
who may use it, errors next to their fields with the input kept, the htmx fragments, constant queries, French."""

import datetime
import re
from html import unescape

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from countries.models import Counterpart
from engagements.models import Engagement, FollowUp
from engagements.services import follow_up_create
from partnerships.services import partnership_create
from tests import factories
from tracks.models import Track

pytestmark = pytest.mark.django_db


def _days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.fixture
def gb_form(staff_user, gb_liaison):
    """GB in the programme (its tracks exist), one active counterpart and one who has left."""
    gb = factories.country("GB")
    partnership_create(actor=staff_user, country=gb)
    return {
        "country": gb,
        "ada": factories.CounterpartFactory(country=gb, name="Ada Minister", title="Minister for AI"),
        "former": factories.CounterpartFactory(country=gb, name="Old Official", active_from=_days(-400), active_to=_days(-30)),
    }


def new_url(code="gb"):
    return reverse("engagement-new", args=[code])


def add_url(code="gb"):
    return reverse("engagement-counterpart-add", args=[code])


def row_url(code="gb"):
    return reverse("engagement-follow-up-row", args=[code])


def get_form(client, user, code="gb", **extra):
    client.force_login(user)
    response = client.get(new_url(code), **extra)
    return response, response.content.decode()


def post_data(**overrides):
    """A valid POST of the form with one blank follow-up row; ``overrides`` replace or add fields (None removes one)."""
    data = {
        "occurred_on": _days(-2).isoformat(),
        "kind": "meeting",
        "summary": "Talked about the skills programme.",
        "outcome": "",
        "new_counterpart_name": "",
        "new_counterpart_title": "",
        "new_counterpart_organisation": "",
        "fu-TOTAL_FORMS": "1",
        "fu-INITIAL_FORMS": "1",
        "fu-MIN_NUM_FORMS": "0",
        "fu-MAX_NUM_FORMS": "20",
        "fu-0-description": "",
        "fu-0-owner": "",
        "fu-0-due_on": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def tag(html, name, value=None):
    """The first ``<input>``/``<select>``/``<textarea>`` opening tag with that name (and value), or ''."""
    value_part = rf'[^>]*\bvalue="{re.escape(str(value))}"' if value is not None else ""
    match = re.search(rf'<(?:input|select|textarea)\b[^>]*\bname="{re.escape(name)}"{value_part}[^>]*>', html)
    return match.group(0) if match else ""


def select_html(html, name):
    match = re.search(rf'<select\b[^>]*\bname="{re.escape(name)}".*?</select>', html, re.S)
    assert match, f"no select named {name}"
    return match.group(0)


def is_checked(html, name, value):
    found = tag(html, name, value)
    assert found, f"no input {name}={value}"
    return re.search(r"\schecked(\s|>|=)", found) is not None


def row_html(html, index):
    """The fieldset of the index-th follow-up row."""
    match = re.search(rf'<fieldset class="follow-up-row" id="follow-up-{index}">.*?</fieldset>', html, re.S)
    assert match, f"no follow-up row {index}"
    return match.group(0)


def counts():
    return Engagement.objects.count(), Counterpart.objects.count(), FollowUp.objects.count()


# --- the empty form ---------------------------------------------------------------------------------


def test_the_form_offers_todays_date_active_tracks_current_counterparts_and_a_follow_up_row(client, gb_form, gb_liaison):
    Track.objects.create(key="retired", name_en="Retired track", name_fr="Volet retiré", position=9, is_active=False)
    response, html = get_form(client, gb_liaison)
    assert response.status_code == 200
    assert "<h1>Log an engagement with United Kingdom</h1>" in html
    assert tag(html, "occurred_on", timezone.localdate().isoformat())
    assert "selected>Meeting</option>" in select_html(html, "kind")
    # The four active tracks, as checkboxes, none ticked; a retired track is not offered.
    track_boxes = re.findall(r'<input type="checkbox" name="tracks"[^>]*>', html)
    assert len(track_boxes) == 4
    for name in ("Workforce training", "Public-service improvement", "AI safety standards", "Data centres and supercomputers"):
        assert name in html
    assert "Retired track" not in html
    assert not any("checked" in box for box in track_boxes)
    # Current counterparts only: someone who has left is not offered.
    assert is_checked(html, "counterparts", gb_form["ada"].pk) is False
    assert "Ada Minister (Minister for AI)" in html
    assert "Old Official" not in html and not tag(html, "counterparts", gb_form["former"].pk)
    assert "No counterpart on record for this country yet" not in html
    # A follow-up row whose owner is the liaison, until they choose someone else.
    first_row = row_html(html, 0)
    assert 'name="fu-0-description"' in first_row and 'name="fu-0-due_on"' in first_row
    assert re.search(rf'<option value="{gb_liaison.pk}" selected>', select_html(first_row, "fu-0-owner"))
    # The draft kept in the browser is the liaison's, for this country, and may be restored on an empty form.
    assert f'data-draft="engagement:GB:{gb_liaison.pk}" data-draft-restore>' in html
    assert 'name="portal-clear-draft"' not in html


def test_the_empty_form_has_exactly_one_follow_up_row(client, gb_form, gb_liaison):
    _response, html = get_form(client, gb_liaison)
    assert html.count('class="follow-up-row"') == 1
    assert tag(html, "fu-TOTAL_FORMS", 1)


def test_a_country_without_counterparts_says_so(client, staff_user, gb_liaison):
    partnership_create(actor=staff_user, country=factories.country("GB"))
    _response, html = get_form(client, gb_liaison)
    assert "No counterpart on record for this country yet: add one below." in html


# --- who may use it -----------------------------------------------------------------------------------


def test_only_those_who_write_for_the_country_get_the_form(client, gb_form, fr_liaison, viewer_user, staff_user):
    response, _html = get_form(client, fr_liaison)
    assert response.status_code == 403
    response, _html = get_form(client, viewer_user)
    assert response.status_code == 403
    response, _html = get_form(client, staff_user)
    assert response.status_code == 200
    response, _html = get_form(client, staff_user, code="zz")
    assert response.status_code == 404


def test_anonymous_is_sent_to_sign_in(client, gb_form):
    response = client.get(new_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")
    response = client.post(new_url(), post_data())
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert Engagement.objects.count() == 0


def test_a_forged_post_by_someone_else_creates_nothing(client, gb_form, fr_liaison, viewer_user):
    before = counts()
    data = post_data(
        **{"new_counterpart_name": "Intruder Person", "fu-0-description": "Sneak", "fu-0-due_on": _days(3).isoformat()}
    )
    for user in (fr_liaison, viewer_user):
        client.force_login(user)
        assert client.post(new_url(), data).status_code == 403
        assert client.post(add_url(), {"new_counterpart_name": "Intruder Person"}).status_code == 403
        assert client.get(row_url(), {"fu-TOTAL_FORMS": "1"}).status_code == 403
    assert counts() == before
    assert not Counterpart.objects.filter(name="Intruder Person").exists()


def test_the_htmx_endpoints_need_sign_in_and_a_known_country(client, gb_form, gb_liaison):
    assert client.post(add_url(), {"new_counterpart_name": "Someone"}).status_code == 302
    assert client.get(row_url(), {"fu-TOTAL_FORMS": "1"}).status_code == 302
    client.force_login(gb_liaison)
    assert client.post(add_url("zz"), {"new_counterpart_name": "Someone"}).status_code == 404
    assert client.get(row_url("zz"), {"fu-TOTAL_FORMS": "1"}).status_code == 404
    assert client.get(add_url()).status_code == 405
    assert not Counterpart.objects.filter(name="Someone").exists()


# --- saving ---------------------------------------------------------------------------------------


def test_a_full_engagement_is_saved_with_a_new_counterpart_and_its_follow_up(client, gb_form, gb_liaison):
    client.force_login(gb_liaison)
    workforce, safety = factories.track("workforce"), factories.track("safety_standards")
    occurred_on = _days(-2)
    data = post_data(**{
        "occurred_on": occurred_on.isoformat(),
        "kind": "visit",
        "tracks": [str(workforce.pk), str(safety.pk)],
        "counterparts": [str(gb_form["ada"].pk)],
        "new_counterpart_name": "Grace Newcomer",
        "new_counterpart_title": "Chief Digital Officer",
        "summary": "Visited the ministry about the skills plan.",
        "outcome": "Agreed to draft a memorandum.",
        "confidential": "on",
        "fu-TOTAL_FORMS": "2",
        "fu-0-description": "Send the draft memorandum",
        "fu-0-owner": str(gb_liaison.pk),
        "fu-0-due_on": _days(10).isoformat(),
        # The second row was added and left blank (its owner preselected, as the form does): ignored.
        "fu-1-description": "",
        "fu-1-owner": str(gb_liaison.pk),
        "fu-1-due_on": "",
    })  # fmt: skip
    response = client.post(new_url(), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("country-detail", args=["gb"]) + "#timeline-title"

    engagement = Engagement.objects.get()
    assert engagement.country == gb_form["country"] and engagement.occurred_on == occurred_on
    assert engagement.kind == "visit" and engagement.logged_by == gb_liaison
    assert engagement.sensitivity == Engagement.Sensitivity.CONFIDENTIAL
    assert engagement.summary == "Visited the ministry about the skills plan."
    assert engagement.outcome == "Agreed to draft a memorandum."
    assert set(engagement.tracks.values_list("key", flat=True)) == {"workforce", "safety_standards"}
    newcomer = Counterpart.objects.get(name="Grace Newcomer")
    assert newcomer.country == gb_form["country"] and newcomer.title == "Chief Digital Officer"
    assert set(engagement.counterparts.all()) == {gb_form["ada"], newcomer}
    follow_up = FollowUp.objects.get()
    assert follow_up.engagement == engagement and follow_up.country == gb_form["country"]
    assert follow_up.description == "Send the draft memorandum"
    assert follow_up.owner == gb_liaison and follow_up.due_on == _days(10)

    # The country page says so, shows the engagement, and tells the browser to forget the draft, once.
    html = client.get(response["Location"]).content.decode()
    expected = f"Engagement of {date_format(occurred_on)} logged for United Kingdom."
    assert expected in html
    timeline = html.split('id="timeline-title"')[1].split('id="follow-ups-title"')[0]
    assert "Visited the ministry about the skills plan." in timeline
    assert f'<meta name="portal-clear-draft" content="engagement:GB:{gb_liaison.pk}">' in html
    again = client.get(reverse("country-detail", args=["gb"])).content.decode()
    assert 'name="portal-clear-draft"' not in again and expected not in again


def test_a_minimal_engagement_is_normal_and_has_no_follow_up(client, gb_form, gb_liaison):
    client.force_login(gb_liaison)
    response = client.post(new_url(), post_data(**{"fu-0-owner": str(gb_liaison.pk)}))
    assert response.status_code == 302
    engagement = Engagement.objects.get()
    assert engagement.sensitivity == Engagement.Sensitivity.NORMAL
    assert not engagement.tracks.exists() and not engagement.counterparts.exists()
    assert FollowUp.objects.count() == 0
    assert Counterpart.objects.count() == 2


# --- errors next to their fields, input kept ---------------------------------------------------------


def test_errors_are_shown_next_to_their_fields_and_nothing_typed_is_lost(client, gb_form, gb_liaison):
    client.force_login(gb_liaison)
    workforce = factories.track("workforce")
    before = counts()
    data = post_data(**{
        "tracks": [str(workforce.pk)],
        "counterparts": [str(gb_form["ada"].pk)],
        "summary": "   ",
        "outcome": "They will reply by Friday.",
        "new_counterpart_title": "Deputy Director",
        "confidential": "on",
        "fu-0-description": "Chase the reply",
        "fu-0-owner": str(gb_liaison.pk),
        "fu-0-due_on": _days(5).isoformat(),
    })  # fmt: skip
    response = client.post(new_url(), data)
    assert response.status_code == 400
    assert counts() == before
    html = response.content.decode()
    assert "The engagement was not saved: please correct the fields marked below. Nothing you typed was lost." in html
    assert '<div class="field-errors" id="id_summary_error"><p class="field-error">Summarise what was discussed.</p>' in html
    assert (
        '<div class="field-errors" id="id_new_counterpart_name_error"><p class="field-error">'
        "Give the new counterpart&#x27;s name, or clear the title and ministry.</p>"
    ) in html
    assert 'aria-describedby="id_summary_helptext id_summary_error"' in tag(html, "summary")
    # What was typed and ticked comes back.
    assert "They will reply by Friday.</textarea>" in html
    assert tag(html, "new_counterpart_title", "Deputy Director")
    assert is_checked(html, "tracks", workforce.pk)
    assert not is_checked(html, "tracks", factories.track("data_centres").pk)
    assert is_checked(html, "counterparts", gb_form["ada"].pk)
    assert re.search(r"\schecked\b", tag(html, "confidential"))
    assert tag(html, "fu-0-description", "Chase the reply")
    assert tag(html, "fu-0-due_on", _days(5).isoformat())
    assert re.search(rf'<option value="{gb_liaison.pk}" selected>', select_html(html, "fu-0-owner"))
    # A bound form is not overwritten by a stored draft.
    assert f'data-draft="engagement:GB:{gb_liaison.pk}">' in html and "data-draft-restore" not in html


def test_an_engagement_in_the_future_is_refused(client, gb_form, gb_liaison):
    client.force_login(gb_liaison)
    response = client.post(new_url(), post_data(occurred_on=_days(1).isoformat(), new_counterpart_name="Future Person"))
    assert response.status_code == 400
    html = response.content.decode()
    assert (
        '<div class="field-errors" id="id_occurred_on_error"><p class="field-error">'
        "An engagement cannot be logged in the future; plan it as a follow-up instead.</p>"
    ) in html
    assert tag(html, "occurred_on", _days(1).isoformat())
    assert Engagement.objects.count() == 0
    assert not Counterpart.objects.filter(name="Future Person").exists()


def test_a_follow_up_without_due_date_is_refused_in_its_row_and_the_quick_added_counterpart_is_rolled_back(
    client, gb_form, gb_liaison
):
    client.force_login(gb_liaison)
    before = counts()
    data = post_data(**{
        "new_counterpart_name": "Rolled Back",
        "new_counterpart_title": "Adviser",
        "fu-TOTAL_FORMS": "2",
        # The first row is left blank, so the service's "follow_ups.0" is the form's second row.
        "fu-0-owner": str(gb_liaison.pk),
        "fu-1-description": "Book the next visit",
        "fu-1-owner": str(gb_liaison.pk),
        "fu-1-due_on": "",
    })  # fmt: skip
    response = client.post(new_url(), data)
    assert response.status_code == 400
    assert counts() == before
    assert not Counterpart.objects.filter(name="Rolled Back").exists()
    html = response.content.decode()
    second = row_html(html, 1)
    assert (
        '<div class="field-errors" id="id_fu-1-due_on_error"><p class="field-error">A follow-up needs a due date.</p>' in second
    )
    assert tag(second, "fu-1-description", "Book the next visit")
    assert "field-error" not in row_html(html, 0)
    # The quick-add is still filled in, to be saved with the corrected form.
    assert tag(html, "new_counterpart_name", "Rolled Back") and tag(html, "new_counterpart_title", "Adviser")


def test_a_due_date_without_description_is_refused_in_its_row(client, gb_form, gb_liaison):
    client.force_login(gb_liaison)
    response = client.post(new_url(), post_data(**{"fu-0-due_on": _days(3).isoformat()}))
    assert response.status_code == 400
    assert (
        '<div class="field-errors" id="id_fu-0-description_error"><p class="field-error">Say what is to be done.</p>'
        in row_html(response.content.decode(), 0)
    )
    assert counts()[0] == 0 and FollowUp.objects.count() == 0


# --- follow-up owners ----------------------------------------------------------------------------------


def test_follow_up_owners_are_the_people_who_write_for_the_country(
    client, gb_form, gb_liaison, fr_liaison, staff_user, viewer_user
):
    other_gb = factories.liaison("GB", username="gb-second", first_name="Second", last_name="Liaison")
    _response, html = get_form(client, gb_liaison)
    owners = select_html(html, "fu-0-owner")
    offered = set(re.findall(r'<option value="(\d+)"', owners))
    assert offered == {str(gb_liaison.pk), str(other_gb.pk), str(staff_user.pk)}
    assert "Second Liaison" in owners and "Nobody yet" in owners
    assert str(fr_liaison.pk) not in offered and str(viewer_user.pk) not in offered


def test_a_liaison_of_another_country_cannot_be_made_owner(client, gb_form, gb_liaison, fr_liaison):
    client.force_login(gb_liaison)
    before = counts()
    data = post_data(**{"fu-0-description": "Ask France", "fu-0-owner": str(fr_liaison.pk), "fu-0-due_on": _days(4).isoformat()})
    response = client.post(new_url(), data)
    assert response.status_code == 400
    assert counts() == before
    first = row_html(response.content.decode(), 0)
    assert 'id="id_fu-0-owner_error"><p class="field-error">Select a valid choice.' in first


# --- htmx: quick-add of a counterpart ------------------------------------------------------------------


def test_quick_add_creates_the_counterpart_and_ticks_it(client, gb_form, gb_liaison):
    client.force_login(gb_liaison)
    ada = gb_form["ada"]
    response = client.post(
        add_url(),
        {
            "counterparts": [str(ada.pk)],
            "new_counterpart_name": "Grace Quick",
            "new_counterpart_title": "Permanent Secretary",
            "new_counterpart_organisation": "Ministry of Digital",
            "summary": "typed so far",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    grace = Counterpart.objects.get(name="Grace Quick")
    assert grace.country == gb_form["country"]
    assert grace.title == "Permanent Secretary" and grace.organisation == "Ministry of Digital"
    html = response.content.decode()
    assert html.startswith('<div id="counterpart-picker"') and "<html" not in html
    assert is_checked(html, "counterparts", ada.pk) and is_checked(html, "counterparts", grace.pk)
    assert "Grace Quick (Permanent Secretary)" in html
    assert "Grace Quick added and ticked." in html
    for field in ("new_counterpart_name", "new_counterpart_title", "new_counterpart_organisation"):
        assert tag(html, field) and "value=" not in tag(html, field), field
    assert "field-error" not in html


def test_quick_add_without_a_name_is_refused(client, gb_form, gb_liaison):
    client.force_login(gb_liaison)
    before = counts()
    response = client.post(add_url(), {"counterparts": [str(gb_form["ada"].pk)], "new_counterpart_name": "  "})
    assert response.status_code == 422
    assert counts() == before
    html = unescape(response.content.decode())
    assert html.startswith('<div id="counterpart-picker"')
    assert "Give the new counterpart's name." in html
    assert is_checked(html, "counterparts", gb_form["ada"].pk)
    assert "added and ticked" not in html


# --- htmx: one more follow-up row ---------------------------------------------------------------------


def test_another_follow_up_row(client, gb_form, gb_liaison):
    client.force_login(gb_liaison)
    response = client.get(row_url(), {"fu-TOTAL_FORMS": "1"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    row = row_html(html, 1)
    assert "Follow-up 2" in row
    for name in ("fu-1-description", "fu-1-owner", "fu-1-due_on"):
        assert tag(row, name), name
    assert "fu-0-" not in html
    assert re.search(rf'<option value="{gb_liaison.pk}" selected>', select_html(row, "fu-1-owner"))
    assert '<input type="hidden" name="fu-TOTAL_FORMS" value="2" id="id_fu-TOTAL_FORMS" data-hx-swap-oob="true">' in html
    assert " required" not in html


def test_follow_up_rows_stop_at_the_maximum_and_need_a_number(client, gb_form, gb_liaison):
    client.force_login(gb_liaison)
    last = client.get(row_url(), {"fu-TOTAL_FORMS": "19"})
    assert last.status_code == 200 and 'name="fu-19-description"' in last.content.decode()
    assert 'name="fu-TOTAL_FORMS" value="20"' in last.content.decode()
    full = client.get(row_url(), {"fu-TOTAL_FORMS": "20"})
    assert full.status_code == 204 and full.content == b""
    assert client.get(row_url(), {"fu-TOTAL_FORMS": "-1"}).status_code == 204
    missing = client.get(row_url())
    assert missing.status_code == 400 and "The number of rows is missing." in missing.content.decode()
    assert client.get(row_url(), {"fu-TOTAL_FORMS": "two"}).status_code == 400


# --- htmx: marking a follow-up done in place -------------------------------------------------------


@pytest.fixture
def open_follow_up(gb_form, gb_liaison):
    return follow_up_create(
        actor=gb_liaison, country=gb_form["country"], description="Send the signed letter", due_on=_days(2), owner=gb_liaison
    )


def test_marking_done_with_htmx_returns_the_row_and_leaves_no_message(client, open_follow_up, gb_liaison):
    client.force_login(gb_liaison)
    url = reverse("follow-up-done", args=[open_follow_up.pk])
    response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<tr class="follow-up-done">') and "<html" not in html
    assert "Done: Send the signed letter" in html
    open_follow_up.refresh_from_db()
    assert open_follow_up.done_at is not None and open_follow_up.done_by == gb_liaison
    # The row said it; the next page does not say it again.
    page = client.get(reverse("follow-ups")).content.decode()
    assert "Done: Send the signed letter" not in page and 'class="messages"' not in page
    # Twice: the row says why, nothing changes.
    again = client.post(url, headers={"HX-Request": "true"})
    assert again.status_code == 422
    assert '<span class="field-error">This follow-up was already marked done.</span>' in again.content.decode()


def test_marking_done_without_htmx_still_redirects(client, open_follow_up, gb_liaison, fr_liaison):
    url = reverse("follow-up-done", args=[open_follow_up.pk])
    client.force_login(fr_liaison)
    assert client.post(url, headers={"HX-Request": "true"}).status_code == 403
    client.force_login(gb_liaison)
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("follow-ups")
    assert "Done: Send the signed letter" in client.get(reverse("follow-ups")).content.decode()
    open_follow_up.refresh_from_db()
    assert open_follow_up.done_by == gb_liaison


# --- queries ------------------------------------------------------------------------------------------


def _queries(client, user):
    cache.clear()  # the demo-data banner's flag is cached between requests
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(new_url()).status_code == 200
    return len(ctx.captured_queries)


def test_the_form_query_count_does_not_grow(client, staff_user, gb_liaison):
    gb = factories.country("GB")
    partnership_create(actor=staff_user, country=gb)
    factories.CounterpartFactory(country=gb, name="First Person")
    factories.CounterpartFactory(country=gb, name="Second Person")
    small = _queries(client, gb_liaison)  # 2 counterparts, 2 owners (the liaison and programme staff)
    for i in range(28):
        factories.CounterpartFactory(country=gb, name=f"Person {i:02}")
    for i in range(10):
        factories.liaison("GB", username=f"gb-liaison-{i}")
    large = _queries(client, gb_liaison)
    html = client.get(new_url()).content.decode()
    assert len(re.findall(r'name="counterparts"', html)) == 30
    assert len(re.findall(r'<option value="\d+"', select_html(html, "fu-0-owner"))) == 12
    assert small == large == 10


# --- French -------------------------------------------------------------------------------------------


def test_the_form_is_in_french(client, gb_form, gb_liaison):
    _response, html = get_form(client, gb_liaison, HTTP_ACCEPT_LANGUAGE="fr")
    assert "<title>Consigner un échange – Royaume-Uni" in html
    assert "<h1>Consigner un échange – Royaume-Uni</h1>" in html
    assert "<legend>Volets concernés</legend>" in html
    assert "Formation de la main-d&#x27;œuvre" in html or "Formation de la main-d'œuvre" in html


def test_errors_are_in_french_with_the_language_cookie(client, gb_form, gb_liaison):
    from django.conf import settings

    client.force_login(gb_liaison)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    response = client.post(new_url(), post_data(**{"fu-0-description": "Relancer", "fu-0-due_on": ""}))
    assert response.status_code == 400
    assert "Un suivi doit comporter une échéance." in row_html(response.content.decode(), 0)
    html = client.get(new_url()).content.decode()
    assert "Volets concernés" in html


# --- after the review: expired sessions under htmx, rows that do not cost queries, errors on groups ------


def test_an_htmx_request_with_an_expired_session_is_sent_to_sign_in_without_a_swap(client, gb_form, open_follow_up):
    headers = {"HX-Request": "true", "HX-Current-URL": "http://testserver/countries/gb/engagements/new/?x=1"}
    for response in (
        client.post(add_url(), {"new_counterpart_name": "Late Person"}, headers=headers),
        client.get(row_url(), {"fu-TOTAL_FORMS": "1"}, headers=headers),
        client.post(reverse("follow-up-done", args=[open_follow_up.pk]), headers=headers),
    ):
        assert response.status_code == 401
        assert response["HX-Redirect"] == "/accounts/login/?next=%2Fcountries%2Fgb%2Fengagements%2Fnew%2F%3Fx%3D1"
        assert response.content == b""  # nothing for htmx to swap into the form
    assert not Counterpart.objects.filter(name="Late Person").exists()
    # Without htmx the usual redirect to the sign-in page stays.
    assert client.get(row_url(), {"fu-TOTAL_FORMS": "1"}).status_code == 302


def test_a_refused_form_with_many_follow_up_rows_costs_the_same_queries_as_with_one(client, gb_form, gb_liaison):
    client.force_login(gb_liaison)

    def refused_post(rows):
        data = post_data(summary="", **{"fu-TOTAL_FORMS": str(rows)})
        for i in range(rows):
            data.update(
                {f"fu-{i}-description": f"Task {i}", f"fu-{i}-owner": str(gb_liaison.pk), f"fu-{i}-due_on": _days(3).isoformat()}
            )
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(new_url(), data)
        assert response.status_code == 400
        assert response.content.decode().count('class="follow-up-row"') == rows
        return len(ctx.captured_queries)

    assert refused_post(1) == refused_post(15)


def test_an_error_on_a_group_of_checkboxes_is_linked_to_the_group(client, gb_form, gb_liaison):
    client.force_login(gb_liaison)
    response = client.post(new_url(), post_data(tracks="no-such-track"))
    html = response.content.decode()
    assert response.status_code == 400
    fieldset = re.search(r'<fieldset class="field choices has-error"[^>]*>\s*<legend>Tracks touched', html)
    assert fieldset, "the tracks group is marked as in error"
    assert 'aria-describedby="id_tracks_error"' in fieldset.group(0)
    assert '<div class="field-errors" id="id_tracks_error">' in html
