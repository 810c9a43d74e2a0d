"""The audit log (/audit/): who changed what and when, with the values before and after, through every path
(portal, API, admin, background tasks), for programme staff only, with CSV and XLSX downloads of what is filtered."""

import csv
import datetime
import io
import json

import pytest
import time_machine
from auditlog.context import set_actor
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models.signals import pre_save
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from openpyxl import load_workbook

from announcements import tasks as announcement_tasks
from announcements.services import announcement_create, announcement_schedule
from core import audit
from core.models import ApiToken
from core.permissions import PORTAL_APPS
from core.services import api_token_create, api_token_revoke
from countries.models import Country
from countries.services import counterpart_update
from infrastructure.services import organisation_create
from notifications.models import WebhookEndpoint
from tests import factories
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db

AUDIT = "/audit/"
OUR_APPS = set(PORTAL_APPS)


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def admin_client(client):
    user = factories.UserFactory(username="root", first_name="Ada", last_name="Root", is_staff=True, is_superuser=True)
    client.force_login(user)
    client.user = user
    return client


def page(client, **params) -> str:
    response = client.get(AUDIT, params)
    assert response.status_code == 200
    return response.content.decode()


def csv_rows(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.getvalue().decode("utf-8-sig"))))


# --- what is recorded, by whom -----------------------------------------------------------------------------------------


def test_an_engagement_edited_through_the_api_shows_its_actor_field_and_values(staff_client, gb_partnership, gb_liaison):
    engagement = factories.EngagementFactory(country=gb_partnership.country, summary="Kick-off on skills")
    api = token_client(gb_liaison, "ministry sync")

    response = api.patch(f"/api/v1/engagements/{engagement.pk}/", {"summary": "Kick-off on skills (corrected)"})

    assert response.status_code == 200, response.content
    # DRF authenticates the token in the view, after the middleware: the entry still names the token's user.
    entry = LogEntry.objects.get_for_object(engagement).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.actor == gb_liaison
    assert entry.changes["summary"] == ["Kick-off on skills", "Kick-off on skills (corrected)"]
    html = page(staff_client, model="engagements.engagement", action="changed")
    name = gb_liaison.get_full_name()
    assert f"<td>{name}</td>" in html
    assert "<strong>Summary</strong>: <del>Kick-off on skills</del> → <ins>Kick-off on skills (corrected)</ins>" in html


def test_a_portal_write_names_the_signed_in_user(client, gb_partnership, gb_liaison):
    counterpart = factories.CounterpartFactory(country=gb_partnership.country, name="A. Official", title="Director")
    client.force_login(gb_liaison)
    response = client.post(
        reverse("counterpart-edit", args=["gb", counterpart.pk]),
        {
            **{name: getattr(counterpart, name) or "" for name in ("name", "organisation", "email", "phone", "notes")},
            **{"title": "Permanent Secretary", "active_from": counterpart.active_from or "", "active_to": ""},
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = LogEntry.objects.get_for_object(counterpart).get(action=LogEntry.Action.UPDATE)
    assert entry.actor == gb_liaison
    assert entry.changes == {"title": ["Director", "Permanent Secretary"]}  # updated_at (stamped on every save) left out


def test_an_admin_change_of_an_organisation_name_shows_before_and_after(admin_client):
    organisation = organisation_create(actor=factories.staff(), name="Northwind Compute", kind="company")
    response = admin_client.post(
        reverse("admin:infrastructure_organisation_change", args=[organisation.pk]),
        {"name": "Northwind Compute Ltd", "kind": "company", "country": "", "website": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    html = page(admin_client, model="infrastructure.organisation", action="changed")
    assert "<td>Ada Root</td>" in html
    assert "<strong>Name</strong>: <del>Northwind Compute</del> → <ins>Northwind Compute Ltd</ins>" in html


def test_a_change_made_by_a_celery_task_shows_as_system(staff_client, gb_partnership, staff_user):
    start = timezone.now().replace(microsecond=0)
    # Outside a request, auditlog's own set_actor names who acts (as a command would); the task below sets nobody.
    with time_machine.travel(start, tick=False), set_actor(staff_user):
        announcement = announcement_create(actor=staff_user, title="Skills compact", countries=[gb_partnership.country])
        announcement_schedule(actor=staff_user, announcement=announcement, embargo_until=start + datetime.timedelta(days=1))
    with time_machine.travel(start + datetime.timedelta(days=1, minutes=1), tick=False):
        assert announcement_tasks.release_announcement.delay(announcement.pk).get() is True  # as a worker runs it: no request

    released = LogEntry.objects.get_for_object(announcement).filter(changes__status=["scheduled", "published"]).get()
    assert released.actor is None
    html = page(staff_client, model="announcements.announcement", actor="system")
    assert '<td><span class="muted">System</span></td>' in html
    assert "<del>Scheduled</del> → <ins>Published</ins>" in html
    # The scheduling was the staff member's.
    assert LogEntry.objects.get_for_object(announcement).filter(changes__status=["draft", "scheduled"], actor=staff_user).exists()


def test_many_to_many_changes_are_recorded(gb_partnership, gb_liaison):
    engagement = factories.EngagementFactory(country=gb_partnership.country)
    token_client(gb_liaison).patch(f"/api/v1/engagements/{engagement.pk}/", {"tracks": ["workforce"]})
    entry = LogEntry.objects.get_for_object(engagement).get(changes__has_key="tracks")
    assert entry.actor == gb_liaison
    assert entry.changes["tracks"] == {"type": "m2m", "operation": "add", "objects": ["Workforce training"]}


def test_links_written_with_a_new_record_get_the_entries_add_would_write(gb_partnership, gb_liaison, staff_user):
    from engagements.models import Engagement
    from engagements.services import engagement_log
    from tracks.models import Track

    country = gb_partnership.country
    people = [factories.CounterpartFactory(country=country, name=f"Delegate {n}") for n in range(3)]
    tracks = list(Track.objects.filter(key__in=["workforce", "safety"]).order_by("key"))
    with set_actor(gb_liaison):
        logged = engagement_log(actor=gb_liaison, country=country, occurred_on=timezone.localdate(), kind="call",
                                summary="Links written in one go", tracks=tracks, counterparts=[*people, people[0]])  # fmt: skip
        added = factories.EngagementFactory(country=country)
        added.tracks.add(*tracks, through_defaults=added.track_link_fields())  # django-auditlog's receiver writes this one
        added.counterparts.add(*people)
    assert sorted(logged.counterparts.values_list("pk", flat=True)) == sorted(p.pk for p in people)  # each once
    assert set(logged.tracks.all()) == set(tracks)

    def m2m_entries(engagement):
        entries = LogEntry.objects.get_for_object(engagement).filter(action=LogEntry.Action.UPDATE).order_by("pk")
        return {name: (entry.actor, value["operation"], sorted(value["objects"])) for entry in entries
                for name, value in entry.changes.items()}  # fmt: skip

    assert m2m_entries(logged) == m2m_entries(added)
    assert m2m_entries(logged)["counterparts"] == (gb_liaison, "add", sorted(str(p) for p in people))

    with set_actor(staff_user):
        announcement = announcement_create(actor=staff_user, title="Everywhere", countries=[country], tracks=tracks)
    entries = {name: value for entry in LogEntry.objects.get_for_object(announcement).filter(action=LogEntry.Action.UPDATE)
               for name, value in entry.changes.items()}  # fmt: skip
    assert entries["countries"] == {"type": "m2m", "operation": "add", "objects": [str(country)]}
    assert sorted(entries["tracks"]["objects"]) == sorted(str(t) for t in tracks)
    assert Engagement.objects.filter(pk=logged.pk, version=1).exists()


def test_follow_ups_written_in_bulk_get_the_entries_a_save_of_each_would_write(gb_partnership, gb_liaison):
    api = token_client(gb_liaison)
    today = timezone.localdate().isoformat()
    one = {"description": "Send the plan", "due_on": today, "owner": gb_liaison.username, "track": "workforce"}
    saved = api.post("/api/v1/follow-ups/", {**one, "country": "GB"}, HTTP_X_CORRELATION_ID="cid-one")  # one save()
    assert saved.status_code == 201, saved.content
    body = {"country": "GB", "occurred_on": today, "kind": "call", "summary": "Planning call",
            "follow_ups": [one, {**one, "description": "Book the room", "owner": None}]}  # fmt: skip
    logged = api.post("/api/v1/engagements/", body, HTTP_X_CORRELATION_ID="cid-bulk")  # written in bulk
    assert logged.status_code == 201, logged.content

    from engagements.models import FollowUp

    single = LogEntry.objects.get_for_object(FollowUp.objects.get(pk=saved.json()["id"])).get()
    written = FollowUp.objects.filter(engagement_id=logged.json()["id"]).order_by("pk")
    bulk = [LogEntry.objects.get_for_object(fu).get() for fu in written]
    assert len(bulk) == 2
    shape = lambda entry: {name: value for name, value in entry.changes.items() if name not in ("id", "engagement", "created_at")}  # noqa: E731
    assert shape(bulk[0]) == shape(single) and "created_at" in bulk[0].changes
    for entry in bulk:
        who = (entry.action, entry.actor, entry.remote_addr, entry.cid)
        assert who == (LogEntry.Action.CREATE, gb_liaison, "127.0.0.1", "cid-bulk")
        assert entry.object_id == int(entry.object_pk) and entry.object_repr.startswith(("Send the plan", "Book the room"))


# --- secrets ------------------------------------------------------------------------------------------------------------


def _everything_logged() -> str:
    return json.dumps(
        [
            [e.object_pk, e.object_repr, e.changes, e.changes_text, e.serialized_data, e.additional_data, e.cid]
            for e in LogEntry.objects.all()
        ],
        default=str,
    )


def test_no_token_digest_or_password_hash_is_ever_logged(client, staff_user):
    client.force_login(staff_user)
    response = client.post(reverse("api-tokens"), {"name": "ministry dashboard", "days": 30})
    assert response.status_code == 200
    token, secret = api_token_create(actor=staff_user, user=staff_user, name="second", days=5)
    created = list(ApiToken.objects.values_list("digest", "token_key"))
    api_token_revoke(actor=staff_user, token=token)
    user = get_user_model().objects.get(pk=staff_user.pk)
    user.set_password("a-new-password-for-tests")
    user.save()

    logged = _everything_logged()
    assert LogEntry.objects.filter(content_type__model="apitoken").count() == 3  # two created, one revoked
    for digest, key in created:
        assert digest not in logged
        assert LogEntry.objects.filter(content_type__model="apitoken", object_pk=key).exists()  # named by its key
    assert secret not in logged
    assert user.password not in logged and "password" not in logged


def test_a_webhook_secret_shows_only_that_it_changed(admin_client):
    response = admin_client.post(
        reverse("admin:notifications_webhookendpoint_add"),
        {"name": "Ministry", "url": "https://hooks.example.org/in", "new_secret": "s3cr3t-shared-with-the-ministry",
         "event_kinds": "[]", "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint = WebhookEndpoint.objects.get()
    admin_client.post(
        reverse("admin:notifications_webhookendpoint_change", args=[endpoint.pk]),
        {"name": "Ministry", "url": "https://hooks.example.org/in", "new_secret": "rotated-secret-of-the-ministry",
         "event_kinds": "[]", "is_active": "on"},
    )  # fmt: skip

    assert "s3cr3t" not in _everything_logged() and "rotated" not in _everything_logged()
    changed = LogEntry.objects.get_for_object(endpoint).get(action=LogEntry.Action.UPDATE)
    assert changed.changes == {"secret": [audit.REDACTED, audit.REDACTED]}


# --- who may read it ----------------------------------------------------------------------------------------------------


def test_liaisons_and_viewers_are_refused_and_anonymous_visitors_sent_to_sign_in(client, gb_liaison, viewer_user):
    response = client.get(AUDIT)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    for user in (gb_liaison, viewer_user):
        client.force_login(user)
        assert client.get(AUDIT).status_code == 403
        assert client.get(AUDIT, {"export": "csv"}).status_code == 403
        assert f'href="{AUDIT}"' not in client.get(reverse("home")).content.decode()


def test_programme_staff_and_superusers_read_it_and_find_it_in_the_menu(client, staff_user, admin_client):
    client.force_login(staff_user)
    assert f'href="{AUDIT}"' in client.get(reverse("home")).content.decode()
    assert "Audit log" in page(client)
    assert "Audit log" in page(admin_client)


def test_the_librarys_admin_of_log_entries_is_read_only(admin_client, gb_partnership):
    entry = LogEntry.objects.first()
    assert admin_client.get(reverse("admin:auditlog_logentry_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:auditlog_logentry_change", args=[entry.pk])).status_code == 200
    assert admin_client.get(reverse("admin:auditlog_logentry_add")).status_code == 403
    assert admin_client.post(reverse("admin:auditlog_logentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    assert LogEntry.objects.filter(pk=entry.pk).exists()


# --- filters, pages and downloads ---------------------------------------------------------------------------------------


@pytest.fixture
def two_kinds_of_change(gb_partnership, staff_user, gb_liaison):
    """Three counterpart changes by the liaison (one of them last month) and an organisation created by staff."""
    counterpart = factories.CounterpartFactory(country=gb_partnership.country, name="B. Minister", title="Minister")
    last_month = timezone.now() - datetime.timedelta(days=30)
    with set_actor(gb_liaison):
        with time_machine.travel(last_month, tick=False):
            counterpart_update(actor=gb_liaison, counterpart=counterpart, title="Minister of State")
        counterpart_update(actor=gb_liaison, counterpart=counterpart, title="Secretary of State")
        counterpart_update(actor=gb_liaison, counterpart=counterpart, notes='=HYPERLINK("http://x")')
    with set_actor(staff_user):
        organisation_create(actor=staff_user, name="Contoso Cloud", kind="company")
    return counterpart


def test_filters_narrow_the_list_by_kind_actor_dates_and_record(staff_client, two_kinds_of_change, gb_liaison):
    counterpart = two_kinds_of_change
    html = page(staff_client, model="countries.counterpart", actor=str(gb_liaison.pk), action="changed")
    assert "Minister of State" in html and "Secretary of State" in html and "Contoso" not in html
    today = timezone.localdate().isoformat()
    html = page(staff_client, model="countries.counterpart", action="changed", date_from=today, date_to=today)
    assert "<del>Minister of State</del> → <ins>Secretary of State</ins>" in html
    assert "<ins>Minister of State</ins>" not in html  # last month's change is outside the range
    html = page(staff_client, object=str(counterpart.pk), model="countries.counterpart")
    assert "B. Minister" in html and "Contoso" not in html
    assert "Contoso Cloud" in page(staff_client, object="contoso")
    assert "No change matches these filters." in page(staff_client, object="nothing like this")


def test_bad_filters_are_reported_and_ignored(staff_client, two_kinds_of_change):
    html = page(staff_client, model="nope.nothing", date_from="yesterday", actor="999999")
    assert "Some filters were not understood and are ignored" in html
    assert "Contoso Cloud" in html and "Secretary of State" in html


def test_the_csv_download_holds_the_filtered_rows_one_line_per_field(staff_client, two_kinds_of_change, gb_liaison):
    response = staff_client.get(AUDIT, {"model": "countries.counterpart", "action": "changed", "export": "csv"})
    rows = csv_rows(response)
    day = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="audit-log-model-counterpart-action-changed-{day}.csv"'
    assert {row["Kind of record"] for row in rows} == {"Counterpart"}
    assert {row["Changed by"] for row in rows} == {gb_liaison.get_full_name()}
    assert [(row["Field"], row["Before"], row["After"]) for row in rows] == [  # newest first
        ("Notes", "", '\'=HYPERLINK("http://x")'),  # a formula is neutralised by the dashboards' writer
        ("Title", "Minister of State", "Secretary of State"),
        ("Title", "Minister", "Minister of State"),
    ]
    assert all(row["Record"] == "B. Minister (Secretary of State)" for row in rows[:2])


def test_the_xlsx_download_holds_the_same_rows(staff_client, two_kinds_of_change):
    response = staff_client.get(AUDIT, {"model": "countries.counterpart", "action": "changed", "export": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    lines = list(sheet.iter_rows(values_only=True))
    assert lines[0][:3] == ("Time (UTC)", "Changed by", "Change")
    assert [line[6:] for line in lines[1:]] == [
        ("Notes", None, '\'=HYPERLINK("http://x")'),
        ("Title", "Minister of State", "Secretary of State"),
        ("Title", "Minister", "Minister of State"),
    ]
    assert isinstance(lines[1][0], datetime.datetime)


def test_the_list_is_paged_newest_first_and_the_pages_keep_the_filters(staff_client, gb_partnership, gb_liaison):
    counterpart = factories.CounterpartFactory(country=gb_partnership.country, name="C. Official")
    for n in range(55):  # without a request (nor set_actor): by "System"
        counterpart_update(actor=gb_liaison, counterpart=counterpart, title=f"Title {n}")
    html = page(staff_client, model="countries.counterpart", action="changed")
    assert html.index("<ins>Title 54</ins>") < html.index("<ins>Title 53</ins>")
    assert "Page 1 of 2" in html and 'href="?model=countries.counterpart&amp;action=changed&amp;page=2"' in html
    second = page(staff_client, model="countries.counterpart", action="changed", page="2")
    assert "<ins>Title 0</ins>" in second and "<ins>Title 54</ins>" not in second


def test_query_count_of_the_page_does_not_grow_with_the_entries(staff_client, django_assert_num_queries):
    countries = list(Country.objects.order_by("iso2")[:50])

    def counterparts(first, last):  # each creation names its country: 50 different countries, read in one query
        for country in countries[first:last]:
            factories.CounterpartFactory(country=country, name=f"Official of {country.iso2}")

    LogEntry.objects.all().delete()
    counterparts(0, 5)
    assert LogEntry.objects.count() == 5
    staff_client.get(AUDIT)  # the demo-data marker is cached from here on
    # session, user, groups, unread notifications; the users of the actor filter; count, page; the countries named
    with django_assert_num_queries(8):
        staff_client.get(AUDIT)
    counterparts(5, 50)
    assert LogEntry.objects.count() == 50
    with django_assert_num_queries(8):
        html = page(staff_client)
    assert html.count("<tr>") == 51  # the header and 50 entries
    assert all(escape(country.name) in html for country in countries)


def test_nothing_changed_yet(staff_client):
    LogEntry.objects.all().delete()
    assert "Nothing has been changed yet." in page(staff_client)


# --- what is registered, and the middleware ------------------------------------------------------------------------------


def test_every_model_of_ours_is_audited_or_left_out_with_a_reason():
    ours = {m._meta.label_lower for m in apps.get_models() if m._meta.app_label in OUR_APPS}
    assert ours == set(audit.AUDITED) - {"auth.user", "auth.group"} | set(audit.NOT_AUDITED)
    assert not set(audit.AUDITED) & set(audit.NOT_AUDITED)
    for label in audit.AUDITED:
        assert auditlog.contains(apps.get_model(label)), label
    for label in audit.NOT_AUDITED:
        assert not auditlog.contains(apps.get_model(label)), label
    assert "password" in auditlog.get_model_fields(get_user_model())["exclude_fields"]
    assert "digest" in auditlog.get_model_fields(ApiToken)["exclude_fields"]


def test_forged_proxy_headers_neither_break_a_write_nor_name_another_address(gb_partnership, gb_liaison):
    engagement = factories.EngagementFactory(country=gb_partnership.country)
    response = token_client(gb_liaison).patch(
        f"/api/v1/engagements/{engagement.pk}/",
        {"summary": "Forged headers"},
        HTTP_X_FORWARDED_FOR="not-an-address, 10.0.0.1",
        HTTP_X_FORWARDED_PORT="-1",
        HTTP_X_CORRELATION_ID="x" * 400,
    )
    assert response.status_code == 200, response.content
    entry = LogEntry.objects.get_for_object(engagement).get(action=LogEntry.Action.UPDATE)
    assert (entry.remote_addr, entry.remote_port, len(entry.cid)) == ("127.0.0.1", None, 255)


def test_api_calls_leave_no_signal_receiver_behind(gb_partnership, gb_liaison):
    engagement = factories.EngagementFactory(country=gb_partnership.country)
    api = token_client(gb_liaison)
    api.patch(f"/api/v1/engagements/{engagement.pk}/", {"summary": "warm-up"})
    before = len(pre_save.receivers)
    for n in range(5):
        assert api.patch(f"/api/v1/engagements/{engagement.pk}/", {"summary": f"call {n}"}).status_code == 200
    assert len(pre_save.receivers) == before
