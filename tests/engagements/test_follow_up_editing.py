"""Follow-ups in the portal: undo a "done", reopen one done lately, edit one, add one without an engagement."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from engagements.models import FollowUp
from engagements.services import follow_up_complete, follow_up_create, follow_up_update
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(gb_partnership, gb_liaison):
    return follow_up_create(
        actor=gb_liaison,
        country=gb_partnership.country,
        description="Send the draft memorandum",
        due_on=timezone.localdate() + datetime.timedelta(days=3),
        owner=gb_liaison,
    )


def test_done_by_mistake_is_undone_in_place(client, task, gb_liaison):
    client.force_login(gb_liaison)
    done = client.post(reverse("follow-up-done", args=[task.pk]), {"next": "/follow-ups/"}, HTTP_HX_REQUEST="true")
    assert done.status_code == 200 and "Undo" in done.content.decode()
    assert FollowUp.objects.get(pk=task.pk).is_done
    undone = client.post(reverse("follow-up-reopen", args=[task.pk]), {"next": "/follow-ups/"}, HTTP_HX_REQUEST="true")
    html = undone.content.decode()
    assert undone.status_code == 200 and reverse("follow-up-done", args=[task.pk]) in html
    assert not FollowUp.objects.get(pk=task.pk).is_done


def test_one_done_lately_is_listed_and_reopened(client, task, gb_liaison):
    follow_up_complete(actor=gb_liaison, follow_up=task)
    client.force_login(gb_liaison)
    listed = client.get(reverse("follow-ups"), {"show": "done"}).content.decode()
    assert "Send the draft memorandum" in listed and reverse("follow-up-reopen", args=[task.pk]) in listed
    response = client.post(reverse("follow-up-reopen", args=[task.pk]), {"next": "/follow-ups/?show=done"})
    assert response.status_code == 302 and response["Location"] == "/follow-ups/?show=done"
    assert not FollowUp.objects.get(pk=task.pk).is_done


def test_a_follow_up_is_rescheduled_reassigned_and_put_on_a_track(client, task, gb_liaison, staff_user):
    client.force_login(gb_liaison)
    day = timezone.localdate() + datetime.timedelta(days=10)
    workforce = factories.track("workforce")
    data = {"version": task.version, "description": "Send the signed memorandum", "due_on": day.isoformat(),
            "owner": staff_user.pk, "track": workforce.pk}  # fmt: skip
    assert client.post(reverse("follow-up-edit", args=[task.pk]), data).status_code == 302
    stored = FollowUp.objects.get(pk=task.pk)
    assert (stored.description, stored.due_on, stored.owner, stored.track) == (data["description"], day, staff_user, workforce)


def test_an_owner_who_does_not_work_on_the_country_is_refused(client, task, gb_liaison, fr_liaison):
    client.force_login(gb_liaison)
    data = {"version": task.version, "description": task.description, "due_on": task.due_on.isoformat(), "owner": fr_liaison.pk}
    response = client.post(reverse("follow-up-edit", args=[task.pk]), data)
    assert response.status_code == 400 and FollowUp.objects.get(pk=task.pk).owner == gb_liaison


def test_an_edit_from_an_older_page_is_refused_with_a_409(client, task, gb_liaison, staff_user):
    seen = {"version": task.version, "description": "Mine", "due_on": task.due_on.isoformat()}
    follow_up_update(actor=staff_user, follow_up=task, description="Theirs")
    client.force_login(gb_liaison)
    response = client.post(reverse("follow-up-edit", args=[task.pk]), seen)
    assert response.status_code == 409 and 'value="Mine"' in response.content.decode()
    assert FollowUp.objects.get(pk=task.pk).description == "Theirs"


def test_a_follow_up_is_added_without_an_engagement_from_the_country_page(client, gb_partnership, gb_liaison, fr_liaison):
    client.force_login(gb_liaison)
    country_page = client.get(reverse("country-detail", args=["gb"])).content.decode()
    assert reverse("follow-up-new", args=["gb"]) in country_page
    day = (timezone.localdate() + datetime.timedelta(days=5)).isoformat()
    response = client.post(reverse("follow-up-new", args=["gb"]), {"description": "Book the room", "due_on": day})
    assert response.status_code == 302
    created = FollowUp.objects.get(description="Book the room")
    assert (created.engagement, created.country.iso2) == (None, "GB")
    assert "Book the room" in client.get(reverse("country-detail", args=["gb"])).content.decode()
    client.force_login(fr_liaison)
    assert client.post(reverse("follow-up-new", args=["gb"]), {"description": "Not mine", "due_on": day}).status_code == 403
    # From the follow-ups page: the choice of country leads to the same form.
    client.force_login(gb_liaison)
    assert client.get(reverse("follow-up-new-for"), {"country": "gb"})["Location"] == reverse("follow-up-new", args=["gb"])


def test_an_owner_who_left_the_country_is_kept_when_only_the_wording_changes(client, task, gb_liaison, staff_user):
    from countries.models import LiaisonAssignment

    LiaisonAssignment.objects.filter(user=gb_liaison).delete()
    client.force_login(staff_user)
    page = client.get(reverse("follow-up-edit", args=[task.pk])).content.decode()
    assert f'<option value="{gb_liaison.pk}" selected>' in page
    data = {"version": task.version, "description": "Send the revised memorandum", "due_on": task.due_on.isoformat(),
            "owner": gb_liaison.pk, "next": "/follow-ups/?show=all"}  # fmt: skip
    response = client.post(reverse("follow-up-edit", args=[task.pk]), data)
    assert response.status_code == 302 and response["Location"] == "/follow-ups/?show=all"
    stored = FollowUp.objects.get(pk=task.pk)
    assert (stored.description, stored.owner) == ("Send the revised memorandum", gb_liaison)


def test_undo_of_one_already_open_answers_in_the_row(client, task, gb_liaison):
    client.force_login(gb_liaison)
    response = client.post(reverse("follow-up-reopen", args=[task.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "still open" in response.content.decode()
