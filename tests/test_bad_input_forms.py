"""Bad input on the portal's HTML forms never gives a 500 and changes nothing (SECURITY.md section 7).

Each portal form that writes is sent, by someone allowed to use it:

1. NUL bytes in every text field (and, apart, in its choice, date, number and hidden fields): the page comes back
   with the error next to each field, and no row of any table the portal writes (outbox and audit log included)
   is added, changed or removed;
2. invalid UTF-8, percent-encoded and raw, in an urlencoded body: never a 500, nothing changed;
3. a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` or with more fields than ``DATA_UPLOAD_MAX_NUMBER_FIELDS``: a 400,
   nothing changed; a 100,000-character value in a field with a maximum length: refused with the form's error;
4. HTML and script in free text: wherever it is shown afterwards, it is escaped.

And the search box, the list filters and the country code in paths, with NUL bytes, 100,000-character values and
broken encodings: never a 500.

PostgreSQL's driver refuses a NUL byte in a query parameter (psycopg2: ``ValueError``, a 500), where SQLite stores
it; ``_nul_refused_as_on_postgresql`` makes SQLite refuse it too, so a run on SQLite finds what PostgreSQL would.
"""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import SimpleNamespace
from urllib.parse import quote, urlencode

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests import factories

pytestmark = pytest.mark.django_db

NUL = "a\x00b"
LONG = "x" * 100_000
XSS = '<script>alert(1)</script><img src=x onerror="alert(2)">'
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

# Every table a portal form can write, the outbox (core.Event), the audit log and the sign-in records included.
TABLES = [
    "partnerships.Partnership",
    "partnerships.CountryTrack",
    "partnerships.StageChange",
    "engagements.Engagement",
    "engagements.EngagementTrack",
    "engagements.Engagement_counterparts",
    "engagements.FollowUp",
    "engagements.Agreement",
    "announcements.Announcement",
    "announcements.Announcement_countries",
    "announcements.Announcement_tracks",
    "announcements.Announcement_agreements",
    "announcements.Announcement_facilities",
    "announcements.AnnouncementRevision",
    "countries.Counterpart",
    "core.Event",
    "core.ApiToken",
    "notifications.Preference",
    "notifications.Subscription",
    "notifications.Notification",
    "auditlog.LogEntry",
    "auth.User",
    "axes.AccessAttempt",
    "axes.AccessLog",
    "axes.AccessFailureLog",
]


def snapshot() -> dict:
    """Every row of every table above, with every column: an update shows as well as an insert or a delete."""
    return {label: list(apps.get_model(label).objects.order_by("pk").values()) for label in TABLES}


class Unchanged:
    """``with Unchanged():`` no row of ``TABLES`` is added, changed or removed (but those of ``allowed``)."""

    def __init__(self, allowed=()):
        self.allowed = allowed

    def __enter__(self):
        self.before = snapshot()
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            after = snapshot()
            changed = [label for label in TABLES if after[label] != self.before[label] and label not in self.allowed]
            assert not changed, f"changed: {changed}"


@pytest.fixture(autouse=True)
def _nul_refused_as_on_postgresql():
    """psycopg2 refuses a str parameter with a NUL byte ("A string literal cannot contain NUL (0x00) characters."):
    refuse it the same way on SQLite, so that a NUL reaching a query is the 500 it is on PostgreSQL."""

    def refuse(execute, sql, params, many, context):
        if many:
            params = list(params)
        for row in params if many else [params]:
            values = row.values() if isinstance(row, dict) else (row or ())
            if any(isinstance(value, str) and "\x00" in value for value in values):
                raise ValueError("A string literal cannot contain NUL (0x00) characters.")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse):
        yield


@pytest.fixture
def portal(gb_partnership, staff_user, gb_liaison):
    """GB in the programme, with a counterpart, an engagement with a follow-up, a draft and a published announcement,
    and an API token of the liaison."""
    from announcements.services import announcement_create, announcement_publish
    from core.services import api_token_create
    from countries.services import counterpart_create
    from engagements.services import engagement_log
    from partnerships.models import CountryTrack
    from partnerships.rollup import rollup_countries

    today = timezone.localdate()
    gb = gb_partnership.country
    counterpart = counterpart_create(actor=staff_user, country=gb, name="Ada Minister", title="Minister for AI")
    engagement = engagement_log(
        actor=staff_user,
        country=gb,
        occurred_on=today - datetime.timedelta(days=3),
        kind="meeting",
        summary="Kick-off",
        follow_ups=[{"description": "Send the draft", "due_on": today + datetime.timedelta(days=7), "owner": gb_liaison}],
    )
    draft = announcement_create(actor=staff_user, title="GB joins", body="Text.", countries=[gb])
    published = announcement_create(actor=staff_user, title="GB signs", body="Text.", countries=[gb])
    announcement_publish(actor=staff_user, announcement=published)
    token, _secret = api_token_create(actor=gb_liaison, user=gb_liaison, name="existing", days=30)
    rollup_countries()
    return SimpleNamespace(
        staff=staff_user,
        liaison=gb_liaison,
        gb=gb,
        workforce=factories.track("workforce"),
        counterpart=counterpart,
        follow_up=engagement.follow_ups.get(),
        draft=draft,
        published=published,
        token=token,
        cell=CountryTrack.objects.get(country=gb, track__key="workforce"),
        today=today,
    )


def client_for(portal, who: str, **kwargs) -> Client:
    """A client signed in as ``who`` ("staff", "liaison" or "" for nobody); a 500 comes back as a response."""
    client = Client(raise_request_exception=False, **kwargs)
    if who:
        client.force_login(getattr(portal, who))
    return client


def assert_not_5xx(response):
    exc = getattr(response, "exc_info", None)
    assert response.status_code < 500, (response.status_code, exc and repr(exc[1]))


# gunicorn refuses to send a header value with other characters (a 500 the test client would not show).
SENDABLE_HEADER = re.compile(r"[ \t\x21-\x7e\x80-\xff]*")


def assert_headers_sendable(response):
    for name, value in response.headers.items():
        assert SENDABLE_HEADER.fullmatch(value), (name, value[:200])


def assert_refused(response):
    """Refused with the page (or fragment) of the form again: never a redirect (a save), never a 500."""
    assert_not_5xx(response)
    assert response.status_code in (200, 400, 409, 422), response.status_code
    assert response.context is not None, "the form was not rendered again"


def assert_escaped(html: str):
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x onerror" not in html
    assert ESCAPED in html


# --- the forms ---------------------------------------------------------------------------------------------------


def _day(portal, days: int) -> str:
    return (portal.today + datetime.timedelta(days=days)).isoformat()


def _engagement(p) -> dict:
    return {
        "occurred_on": _day(p, -2),
        "kind": "meeting",
        "tracks": [str(p.workforce.pk)],
        "counterparts": [str(p.counterpart.pk)],
        "summary": "Talked about the skills programme.",
        "outcome": "They will send a draft.",
        "new_counterpart_name": "",
        "new_counterpart_title": "",
        "new_counterpart_organisation": "",
        "fu-TOTAL_FORMS": "1",
        "fu-INITIAL_FORMS": "0",
        "fu-MIN_NUM_FORMS": "0",
        "fu-MAX_NUM_FORMS": "20",
        "fu-0-description": "Send the memorandum",
        "fu-0-owner": str(p.liaison.pk),
        "fu-0-due_on": _day(p, 7),
    }


def _stage_move(p) -> dict:
    fields = {"action": "move", "to_stage": "negotiating", "note": "Talks opened", "reason": "", "resume_on": "", "evidence": ""}
    return {f"track-workforce-{key}": value for key, value in {**fields, "version": str(p.cell.version)}.items()}


def _counterpart(p) -> dict:
    return {
        "name": "Grace Official",
        "title": "Director of Data",
        "organisation": "Ministry of Digital",
        "email": "grace@example.org",
        "phone": "+44 20 7946 0000",
        "active_from": "2024-01-01",
        "active_to": "",
        "notes": "Met at the summit.",
    }


def _announcement(p) -> dict:
    return {
        "title": "GB and the programme",
        "body": "Text of it.",
        "countries": [str(p.gb.pk)],
        "tracks": [str(p.workforce.pk)],
        "is_public": "on",
        "source_url": "https://example.org/news",
    }


@dataclass(frozen=True)
class Form:
    """A portal form that writes: where it posts, who posts it, a valid submission and its fields by kind."""

    name: str
    who: str
    url: Callable
    valid: Callable
    text: tuple = ()  # free-text inputs
    other: tuple = ()  # choices, dates, numbers, ids, hidden fields
    limited: tuple = ()  # text fields with a maximum length
    dates: tuple = ()  # dates (and moments) a record carries: within core.limits' years
    forms: Callable = lambda context: [context["form"]]  # the bound forms of the page that comes back
    headers: tuple = ()
    may_change: tuple = ()  # tables a refused submission still writes (a failed sign-in counts towards the lockout)

    def __str__(self):
        return self.name


FORMS = [
    Form(
        "engagement-new",
        "liaison",
        lambda p: "/countries/gb/engagements/new/",
        _engagement,
        text=(
            "summary",
            "outcome",
            "new_counterpart_name",
            "new_counterpart_title",
            "new_counterpart_organisation",
            "fu-0-description",
        ),
        other=("occurred_on", "kind", "tracks", "counterparts", "fu-0-owner", "fu-0-due_on"),
        dates=("occurred_on", "fu-0-due_on"),
        limited=(
            "summary",
            "outcome",
            "new_counterpart_name",
            "new_counterpart_title",
            "new_counterpart_organisation",
            "fu-0-description",
        ),
        forms=lambda context: [context["form"], *context["formset"].forms],
    ),  # fmt: skip
    Form(
        "engagement-counterpart-quick-add",
        "liaison",
        lambda p: "/countries/gb/engagements/new/counterpart/",
        lambda p: {"new_counterpart_name": "Grace", "new_counterpart_title": "Director", "new_counterpart_organisation": "DSIT"},
        text=("new_counterpart_name", "new_counterpart_title", "new_counterpart_organisation"),
        limited=("new_counterpart_name", "new_counterpart_title", "new_counterpart_organisation"),
        headers=(("HX-Request", "true"),),
    ),
    Form(
        "track-stage-move",
        "liaison",
        lambda p: "/countries/gb/tracks/workforce/",
        _stage_move,
        text=("track-workforce-note", "track-workforce-reason"),
        other=(
            "track-workforce-action",
            "track-workforce-to_stage",
            "track-workforce-evidence",
            "track-workforce-version",
            "track-workforce-resume_on",
        ),
        limited=("track-workforce-note", "track-workforce-reason"),
        forms=lambda context: [cell.form for cell in context["cells"] if cell.track.key == "workforce"],
    ),  # fmt: skip
    Form(
        "counterpart-new",
        "liaison",
        lambda p: "/countries/gb/counterparts/new/",
        _counterpart,
        text=("name", "title", "organisation", "email", "phone", "notes"),
        other=("active_from", "active_to"),
        limited=("name", "title", "organisation", "email", "phone"),
    ),
    Form(
        "counterpart-edit",
        "liaison",
        lambda p: f"/countries/gb/counterparts/{p.counterpart.pk}/",
        lambda p: {**_counterpart(p), "version": str(p.counterpart.version)},
        text=("name", "title", "organisation", "email", "phone", "notes"),
        other=("active_from", "active_to", "version"),
        limited=("name", "title", "organisation", "email", "phone"),
    ),
    Form(
        "counterpart-leave",
        "liaison",
        lambda p: f"/countries/gb/counterparts/{p.counterpart.pk}/left/",
        lambda p: {"left_on": p.today.isoformat(), "successor_name": "Next Minister", "successor_email": "next@example.org"},
        text=("successor_name", "successor_email"),
        other=("left_on",),
        dates=("left_on",),
        limited=("successor_name", "successor_email"),
        forms=lambda context: [context["leave_form"]],
    ),
    Form(
        "announcement-new",
        "staff",
        lambda p: "/announcements/manage/new/",
        _announcement,
        text=("title", "body", "source_url"),
        other=("countries", "tracks", "agreements", "facilities"),
        limited=("title", "source_url"),
    ),
    Form(
        "announcement-edit",
        "staff",
        lambda p: f"/announcements/manage/{p.draft.pk}/",
        _announcement,
        text=("title", "body", "source_url"),
        other=("countries", "tracks", "agreements", "facilities"),
        limited=("title", "source_url"),
    ),
    Form(
        "announcement-schedule",
        "staff",
        lambda p: f"/announcements/manage/{p.draft.pk}/schedule/",
        lambda p: {"embargo_until": (timezone.localtime() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")},
        other=("embargo_until",),
        dates=("embargo_until",),
        forms=lambda context: [context["schedule_form"]],
    ),
    Form(
        "announcement-withdraw",
        "staff",
        lambda p: f"/announcements/manage/{p.draft.pk}/withdraw/",
        lambda p: {"reason": "Sent by mistake."},
        text=("reason",),
        limited=("reason",),
        forms=lambda context: [context["withdraw_form"]],
    ),
    Form(
        "api-token-create",
        "liaison",
        lambda p: "/account/api-tokens/",
        lambda p: {"name": "ministry dashboard", "days": "30"},
        text=("name",),
        other=("days",),
        limited=("name",),
    ),
    Form(
        "login",
        "",
        lambda p: "/accounts/login/",
        lambda p: {"username": "gb-liaison", "password": "pw-for-tests-1"},
        text=("username", "password"),
        may_change=("axes.AccessAttempt", "axes.AccessFailureLog"),
    ),
    Form(
        "notification-settings",
        "liaison",
        lambda p: "/notifications/settings/",
        lambda p: {"email_frequency": "weekly", "language": "fr", "countries": [str(p.gb.pk)], "tracks": [str(p.workforce.pk)]},
        other=("email_frequency", "language", "countries", "tracks"),
    ),
]
WITH_TEXT = [form for form in FORMS if form.text]
WITH_OTHER = [form for form in FORMS if form.other]
WITH_LIMITS = [form for form in FORMS if form.limited]
WITH_DATES = [form for form in FORMS if form.dates]


def post(portal, form: Form, data: dict, client: Client):
    return client.post(form.url(portal), data, headers=dict(form.headers))


def post_raw(portal, form: Form, body: bytes, client: Client):
    return client.generic(
        "POST", form.url(portal), body, content_type="application/x-www-form-urlencoded", headers=dict(form.headers)
    )


def errors_by_field(form: Form, response) -> dict[str, set]:
    """The error codes of each field of the page's bound forms, by the name the field has in the POST."""
    found = {}
    for bound in form.forms(response.context):
        for name, errors in bound.errors.as_data().items():
            key = bound.add_prefix(name) if name != NON_FIELD_ERRORS else name
            found.setdefault(key, set()).update(error.code for error in errors)
    return found


def _urlencoded(data: dict) -> bytes:
    return urlencode(data, doseq=True).encode("ascii")


# --- the valid submission of each form is accepted: the refusals below are the bad input's doing --------------------


@pytest.mark.parametrize("form", FORMS, ids=str)
def test_the_valid_submission_is_accepted(portal, form):
    client = client_for(portal, form.who)
    before = snapshot()
    response = post(portal, form, form.valid(portal), client)
    assert_not_5xx(response)
    assert response.status_code in (200, 302), (response.status_code, response.context and errors_by_field(form, response))
    assert snapshot() != before, "the valid submission changed nothing"


def refused_field_by_field(portal, form, fields, value, code):
    """Post ``form`` valid but for ``value`` in each of ``fields``: refused, nothing changed, and each of those
    fields carries the error ``code``. Returns the response."""
    data = {**form.valid(portal), **dict.fromkeys(fields, value)}
    client = client_for(portal, form.who)
    with Unchanged(form.may_change):
        response = post(portal, form, data, client)
        assert_refused(response)
    errors = errors_by_field(form, response)
    for field in fields:
        assert code in errors.get(field, ()), (field, errors)
    return response


# --- dates a record cannot carry ----------------------------------------------------------------------------------


@pytest.mark.parametrize("year", ["0001", "9999"])
@pytest.mark.parametrize("form", WITH_DATES, ids=str)
def test_a_year_no_record_carries_is_refused_and_changes_nothing(portal, form, year):
    for field in form.dates:
        value = f"{year}-06-01T09:00" if field == "embargo_until" else f"{year}-06-01"
        response = refused_field_by_field(portal, form, (field,), value, "out_of_range")
        assert "Give a date between 1990 and 2100." in response.content.decode()


# --- 1. NUL bytes ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", WITH_TEXT, ids=str)
def test_nul_bytes_in_every_text_field_are_refused_and_change_nothing(portal, form):
    response = refused_field_by_field(portal, form, form.text, NUL, "null_characters_not_allowed")
    assert "Null characters are not allowed." in response.content.decode()


@pytest.mark.parametrize("form", WITH_OTHER, ids=str)
def test_nul_bytes_in_choice_date_number_and_hidden_fields_are_refused_and_change_nothing(portal, form):
    data = form.valid(portal)
    data.update({field: [NUL] if isinstance(data.get(field), list) else NUL for field in form.other})
    client = client_for(portal, form.who)
    with Unchanged(form.may_change):
        response = post(portal, form, data, client)
        assert_refused(response)
    errors = errors_by_field(form, response)
    for field in form.other:
        assert errors.get(field), (field, errors)


# --- 2. invalid UTF-8 -------------------------------------------------------------------------------------------

INVALID_UTF8 = {
    "percent-encoded": b"%FF%FE%C3%28",  # bytes that are no UTF-8, percent-encoded (a browser never sends them)
    "raw": b"\xff\xfe\xc3\x28",  # the same bytes as they are: the body itself is not UTF-8
}


@pytest.mark.parametrize("encoding", INVALID_UTF8)
@pytest.mark.parametrize("form", FORMS, ids=str)
def test_invalid_utf8_in_an_otherwise_valid_body_changes_nothing(portal, form, encoding):
    """Every text field (the other fields for a form without one) is bytes that are no UTF-8; the rest is valid."""
    fields = form.text or form.other
    data = {key: value for key, value in form.valid(portal).items() if key not in fields}
    body = _urlencoded(data) + b"".join(b"&" + quote(field).encode() + b"=" + INVALID_UTF8[encoding] for field in fields)
    client = client_for(portal, form.who)
    with Unchanged(form.may_change):
        response = post_raw(portal, form, body, client)
        assert_not_5xx(response)
        assert response.status_code != 302, f"saved: {response['Location']}"


GARBAGE = {
    "binary": b"\xff\xfe\x00\x01",
    "broken-escapes": b"%FF%FE=%FF%FE&%%%=%zz&=&&==",
    "overlong-and-surrogate-utf8": b"%C0%80=%ED%A0%80&%F0%80%80%80=%C0%AF&%ED%B0%80",
}


@pytest.mark.parametrize("form", FORMS, ids=str)
def test_a_body_of_nothing_but_invalid_utf8_changes_nothing(portal, form):
    client = client_for(portal, form.who)
    with Unchanged(form.may_change):
        for name, body in GARBAGE.items():
            response = post_raw(portal, form, body, client)
            assert_not_5xx(response)
            assert response.status_code != 302, (name, f"saved: {response['Location']}")


# --- 3. oversized bodies and long values ------------------------------------------------------------------------------

OVER_MEMORY = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 512 * 1024  # 3 MB with Django's default of 2.5 MB
TOO_MANY = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1
BIG = "x" * OVER_MEMORY
EXTRA_FIELDS = {f"extra{n}": "1" for n in range(TOO_MANY)}
OVERSIZED = ["3mb-field-urlencoded", "3mb-field-multipart", "too-many-fields-urlencoded", "too-many-fields-multipart"]


def _oversized(portal, form: Form, kind: str, client: Client, data: dict | None = None):
    data = form.valid(portal) if data is None else data
    field = (form.text or form.other)[0]
    if kind == "3mb-field-urlencoded":
        return post_raw(portal, form, _urlencoded({**data, field: BIG}), client)
    if kind == "3mb-field-multipart":
        return post(portal, form, {**data, field: BIG}, client)
    if kind == "too-many-fields-urlencoded":
        return post_raw(portal, form, _urlencoded({**data, **EXTRA_FIELDS}), client)
    return post(portal, form, {**data, **EXTRA_FIELDS}, client)


@pytest.mark.parametrize("form", FORMS, ids=str)
def test_an_oversized_body_is_a_400_and_changes_nothing(portal, form):
    """3 MB in one field, or 1,001 fields, urlencoded and multipart: Django's RequestDataTooBig and TooManyFieldsSent."""
    client = client_for(portal, form.who)
    with Unchanged():
        for kind in OVERSIZED:
            response = _oversized(portal, form, kind, client)
            assert_not_5xx(response)
            assert response.status_code == 400, (kind, response.status_code)


# The actions without fields never read the body: in production the CSRF check does (it looks for the token in it),
# and refuses one too large with a 400 before the view runs.
ACTIONS = {
    name: Form(name, who, url, lambda p: {})
    for name, who, url in [
        ("announcement-publish", "staff", lambda p: f"/announcements/manage/{p.draft.pk}/publish/"),
        ("api-token-revoke", "liaison", lambda p: f"/account/api-tokens/{p.token.token_key}/revoke/"),
        ("follow-up-done", "liaison", lambda p: f"/follow-ups/{p.follow_up.pk}/done/"),
        ("notifications-read-all", "liaison", lambda p: "/notifications/read-all/"),
    ]
}


@pytest.mark.parametrize("action", ACTIONS)
def test_an_oversized_body_is_a_400_before_an_action_runs_under_the_csrf_check(portal, action):
    form = replace(ACTIONS[action], text=("next",))
    client = client_for(portal, form.who, enforce_csrf_checks=True)
    client.get("/account/api-tokens/")  # sets the CSRF cookie, as any page with a form does
    data = {"csrfmiddlewaretoken": client.cookies[settings.CSRF_COOKIE_NAME].value}
    with Unchanged():
        for kind in OVERSIZED:
            response = _oversized(portal, form, kind, client, data)
            assert_not_5xx(response)
            assert response.status_code == 400, (kind, response.status_code)


@pytest.mark.parametrize("form", WITH_LIMITS, ids=str)
def test_a_100k_value_in_a_field_with_a_maximum_length_is_refused_with_the_form_error(portal, form):
    refused_field_by_field(portal, form, form.limited, LONG, "max_length")


def test_a_100k_user_name_at_sign_in_is_refused_without_being_written_where_it_does_not_fit(portal):
    """axes keeps the user name of a failed sign-in in a varchar(255) (PostgreSQL refuses a longer one: a 500)."""
    from axes.models import AccessAttempt

    client = client_for(portal, "")
    response = client.post("/accounts/login/", {"username": LONG, "password": "pw-for-tests-1"})
    assert_refused(response)
    assert response.context["form"].errors
    assert all(len(username or "") <= 255 for username in AccessAttempt.objects.values_list("username", flat=True))


# --- 4. HTML and script in free text are escaped wherever they are shown ---------------------------------------------


def _get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def test_html_in_an_engagement_is_escaped_on_the_country_page_the_home_page_search_and_follow_ups(portal):
    form = FORMS[0]
    client = client_for(portal, "liaison")
    data = {**form.valid(portal), "summary": XSS, "outcome": XSS, "fu-0-description": XSS}
    assert post(portal, form, data, client).status_code == 302
    for url in ("/countries/gb/", "/", "/search/?q=alert", "/follow-ups/?show=all"):
        assert_escaped(_get(client, url))
    # Marking the follow-up done names it in a message on the next page.
    from engagements.models import FollowUp

    follow_up = FollowUp.objects.get(description=XSS)
    response = client.post(f"/follow-ups/{follow_up.pk}/done/", {"next": "/follow-ups/?show=all"}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html and f"Done: {ESCAPED}" in html


def test_html_in_a_quick_added_counterpart_is_escaped_in_the_fragment_and_the_list(portal):
    client = client_for(portal, "liaison")
    response = client.post(
        "/countries/gb/engagements/new/counterpart/",
        {"new_counterpart_name": XSS, "new_counterpart_title": XSS},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert_escaped(response.content.decode())
    assert_escaped(_get(client, "/countries/gb/counterparts/"))


def test_html_in_a_counterpart_is_escaped_in_the_list_its_history_the_country_page_and_the_message(portal):
    client = client_for(portal, "liaison")
    response = client.post("/countries/gb/counterparts/new/", {**_counterpart(portal), "name": XSS, "title": XSS}, follow=True)
    assert response.status_code == 200
    assert_escaped(response.content.decode())  # the list, with "… added." above it
    from countries.models import Counterpart

    person = Counterpart.objects.get(name=XSS)
    data = {**_counterpart(portal), "name": XSS, "title": "Director", "organisation": XSS, "version": str(person.version)}
    assert client.post(f"/countries/gb/counterparts/{person.pk}/", data).status_code == 302
    for url in ("/countries/gb/counterparts/", f"/countries/gb/counterparts/{person.pk}/", "/countries/gb/", "/search/?q=alert"):
        assert_escaped(_get(client, url))


def test_html_in_a_stage_move_note_is_escaped_on_the_country_page(portal):
    client = client_for(portal, "liaison")
    data = {**_stage_move(portal), "track-workforce-note": XSS}
    assert client.post("/countries/gb/tracks/workforce/", data).status_code == 302
    assert_escaped(_get(client, "/countries/gb/"))
    assert_escaped(_get(client, "/countries/gb/?kind=stage"))


def test_html_in_an_announcement_is_escaped_on_its_public_page_the_list_the_feed_and_the_staff_pages(portal):
    client = client_for(portal, "staff")
    body = f'{XSS}\n\nSee https://example.org/?a=<script>alert(1)</script> and www.example.org"onmouseover="alert(3)"'
    response = client.post("/announcements/manage/new/", {**_announcement(portal), "title": XSS, "body": body})
    assert response.status_code == 302, response.status_code
    edit_url = response["Location"]
    assert client.post(f"{edit_url}publish/").status_code == 302
    from announcements.models import Announcement

    announcement = Announcement.objects.get(title=XSS)
    assert announcement.status == Announcement.Status.PUBLISHED
    anonymous = Client()
    for html in (
        _get(anonymous, f"/announcements/{announcement.pk}/"),
        _get(anonymous, "/announcements/"),
        _get(client, edit_url),
        _get(client, "/announcements/manage/"),
        _get(client, "/countries/gb/"),
    ):
        assert_escaped(html)
        assert 'onmouseover="alert(3)' not in html
    # Atom: the title is text (escaped once for XML); the summary is HTML (escaped as HTML, then for XML).
    feed = _get(anonymous, "/announcements/feed/")
    assert "<script>" not in feed and "&lt;script&gt;alert(1)" not in feed.replace(f"<title>{ESCAPED}", "")
    assert f"<title>{ESCAPED}" in feed and "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;" in feed


def test_html_in_a_token_name_is_escaped_in_the_token_list(portal):
    client = client_for(portal, "liaison")
    response = client.post("/account/api-tokens/", {"name": XSS, "days": "30"})
    assert response.status_code == 200
    assert_escaped(response.content.decode())  # the list and the "created" message
    assert_escaped(_get(client, "/account/api-tokens/"))


# --- 5. the search box, the list filters and the paths ---------------------------------------------------------------

VALUES = {
    "nul": quote(NUL),
    "100k": LONG,
    "invalid-percent-encoding": "%FF%FE%C3%28",
    "broken-percent-escapes": "%zz%%2",
    "raw-non-utf8": "\xff\xfe",  # a latin-1 str in the WSGI environ: the bytes FF FE on the wire
}
PAGES = {
    "search": ("/search/", ["q"]),
    "home": ("/", ["q", "order", "page"]),
    "country": ("/countries/gb/", ["track", "kind"]),
    "follow-ups": ("/follow-ups/", ["show", "page"]),
    "public-announcements": ("/announcements/", ["country", "track", "page"]),
    "manage-announcements": ("/announcements/manage/", ["status", "page"]),
    "notifications": ("/notifications/", ["show", "page"]),
    "audit-log": ("/audit/", ["model", "object", "actor", "action", "date_from", "date_to", "page"]),
    "dashboard": ("/dashboard/", ["region", "track", "stage", "health", "liaison", "order", "as_of", "export"]),
    "dashboard-funnels": ("/dashboard/funnels/", ["region", "track", "as_of", "table"]),
    "dashboard-attention": ("/dashboard/attention/", ["region", "track", "table"]),
    "dashboard-infrastructure": ("/dashboard/infrastructure/", ["region", "status", "page", "table"]),
    "dashboard-map": ("/dashboard/map/", ["track", "region", "as_of"]),
    "dashboard-history": ("/dashboard/history/", ["track", "as_of"]),
}


@pytest.mark.parametrize("page", PAGES)
def test_bad_search_and_filter_values_are_not_server_errors(portal, page):
    """Each parameter of the page set to each bad value, in the query string as the WSGI server hands it over (a
    latin-1 str of the raw bytes); and more parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS, a 400."""
    path, params = PAGES[page]
    client = client_for(portal, "staff")
    for value, raw in VALUES.items():
        response = client.get(path, QUERY_STRING="&".join(f"{name}={raw}" for name in params))
        assert_not_5xx(response)
        assert response.status_code in (200, 400), (value, response.status_code)
    response = client.get(path, QUERY_STRING="&".join(f"q{n}=1" for n in range(TOO_MANY)))
    assert response.status_code == 400, response.status_code


@pytest.mark.parametrize("value", ["100k", "invalid-percent-encoding"])
def test_the_search_box_answers_bad_values_with_its_page(portal, value):
    response = client_for(portal, "staff").get("/search/", QUERY_STRING=f"q={VALUES[value]}")
    assert response.status_code == 200
    assert "\x00" not in response.context["q"] and len(response.context["q"]) <= 100


def test_a_nul_byte_anywhere_in_a_page_query_is_a_400_before_any_view(portal):
    # core.middleware.MalformedInputMiddleware: PostgreSQL refuses NUL in text, so no filter may carry one.
    client = client_for(portal, "staff")
    for path in ("/search/", "/", "/dashboard/", "/follow-ups/", "/announcements/"):
        assert client.get(path, QUERY_STRING="q=a%00b").status_code == 400, path


BAD_CODES = {"g-nul": "g%00", "nul-nul": "%00%00", "gb-nul": "gb%00", "bad-utf8": "%FF%FE", "100k": "gb" + LONG, "escape": "%zz"}


@pytest.mark.parametrize(
    "path",
    [
        "/countries/{}/",
        "/countries/{}/counterparts/",
        "/countries/{}/engagements/new/",
        "/announcements/feed/countries/{}/",
        "/announcements/feed/tracks/{}/",
        "/account/api-tokens/{}/revoke/",
    ],
)
def test_a_bad_code_in_the_path_is_not_a_server_error(portal, path):
    client = client_for(portal, "staff")
    with Unchanged():
        for name, code in BAD_CODES.items():
            response = (client.post if path.endswith("revoke/") else client.get)(path.format(code))
            assert_not_5xx(response)
            assert response.status_code in (200, 404), (name, response.status_code)


NEXT = {
    "nul": NUL,
    "nul-in-a-path": "/follow-ups/\x00",
    "no-slash": "elsewhere",
    "invalid-utf8": "%FF%FE",
    "100k": LONG,
    "javascript": "javascript:alert(1)",
    "other-host": "//evil.example/",
    "header-injection": "/\r\nSet-Cookie: a=b",
}


@pytest.mark.parametrize("target", NEXT.values(), ids=NEXT.keys())
@pytest.mark.parametrize("url", ["/follow-ups/{follow_up}/done/", "/notifications/{notification}/read/"])
def test_a_bad_next_after_an_inline_action_redirects_somewhere_safe(portal, url, target):
    """Marking a follow-up done or a notification read, then going back to ``next``: a redirect to the page itself
    or to the default page, with a Location header that can be sent, never a 500 after the change was made."""
    client = client_for(portal, "liaison")
    response = client.post(url.format(follow_up=portal.follow_up.pk, notification=0), {"next": target})
    assert_not_5xx(response)
    assert response.status_code == 302, response.status_code
    assert_headers_sendable(response)
    assert not response["Location"].startswith(("javascript:", "//", "http")), response["Location"]
