"""Moving, pausing, resuming and withdrawing a track from the country page, through the same services as the API."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from partnerships.models import CountryTrack, StageChange
from partnerships.services import partnership_create
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def gb(staff_user):
    partnership_create(actor=staff_user, country=factories.country("GB"))
    return factories.country("GB")


def post(client, user, data, track="workforce"):
    client.force_login(user)
    payload = {f"track-{track}-{key}": value for key, value in data.items()}
    return client.post(reverse("country-track-change", args=["gb", track]), payload)


def cell(track="workforce"):
    return CountryTrack.objects.select_related("stage").get(country__iso2="GB", track__key=track)


def test_a_liaison_moves_a_track_forward(client, gb, gb_liaison):
    response = post(client, gb_liaison, {"action": "move", "to_stage": "negotiating", "note": ""})
    assert response.status_code == 302 and response["Location"] == "/countries/gb/"
    assert cell().stage.key == "negotiating"
    assert StageChange.objects.filter(country_track=cell(), to_stage__key="negotiating", actor=gb_liaison).exists()
    page = client.get("/countries/gb/").content.decode()
    assert "Workforce training: saved." in page


def test_moving_back_without_a_note_keeps_the_input_and_says_why(client, gb, gb_liaison):
    post(client, gb_liaison, {"action": "move", "to_stage": "agreed"})
    response = post(client, gb_liaison, {"action": "move", "to_stage": "exploring", "note": "", "reason": "typed text"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "needs a note saying why" in html
    assert "typed text" in html  # what was typed is still there
    assert '<option value="exploring" selected>' in html
    assert cell().stage.key == "agreed"


def test_pausing_needs_a_reason_and_a_future_date(client, gb, gb_liaison):
    response = post(client, gb_liaison, {"action": "pause", "reason": "", "resume_on": ""})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Pausing a track needs a reason." in html and "Pausing a track needs a date to resume it." in html
    tomorrow = timezone.localdate() + datetime.timedelta(days=30)
    ok = post(client, gb_liaison, {"action": "pause", "reason": "Elections", "resume_on": tomorrow.isoformat()})
    assert ok.status_code == 302 and cell().stage.key == "paused"
    assert post(client, gb_liaison, {"action": "resume"}).status_code == 302
    assert cell().stage.key == "not_started"


def test_others_get_no_form_and_a_forged_post_is_refused(client, gb, fr_liaison, viewer_user):
    client.force_login(viewer_user)
    assert "Change the stage" not in client.get("/countries/gb/").content.decode()
    for outsider in (fr_liaison, viewer_user):
        assert post(client, outsider, {"action": "move", "to_stage": "agreed"}).status_code == 403
    assert cell().stage.key == "not_started"


def test_an_unknown_track_is_404_and_get_is_not_allowed(client, gb, gb_liaison):
    assert post(client, gb_liaison, {"action": "move", "to_stage": "agreed"}, track="nope").status_code == 404
    client.force_login(gb_liaison)
    assert client.get(reverse("country-track-change", args=["gb", "workforce"])).status_code == 405


def test_a_move_can_cite_an_announcement_of_the_country_as_evidence(client, staff_user, gb_liaison):
    from announcements.models import Announcement
    from announcements.services import announcement_create, announcement_publish
    from partnerships.models import CountryTrack
    from partnerships.services import partnership_create

    gb, fr = factories.country("GB"), factories.country("FR")
    partnership_create(actor=staff_user, country=gb)
    news = announcement_create(actor=staff_user, title="UK joins the safety network", countries=[gb])
    announcement_publish(actor=staff_user, announcement=news)
    elsewhere = announcement_create(actor=staff_user, title="France news", countries=[fr])
    client.force_login(gb_liaison)
    page = client.get(reverse("country-detail", args=["gb"])).content.decode()
    assert f'value="announcement:{news.pk}"' in page and "UK joins the safety network" in page
    assert f'value="announcement:{elsewhere.pk}"' not in page  # only the country's own

    url = reverse("country-track-change", args=["gb", "safety_standards"])
    data = {"track-safety_standards-action": "move", "track-safety_standards-to_stage": "exploring"}
    forged = client.post(url, {**data, "track-safety_standards-evidence": f"announcement:{elsewhere.pk}"})
    assert forged.status_code == 400  # another country's announcement is not among the choices
    assert CountryTrack.objects.get(country=gb, track__key="safety_standards").stage.key == "not_started"

    response = client.post(url, {**data, "track-safety_standards-evidence": f"announcement:{news.pk}"}, follow=True)
    assert response.status_code == 200
    change = CountryTrack.objects.get(country=gb, track__key="safety_standards").stage_changes.order_by("-id").first()
    assert change.evidence_announcement == Announcement.objects.get(pk=news.pk)
    assert "evidence: announcement “UK joins the safety network”" in response.content.decode()
