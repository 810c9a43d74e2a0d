"""The staff pages of announcements: draft, schedule under embargo (in the programme's time zone), publish, edit
with a revision history, withdraw; who may do what; the manage list by status; French."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone

from announcements.models import Announcement, AnnouncementRevision
from announcements.services import (
    announcement_create,
    announcement_publish,
    announcement_schedule,
    announcement_update,
    announcement_withdraw,
)
from core.models import Event
from tests import factories

pytestmark = pytest.mark.django_db

ZONE = "Asia/Kolkata"  # UTC+05:30 all year: a naive time read as UTC would be off by 5 h 30


@pytest.fixture
def fr():
    return factories.country("FR")


@pytest.fixture
def workforce():
    return factories.track("workforce")


@pytest.fixture
def draft(staff_user, gb):
    return announcement_create(actor=staff_user, title="UK joins the programme", body="First text.", countries=[gb])


def form_data(**overrides):
    data = {"title": "UK joins the programme", "body": "Text of it.", "is_public": "on", "source_url": ""}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def field_errors(html: str, field: str) -> list[str]:
    """The errors shown right under a field (the include writes them in ``id_<field>_error``)."""
    match = re.search(rf'<div class="field-errors" id="id_{field}_error">(.*?)</div>', html, re.S)
    return re.findall(r'<p class="field-error">(.*?)</p>', match.group(1)) if match else []


def events(kind):
    return Event.objects.filter(kind=kind).count()


def edit_url(announcement):
    return reverse("announcement-edit", args=[announcement.pk])


# --- 1. drafting ------------------------------------------------------------------------------------------------------


def test_staff_drafts_an_announcement_and_revision_1_is_recorded(client, staff_user, gb, workforce):
    client.force_login(staff_user)
    assert client.get(reverse("announcement-new")).status_code == 200

    response = client.post(
        reverse("announcement-new"),
        form_data(title="UK joins", body="Quantum of text.", countries=[gb.pk], tracks=[workforce.pk]),
    )

    announcement = Announcement.objects.get()
    assert response.status_code == 302 and response["Location"] == edit_url(announcement)
    assert (announcement.title, announcement.body, announcement.status, announcement.is_public, announcement.created_by) == (
        "UK joins",
        "Quantum of text.",
        "draft",
        True,
        staff_user,
    )
    assert list(announcement.countries.all()) == [gb] and list(announcement.tracks.all()) == [workforce]
    assert list(announcement.revisions.values_list("number", "title", "body", "edited_by", "published")) == [
        (1, "UK joins", "Quantum of text.", staff_user.pk, False)
    ]
    assert events("announcement.drafted") == 1
    page = client.get(response["Location"]).content.decode()
    assert "Draft saved: UK joins" in page and "Revision 1" in page


def test_a_draft_without_a_title_is_refused_next_to_the_field(client, staff_user, gb):
    client.force_login(staff_user)
    response = client.post(reverse("announcement-new"), form_data(title="", countries=[gb.pk]))

    assert response.status_code == 400
    html = response.content.decode()
    assert field_errors(html, "title") == ["This field is required."]
    assert "Nothing was saved" in html
    assert Announcement.objects.count() == 0 and AnnouncementRevision.objects.count() == 0
    assert events("announcement.drafted") == 0


# --- 2. who may draft -------------------------------------------------------------------------------------------------


def test_a_liaison_drafts_for_their_own_country(client, gb_liaison, gb, fr):
    client.force_login(gb_liaison)
    form = client.get(reverse("announcement-new")).content.decode()
    assert f'<option value="{gb.pk}">United Kingdom</option>' in form
    assert f'value="{fr.pk}"' not in form  # only their countries are offered

    response = client.post(reverse("announcement-new"), form_data(countries=[gb.pk]))

    announcement = Announcement.objects.get()
    assert response.status_code == 302 and response["Location"] == edit_url(announcement)
    assert (announcement.created_by, list(announcement.countries.all())) == (gb_liaison, [gb])


def test_a_liaison_may_not_draft_for_another_country(client, gb_liaison, gb, fr):
    client.force_login(gb_liaison)
    for countries in ([fr.pk], [gb.pk, fr.pk]):
        response = client.post(reverse("announcement-new"), form_data(countries=countries))
        assert response.status_code == 400
        errors = field_errors(response.content.decode(), "countries")
        assert len(errors) == 1 and errors[0].startswith("Select a valid choice."), errors
    assert Announcement.objects.count() == 0
    assert events("announcement.drafted") == 0


def test_a_liaison_may_not_draft_for_the_whole_programme(client, gb_liaison):
    client.force_login(gb_liaison)
    response = client.post(reverse("announcement-new"), form_data())  # no country: the whole programme

    assert response.status_code == 400
    assert field_errors(response.content.decode(), "countries") == ["Name at least one of your countries."]
    assert Announcement.objects.count() == 0


def test_a_viewer_may_not_manage_or_draft(client, viewer_user, gb):
    client.force_login(viewer_user)
    assert client.get(reverse("announcements-manage")).status_code == 403
    assert client.get(reverse("announcement-new")).status_code == 403
    assert client.post(reverse("announcement-new"), form_data(countries=[gb.pk])).status_code == 403
    assert Announcement.objects.count() == 0


@pytest.mark.parametrize("name", ["announcements-manage", "announcement-new"])
def test_anonymous_visitors_are_sent_to_sign_in(client, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_anonymous_posts_change_nothing(client, draft):
    for name, data in (
        ("announcement-publish", {}),
        ("announcement-schedule", {"embargo_until": "2099-01-01T09:00"}),
        ("announcement-withdraw", {"reason": "x"}),
        ("announcement-edit", form_data(title="Hijacked")),
    ):
        response = client.post(reverse(name, args=[draft.pk]), data)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), name
    assert Announcement.objects.values_list("title", "status").get() == ("UK joins the programme", "draft")


# --- 3. scheduling ----------------------------------------------------------------------------------------------------


@pytest.fixture
def kolkata(settings):
    settings.TIME_ZONE = ZONE
    return ZoneInfo(ZONE)


def test_staff_schedule_in_the_programme_time_zone(client, staff_user, draft, kolkata, django_capture_on_commit_callbacks):
    client.force_login(staff_user)
    page = client.get(edit_url(draft)).content.decode()
    assert f"Date and time in {ZONE}." in page
    day = timezone.localtime(timezone.now(), kolkata).date() + datetime.timedelta(days=3)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("announcement-schedule", args=[draft.pk]), {"embargo_until": f"{day:%Y-%m-%d}T09:30"})

    assert response.status_code == 302 and response["Location"] == edit_url(draft)
    expected = datetime.datetime(day.year, day.month, day.day, 9, 30, tzinfo=kolkata)
    row = Announcement.objects.get()
    assert (row.status, row.embargo_until, row.published_at) == ("scheduled", expected, None)
    assert row.embargo_until.astimezone(datetime.UTC).time() == datetime.time(4, 0)
    page = client.get(response["Location"]).content.decode()
    assert f"Scheduled: published automatically on {day:%Y-%m-%d} 09:30 ({ZONE})." in page
    shown = formats.date_format(expected, "DATETIME_FORMAT")
    assert f"under embargo until {shown} ({ZONE})" in page
    assert f'value="{day:%Y-%m-%d}T09:30"' in page  # the form offers the stored time back in the programme's zone
    manage = client.get(reverse("announcements-manage")).content.decode()
    assert f"embargo until {formats.date_format(expected, 'SHORT_DATETIME_FORMAT')} ({ZONE})" in manage
    assert events("announcement.scheduled") == 1 and events("announcement.published") == 0


@pytest.mark.parametrize("when", ["past", "garbage", "empty"])
def test_an_embargo_in_the_past_or_unreadable_is_refused_next_to_the_field(client, staff_user, draft, kolkata, when):
    client.force_login(staff_user)
    past = timezone.localtime(timezone.now() - datetime.timedelta(hours=1), kolkata)
    value = {"past": f"{past:%Y-%m-%dT%H:%M}", "garbage": "next tuesday", "empty": ""}[when]

    response = client.post(reverse("announcement-schedule", args=[draft.pk]), {"embargo_until": value})

    assert response.status_code == 400
    expected = {
        "past": ["The embargo must end in the future."],
        "garbage": ["Enter a valid date/time."],
        "empty": ["This field is required."],
    }[when]
    assert field_errors(response.content.decode(), "embargo_until") == expected
    assert Announcement.objects.values_list("status", "embargo_until").get() == ("draft", None)
    assert events("announcement.scheduled") == 0


def test_a_liaison_may_not_schedule(client, gb_liaison, gb):
    own = announcement_create(actor=gb_liaison, title="Our news", countries=[gb])
    client.force_login(gb_liaison)
    page = client.get(edit_url(own)).content.decode()
    assert reverse("announcement-schedule", args=[own.pk]) not in page  # not offered

    response = client.post(reverse("announcement-schedule", args=[own.pk]), {"embargo_until": "2099-01-01T09:00"})

    assert response.status_code == 403
    assert Announcement.objects.values_list("status", "embargo_until").get() == ("draft", None)
    assert events("announcement.scheduled") == 0


# --- 4. publishing now ------------------------------------------------------------------------------------------------


def test_staff_publish_a_draft_now(client, staff_user, draft, django_capture_on_commit_callbacks):
    client.force_login(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("announcement-publish", args=[draft.pk]))

    assert response.status_code == 302 and response["Location"] == edit_url(draft)
    row = Announcement.objects.get()
    assert row.status == "published" and row.published_at is not None
    assert events("announcement.published") == 1
    assert "Published." in client.get(response["Location"]).content.decode()
    assert client.get(reverse("public-announcement", args=[draft.pk])).status_code == 200

    again = client.post(reverse("announcement-publish", args=[draft.pk]), follow=True)
    assert "Only a draft or scheduled announcement can be published." in again.content.decode()
    assert events("announcement.published") == 1


def test_an_embargoed_announcement_cannot_be_published_early(client, staff_user, draft):
    embargo = timezone.now() + datetime.timedelta(days=2)
    announcement_schedule(actor=staff_user, announcement=draft, embargo_until=embargo)
    client.force_login(staff_user)

    response = client.post(reverse("announcement-publish", args=[draft.pk]), follow=True)

    assert response.redirect_chain == [(edit_url(draft), 302)]
    assert "This announcement is under embargo until " in response.content.decode()
    assert Announcement.objects.values_list("status", "embargo_until", "published_at").get() == ("scheduled", embargo, None)
    assert events("announcement.published") == 0


def test_a_liaison_may_not_publish(client, gb_liaison, gb):
    own = announcement_create(actor=gb_liaison, title="Our news", countries=[gb])
    client.force_login(gb_liaison)
    assert client.post(reverse("announcement-publish", args=[own.pk])).status_code == 403
    assert Announcement.objects.get().status == "draft"
    assert events("announcement.published") == 0


# --- 5. editing a published announcement ------------------------------------------------------------------------------


def test_editing_a_published_announcement_keeps_its_history(client, staff_user, draft, gb):
    announcement_publish(actor=staff_user, announcement=draft)
    client.force_login(staff_user)

    response = client.post(edit_url(draft), form_data(body="Corrected: signed on Tuesday.", countries=[gb.pk]))

    assert response.status_code == 302 and response["Location"] == edit_url(draft)
    row = Announcement.objects.get()
    assert (row.status, row.body, row.is_public) == ("published", "Corrected: signed on Tuesday.", True)
    assert list(row.revisions.order_by("number").values_list("number", "body", "published")) == [
        (1, "First text.", False),
        (2, "Corrected: signed on Tuesday.", True),
    ]
    page = client.get(edit_url(draft)).content.decode()
    assert "Revision 2" in page and "Revision 1" in page
    assert page.index("Revision 2") < page.index("Revision 1")  # newest first
    assert page.count("after publication</strong>") == 1
    public = client.get(reverse("public-announcement", args=[draft.pk])).content.decode()
    assert "Changes since publication" in public and "Corrected: signed on Tuesday." in public

    # Saving without changing the title or the text adds no revision.
    client.post(edit_url(draft), form_data(body="Corrected: signed on Tuesday.", countries=[gb.pk]))
    assert row.revisions.count() == 2


def test_another_countrys_liaison_sees_only_the_revisions_made_after_publication(
    client, staff_user, gb_liaison, fr_liaison, draft, gb
):
    announcement_publish(actor=staff_user, announcement=draft)  # revision 1, "First text.", from before publication
    client.force_login(staff_user)
    client.post(edit_url(draft), form_data(body="Corrected after publication.", countries=[gb.pk]))  # revision 2
    client.force_login(fr_liaison)
    page = client.get(edit_url(draft)).content.decode()
    assert "Revision 2" in page and "Revision 1" not in page and "First text." not in page
    client.force_login(gb_liaison)  # the announcement's own country: its whole history
    page = client.get(edit_url(draft)).content.decode()
    assert "Revision 2" in page and "Revision 1" in page


def test_an_invalid_edit_is_refused_and_changes_nothing(client, staff_user, draft, gb):
    client.force_login(staff_user)
    response = client.post(edit_url(draft), form_data(title="", countries=[gb.pk]))
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "title") == ["This field is required."]
    assert Announcement.objects.values_list("title", "body").get() == ("UK joins the programme", "First text.")
    assert AnnouncementRevision.objects.count() == 1


# --- 6. withdrawing ---------------------------------------------------------------------------------------------------


def test_withdrawing_needs_a_reason(client, staff_user, draft):
    announcement_publish(actor=staff_user, announcement=draft)
    client.force_login(staff_user)
    url = reverse("announcement-withdraw", args=[draft.pk])

    for reason in ("", "   "):
        response = client.post(url, {"reason": reason})
        assert response.status_code == 400
        assert field_errors(response.content.decode(), "reason") == ["This field is required."]
    assert Announcement.objects.get().status == "published"
    assert events("announcement.withdrawn") == 0

    response = client.post(url, {"reason": "Signed text not final"})
    assert response.status_code == 302 and response["Location"] == edit_url(draft)
    assert Announcement.objects.get().status == "withdrawn"
    assert events("announcement.withdrawn") == 1
    assert client.get(reverse("public-announcement", args=[draft.pk])).status_code == 404


def test_a_liaison_may_not_withdraw(client, staff_user, gb_liaison, gb):
    own = announcement_create(actor=gb_liaison, title="Our news", countries=[gb])
    announcement_publish(actor=staff_user, announcement=own)
    client.force_login(gb_liaison)
    assert client.post(reverse("announcement-withdraw", args=[own.pk]), {"reason": "Oops"}).status_code == 403
    assert Announcement.objects.get().status == "published"


# --- 7. the manage list -----------------------------------------------------------------------------------------------


@pytest.fixture
def one_of_each(staff_user, gb_liaison, gb):
    made = {
        status: announcement_create(actor=staff_user, title=f"Item {status}", countries=[gb]) for status in Announcement.Status
    }
    announcement_schedule(
        actor=staff_user, announcement=made["scheduled"], embargo_until=timezone.now() + datetime.timedelta(days=1)
    )
    announcement_publish(actor=staff_user, announcement=made["published"])
    announcement_publish(actor=staff_user, announcement=made["withdrawn"])
    announcement_withdraw(actor=staff_user, announcement=made["withdrawn"], reason="Premature")
    return made


def titles(html):
    return set(re.findall(r'<th scope="row"><a href="/announcements/manage/\d+/">(.*?)</a>', html))


def test_the_manage_list_filters_by_status(client, staff_user, one_of_each):
    client.force_login(staff_user)
    url = reverse("announcements-manage")
    assert titles(client.get(url).content.decode()) == {f"Item {s}" for s in Announcement.Status}
    for status in Announcement.Status:
        html = client.get(url, {"status": status.value}).content.decode()
        assert titles(html) == {f"Item {status.value}"}, status
        assert f'<a href="?status={status.value}" aria-current="page">' in html
    assert titles(client.get(url, {"status": "bogus"}).content.decode()) == {f"Item {s}" for s in Announcement.Status}


def test_a_liaison_manage_list_holds_no_embargoed_announcement(client, gb_liaison, gb, one_of_each):
    announcement_create(actor=gb_liaison, title="Liaison draft", countries=[gb])
    client.force_login(gb_liaison)
    html = client.get(reverse("announcements-manage")).content.decode()
    assert titles(html) == {"Item published", "Item draft", "Liaison draft"}  # GB drafts and what is published
    assert client.get(edit_url(one_of_each["scheduled"])).status_code == 404


# Session, user, roles, count, unread notifications (header), the page, its countries, the country filter's choices.
MANAGE_QUERIES = 8


def _many(staff_user, n):
    gb, fr = factories.country("GB"), factories.country("FR")
    for i in range(n):
        announcement = announcement_create(actor=staff_user, title=f"News {i}", countries=[gb, fr])
        if i % 3 == 1:
            announcement_schedule(
                actor=staff_user, announcement=announcement, embargo_until=timezone.now() + datetime.timedelta(days=1)
            )
        elif i % 3 == 2:
            announcement_publish(actor=staff_user, announcement=announcement)


@pytest.mark.parametrize("n", [3, 30])
@pytest.mark.parametrize("status", ["", "scheduled"])
def test_the_manage_list_costs_the_same_for_3_or_30(client, staff_user, n, status):
    _many(staff_user, n)
    client.force_login(staff_user)
    url = reverse("announcements-manage") + f"?status={status}"
    client.get(url)  # warm the per-process caches (the demo-data banner's flag)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert len(titles(response.content.decode())) == (n if not status else n // 3)
    assert len(queries) == MANAGE_QUERIES, "\n".join(q["sql"][:150] for q in queries)


# --- 8. French --------------------------------------------------------------------------------------------------------


def test_the_manage_page_in_french(client, staff_user, one_of_each):
    client.force_login(staff_user)
    html = client.get(reverse("announcements-manage"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<html lang="fr">' in html
    assert "<h1>Gérer les annonces</h1>" in html
    for french in ("Rédiger une annonce", "Statut", "Pays", "Brouillon", "Programmée", "Publiée", "Retirée", "Annonces"):
        assert french in html, french
    assert "Manage announcements" not in html and "Draft an announcement" not in html


def test_the_title_of_an_announcement_is_not_called_a_job_title_in_french(client, staff_user, one_of_each):
    client.force_login(staff_user)
    manage = client.get(reverse("announcements-manage"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    form = client.get(reverse("announcement-new"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    headers = re.findall(r'<th scope="col">(.*?)</th>', manage)
    label = re.search(r'<label for="id_title">(.*?)(?: <span|</label>)', form).group(1)
    # msgid "Title" is translated "Fonction" (a counterpart's job title, country page); announcements need their own
    # context (pgettext), e.g. "Titre".
    assert "Fonction" not in (headers[0], label), (
        f"the announcement title is labelled as a job title in French: column {headers[0]!r}, form label {label!r}"
    )


def test_the_public_list_in_french(client, staff_user, one_of_each):
    html = client.get(reverse("public-announcements"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<html lang="fr">' in html
    assert "<h1>Annonces</h1>" in html
    assert "Ce que le programme et les gouvernements partenaires ont annoncé." in html
    assert "Nothing has been announced" not in html and "All countries" not in html
    for french in ("Pays", "Volet", "Tous les volets", "Appliquer", "Royaume-Uni"):
        assert french in html, french


def test_an_edit_from_a_page_read_before_someone_elses_save_is_refused_and_keeps_the_typed_text(client, staff_user, draft, gb):
    client.force_login(staff_user)
    page_version = draft.version
    announcement_update(actor=staff_user, announcement=draft, title="UK and the programme")  # someone else

    typed = form_data(title="My title", countries=[gb.pk], version=page_version)
    response = client.post(edit_url(draft), typed)

    assert response.status_code == 409
    html = response.content.decode()
    assert "Your change was not saved" in html and 'value="My title"' in html
    assert Announcement.objects.get().title == "UK and the programme"
    # The page now carries the version it showed: saving again applies the typed text, on purpose.
    again = client.post(edit_url(draft), {**typed, "version": page_version + 1})
    assert again.status_code == 302 and Announcement.objects.get().title == "My title"


def test_the_manage_list_filters_by_words_country_and_status_and_sorts(client, staff_user, gb, fr):
    announcement_create(actor=staff_user, title="Skills compact with the UK", countries=[gb])
    announcement_create(actor=staff_user, title="Compute partnership with France", countries=[fr])
    later = announcement_create(actor=staff_user, title="Another UK note", countries=[gb])
    announcement_publish(actor=staff_user, announcement=later)
    client.force_login(staff_user)

    def titles(**query):
        html = client.get(reverse("announcements-manage"), query).content.decode()
        return re.findall(r'<th scope="row"><a href="/announcements/manage/\d+/">([^<]+)</a>', html)

    assert titles(q="compute") == ["Compute partnership with France"]
    assert set(titles(country="gb")) == {"Skills compact with the UK", "Another UK note"}
    assert titles(country="gb", status="published") == ["Another UK note"]
    assert titles(order="title") == sorted(titles())
    assert titles(order="created")[0] == "Skills compact with the UK"
    assert client.get(reverse("announcements-manage"), {"country": "ß"}).status_code == 200
    assert titles(country="ß") == titles()  # not a country code: no filter
