"""Briefing packs (one PDF of several countries' briefs, built by a task for its requester) and the country
groupings they can be asked for."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from core.models import Event
from countries.models import CountryGrouping
from countries.services import grouping_create
from engagements.models import Engagement
from engagements.services import engagement_log
from notifications.models import Notification
from partnerships import packs
from partnerships.models import BriefingPack
from partnerships.services import partnership_create
from tests import factories

pytestmark = pytest.mark.django_db

MARK = "Confidential: contains engagements for restricted readers. Do not circulate."


@pytest.fixture
def programme(staff_user, gb_liaison):
    """Three programme countries: GB and FR in Europe, KE in Africa; GB holds a confidential engagement."""
    countries = {code: factories.country(code) for code in ("GB", "FR", "KE")}
    for country in countries.values():
        partnership_create(actor=staff_user, country=country)
    engagement_log(actor=gb_liaison, country=countries["GB"], occurred_on=timezone.localdate() - datetime.timedelta(days=3),
                   kind="call", summary="Secret budget call", sensitivity=Engagement.Sensitivity.CONFIDENTIAL)  # fmt: skip
    engagement_log(actor=staff_user, country=countries["FR"], occurred_on=timezone.localdate() - datetime.timedelta(days=2),
                   kind="meeting", summary="Open skills meeting")  # fmt: skip
    return countries


def _pages(pack) -> list[str]:
    reader = PdfReader(io.BytesIO(bytes(pack.pdf)))
    return [page.extract_text() for page in reader.pages], reader


@pytest.fixture
def ask(client, django_capture_on_commit_callbacks):
    """Ask for a pack through the page, its transaction committed (so the task runs, in-process)."""

    def ask(user, data):
        client.force_login(user)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("briefing-packs"), data)

    return ask


# --- groupings ---------------------------------------------------------------------------------------------------


def test_staff_create_edit_and_delete_a_grouping_with_audit_and_events(client, staff_user, programme):
    client.force_login(staff_user)
    gb, fr, ke = programme["GB"].pk, programme["FR"].pk, programme["KE"].pk
    response = client.post(reverse("grouping-new"), {"name": "Gulf partners", "countries": [gb, fr]})
    assert response.status_code == 302
    grouping = CountryGrouping.objects.get(name="Gulf partners")
    assert set(grouping.countries.values_list("iso2", flat=True)) == {"GB", "FR"}
    assert client.get(reverse("groupings")).content.decode().count("Gulf partners") >= 1

    response = client.post(reverse("grouping-edit", args=[grouping.pk]), {"name": "G7", "countries": [ke]})
    assert response.status_code == 302
    grouping.refresh_from_db()
    assert grouping.name == "G7" and list(grouping.countries.values_list("iso2", flat=True)) == ["KE"]

    assert client.post(reverse("grouping-delete", args=[grouping.pk])).status_code == 302
    assert not CountryGrouping.objects.exists()
    kinds = list(Event.objects.filter(subject_type="countries.countrygrouping").order_by("id").values_list("kind", flat=True))
    assert kinds == ["grouping.created", "grouping.updated", "grouping.deleted"]
    assert Event.objects.get(kind="grouping.updated").payload == {"name": "G7", "countries": ["KE"]}
    from auditlog.models import LogEntry

    assert LogEntry.objects.filter(content_type__model="countrygrouping").count() >= 3


def test_a_grouping_needs_a_name_and_countries(client, staff_user, programme):
    client.force_login(staff_user)
    response = client.post(reverse("grouping-new"), {"name": "", "countries": []})
    assert response.status_code == 200
    assert not CountryGrouping.objects.exists()
    assert response.context["form"].errors.keys() == {"name", "countries"}


@pytest.mark.parametrize("role", ["viewer", "liaison"])
def test_only_programme_staff_manage_groupings(client, role, viewer_user, gb_liaison, staff_user, programme):
    user = viewer_user if role == "viewer" else gb_liaison
    grouping = grouping_create(actor=staff_user, name="G7", countries=[programme["GB"]])
    client.force_login(user)
    assert client.get(reverse("groupings")).status_code == 403
    assert client.post(reverse("grouping-new"), {"name": "Mine", "countries": [programme["FR"].pk]}).status_code == 403
    assert (
        client.post(reverse("grouping-edit", args=[grouping.pk]), {"name": "X", "countries": [programme["FR"].pk]}).status_code
        == 403
    )
    assert client.post(reverse("grouping-delete", args=[grouping.pk])).status_code == 403
    assert list(CountryGrouping.objects.values_list("name", flat=True)) == ["G7"]


# --- packs ---------------------------------------------------------------------------------------------------------


def test_a_pack_of_a_region_is_built_with_one_section_per_country_and_a_notification(client, ask, gb_liaison, programme):
    response = ask(gb_liaison, {"region": "150"})  # Europe: GB and FR, not KE
    pack = BriefingPack.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("briefing-pack", args=[pack.pk])
    assert pack.status == "ready" and (pack.done, pack.total) == (2, 2)
    texts, reader = _pages(pack)
    # One section per country, in name order: a bookmark at the first page of each brief.
    sections = {item.title: reader.get_destination_page_number(item) for item in reader.outline if not isinstance(item, list)}
    sections = {title: page for title, page in sections.items() if "Country briefing" in title}
    assert list(sections) == ["France FR · Country briefing", "United Kingdom GB · Country briefing"]
    assert sections["France FR · Country briefing"] == 0 < sections["United Kingdom GB · Country briefing"]
    whole = "\n".join(texts)
    assert "France" in whole and "Kenya" not in whole
    # The liaison of GB may read its confidential engagement: it is in their pack, and its pages carry the mark,
    # the pages of France (nothing confidential) do not.
    assert "Secret budget call" in whole
    gb_pages = [t for t in texts if "Secret budget call" in t or "Great Britain" in t]
    fr_pages = [t for t in texts if "Open skills meeting" in t]
    assert gb_pages and all(MARK in t for t in gb_pages)
    assert fr_pages and not any(MARK in t for t in fr_pages)
    note = Notification.objects.get(user=gb_liaison, event__kind="briefing_pack.ready")
    inbox = client.get(reverse("notifications:inbox")).content.decode()
    assert reverse("briefing-pack", args=[pack.pk]) in inbox
    assert "Your briefing pack of 2 countries is ready." in inbox
    assert note.event.payload == {"owner_id": gb_liaison.pk, "total": 2}
    page = client.get(reverse("briefing-pack", args=[pack.pk])).content.decode()
    assert reverse("briefing-pack-pdf", args=[pack.pk]) in page
    download = client.get(reverse("briefing-pack-pdf", args=[pack.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert download.content == bytes(pack.pdf)


def test_a_pack_of_a_selection_for_a_viewer_holds_nothing_confidential(client, ask, viewer_user, programme):
    ask(viewer_user, {"countries": [programme["GB"].pk, programme["KE"].pk]})
    pack = BriefingPack.objects.get()
    assert pack.status == "ready" and pack.total == 2
    texts, _reader = _pages(pack)
    whole = "\n".join(texts)
    assert "Kenya" in whole and "France" not in whole
    assert "Secret budget call" not in whole and MARK not in whole


def test_a_pack_of_a_grouping(client, ask, staff_user, programme):
    grouping = grouping_create(actor=staff_user, name="Partners", countries=[programme["KE"], programme["FR"]])
    ask(staff_user, {"grouping": grouping.pk})
    pack = BriefingPack.objects.get()
    assert set(pack.countries.values_list("iso2", flat=True)) == {"KE", "FR"} and pack.status == "ready"
    assert "Partners" in pack.label


def test_an_empty_selection_is_refused_before_any_work(client, ask, gb_liaison, programme):
    response = ask(gb_liaison, {"region": "", "countries": []})
    assert response.status_code == 200
    assert "the pack would be empty" in response.content.decode()
    assert not BriefingPack.objects.exists()
    assert not Event.objects.filter(kind__startswith="briefing_pack").exists()
    # A region without programme countries is empty too.
    response = ask(gb_liaison, {"region": "009"})
    assert not BriefingPack.objects.exists() and "the pack would be empty" in response.content.decode()


def test_another_user_gets_404_for_the_pack_and_its_pdf(client, ask, gb_liaison, staff_user, programme):
    ask(gb_liaison, {"countries": [programme["GB"].pk]})
    pack = BriefingPack.objects.get()
    admin = factories.UserFactory(username="root", is_superuser=True, is_staff=True)
    for other in (staff_user, admin):
        client.force_login(other)
        assert client.get(reverse("briefing-pack", args=[pack.pk])).status_code == 404
        assert client.get(reverse("briefing-pack-pdf", args=[pack.pk])).status_code == 404
        assert client.post(reverse("briefing-pack-retry", args=[pack.pk])).status_code == 404
    assert not Notification.objects.filter(user=staff_user, event__kind="briefing_pack.ready").exists()


def test_progress_is_written_as_each_country_is_laid_out(gb_liaison, programme, monkeypatch):
    seen = []
    real = packs.html_document

    def watching(html, **kwargs):
        seen.append(BriefingPack.objects.values_list("status", "done", "total").get())
        return real(html, **kwargs)

    monkeypatch.setattr(packs, "html_document", watching)
    packs.pack_request(actor=gb_liaison, countries=list(programme.values()), label="All")
    pack = BriefingPack.objects.get()
    assert pack.status == "pending"  # queued once the request commits (the test's transaction never does)
    packs.build_pack(pack.pk)
    assert seen == [("running", 0, 3), ("running", 1, 3), ("running", 2, 3)]
    pack.refresh_from_db()
    assert (pack.status, pack.done, pack.total) == ("ready", 3, 3)


def test_the_pack_page_polls_while_in_progress_and_answers_htmx_with_the_fragment(client, gb_liaison, programme):
    pack = packs.pack_request(actor=gb_liaison, countries=[programme["GB"]], label="GB")
    client.force_login(gb_liaison)
    page = client.get(reverse("briefing-pack", args=[pack.pk])).content.decode()
    assert 'data-hx-trigger="every 2s"' in page and "0 of 1 countries done" in page and "Check again" in page
    fragment = client.get(reverse("briefing-pack", args=[pack.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert fragment.startswith('<div id="pack-status"') and "<html" not in fragment
    packs.build_pack(pack.pk)
    page = client.get(reverse("briefing-pack", args=[pack.pk])).content.decode()
    assert "data-hx-trigger" not in page and "Download the PDF" in page


def test_a_failed_pack_says_why_and_can_be_tried_again(
    client, ask, gb_liaison, programme, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(html, **kwargs):
        raise RuntimeError("fonts on fire")

    monkeypatch.setattr(packs, "html_document", broken)
    ask(gb_liaison, {"countries": [programme["GB"].pk]})
    pack = BriefingPack.objects.get()
    assert pack.status == "failed" and "fonts on fire" in pack.error
    page = client.get(reverse("briefing-pack", args=[pack.pk])).content.decode()
    assert "The pack failed." in page and "fonts on fire" in page
    assert client.get(reverse("briefing-pack-pdf", args=[pack.pk])).status_code == 404
    assert Notification.objects.filter(user=gb_liaison, event__kind="briefing_pack.failed").exists()
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("briefing-pack-retry", args=[pack.pk]))
    assert response.status_code == 302
    pack.refresh_from_db()
    assert pack.status == "ready" and pack.error == ""


def test_the_task_has_a_stable_name_and_old_packs_are_purged(gb_liaison, programme):
    from django.conf import settings

    from partnerships.tasks import build_briefing_pack, purge_briefing_packs

    assert build_briefing_pack.name == "partnerships.tasks.build_briefing_pack"
    assert {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()} >= {purge_briefing_packs.name}
    old = packs.pack_request(actor=gb_liaison, countries=[programme["GB"]], label="old")
    new = packs.pack_request(actor=gb_liaison, countries=[programme["FR"]], label="new")
    BriefingPack.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=packs.PACK_KEEP_DAYS, hours=1)
    )
    assert packs.purge_expired_packs() >= 1
    assert list(BriefingPack.objects.values_list("pk", flat=True)) == [new.pk]


def test_an_erasure_deletes_the_packs_that_may_print_the_person(
    gb_liaison, staff_user, programme, django_capture_on_commit_callbacks
):
    from countries.services import counterpart_create, counterpart_erase

    ada = counterpart_create(actor=gb_liaison, country=programme["GB"], name="Ada Minister")
    with django_capture_on_commit_callbacks(execute=True):
        gb_pack = packs.pack_request(actor=gb_liaison, countries=[programme["GB"], programme["FR"]], label="GB and FR")
        fr_pack = packs.pack_request(actor=gb_liaison, countries=[programme["FR"]], label="FR")
    assert "Ada Minister" in "\n".join(_pages(BriefingPack.objects.get(pk=gb_pack.pk))[0])
    with django_capture_on_commit_callbacks(execute=True):
        counterpart_erase(actor=staff_user, counterpart=ada, reason="Asked to be forgotten")
    assert list(BriefingPack.objects.values_list("pk", flat=True)) == [fr_pack.pk]


def test_a_pack_lost_on_its_way_can_be_asked_for_again_after_a_while(
    client, gb_liaison, programme, django_capture_on_commit_callbacks
):
    pack = packs.pack_request(actor=gb_liaison, countries=[programme["GB"]], label="lost")  # never queued: no commit
    client.force_login(gb_liaison)
    assert "Try again" not in client.get(reverse("briefing-pack", args=[pack.pk])).content.decode()
    client.post(reverse("briefing-pack-retry", args=[pack.pk]))
    assert BriefingPack.objects.get(pk=pack.pk).status == "pending"  # too early: refused
    BriefingPack.objects.filter(pk=pack.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=31))
    assert "Try again" in client.get(reverse("briefing-pack", args=[pack.pk])).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("briefing-pack-retry", args=[pack.pk]))
    assert BriefingPack.objects.get(pk=pack.pk).status == "ready"
