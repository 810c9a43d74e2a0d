"""A track's next step: set from the country page, flagged once its date has passed (country page, home page,
needs attention)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from partnerships.models import CountryTrack
from partnerships.services import country_track_update
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def cell(gb_partnership):
    return CountryTrack.objects.get(country=gb_partnership.country, track__key="workforce")


def test_a_liaison_sets_the_next_step_from_the_country_page(client, cell, gb_liaison):
    client.force_login(gb_liaison)
    day = timezone.localdate() + datetime.timedelta(days=10)
    response = client.post(
        reverse("country-next-step", args=["gb", "workforce"]),
        {"next-workforce-version": cell.version, "next-workforce-next_step": "Send the draft MoU",
         "next-workforce-next_step_due": day.isoformat()},
    )  # fmt: skip
    assert response.status_code == 302
    stored = CountryTrack.objects.get(pk=cell.pk)
    assert (stored.next_step, stored.next_step_due) == ("Send the draft MoU", day)


def test_a_next_step_from_an_older_page_is_refused(client, cell, gb_liaison, staff_user):
    seen = cell.version
    country_track_update(actor=staff_user, country_track=cell, next_step="Staff's step")
    client.force_login(gb_liaison)
    response = client.post(
        reverse("country-next-step", args=["gb", "workforce"]),
        {"next-workforce-version": seen, "next-workforce-next_step": "My step"},
    )
    assert response.status_code == 409 and 'value="My step"' in response.content.decode()
    assert CountryTrack.objects.get(pk=cell.pk).next_step == "Staff's step"


def test_a_next_step_past_its_date_is_flagged_everywhere(client, cell, gb_liaison, staff_user):
    past = timezone.localdate() - datetime.timedelta(days=2)
    country_track_update(actor=staff_user, country_track=cell, next_step="Book the ministerial visit", next_step_due=past)
    client.force_login(gb_liaison)
    country_page = client.get(reverse("country-detail", args=["gb"])).content.decode()
    assert "Book the ministerial visit" in country_page and 'class="overdue"' in country_page
    home = client.get(reverse("home")).content.decode()
    assert "Book the ministerial visit" in home and "Overdue" in home
    client.force_login(staff_user)
    attention = client.get(reverse("dashboard-attention")).content.decode()
    assert "Next step past its date (1)" in attention
    assert "Next step “Book the ministerial visit” was due on" in attention
    assert reverse("engagement-new", args=["gb"]) in attention
    client.force_login(factories.viewer(username="reader"))
    read_only = client.get(reverse("dashboard-attention")).content.decode()
    assert "Book the ministerial visit" in read_only and reverse("engagement-new", args=["gb"]) not in read_only  # not theirs
    client.force_login(staff_user)
    # Re-dated, it is no longer flagged.
    country_track_update(actor=staff_user, country_track=cell, next_step_due=timezone.localdate() + datetime.timedelta(days=5))
    assert "Book the ministerial visit" not in client.get(reverse("dashboard-attention")).content.decode()
