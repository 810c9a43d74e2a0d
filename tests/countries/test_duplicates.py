"""Likely duplicate counterparts, and merging one into the other (programme staff)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from core.models import Event
from countries.duplicates import likely_duplicates, normalised
from countries.models import Counterpart
from countries.selectors import counterpart_list
from countries.services import counterpart_create, counterpart_merge
from engagements.services import engagement_log
from tests import factories

pytestmark = pytest.mark.django_db


def test_names_are_compared_without_accents_case_punctuation_or_word_order():
    assert normalised("Ngozi Okonjo-Iweala") == normalised("okonjo iweala, NGOZI") == "iweala ngozi okonjo"
    assert normalised("Hélène Dupré") == normalised("Helene DUPRE")


def test_likely_duplicates_are_the_same_name_or_a_close_one(gb, staff_user):
    made = [counterpart_create(actor=staff_user, country=gb, name=n) for n in (
        "Hélène Dupré", "Dupre, Helene", "Ada Lovelace", "Ada Lovelase", "Grace Hopper",
    )]  # fmt: skip
    pairs = {(a.name, b.name, score) for a, b, score in likely_duplicates(made)}
    assert ("Hélène Dupré", "Dupre, Helene", 100) in pairs
    assert any({a, b} == {"Ada Lovelace", "Ada Lovelase"} for a, b, _s in pairs)
    assert not any("Grace Hopper" in (a, b) for a, b, _s in pairs)


@pytest.fixture
def pair(gb_partnership, gb_liaison):
    gb = gb_partnership.country
    ada = counterpart_create(actor=gb_liaison, country=gb, name="Ada Lovelace", title="Minister for AI")
    again = counterpart_create(actor=gb_liaison, country=gb, name="Lovelace, Ada")
    again.active_from = datetime.date(2025, 1, 1)
    again.save()
    day = timezone.localdate()
    both = engagement_log(actor=gb_liaison, country=gb, occurred_on=day, kind="call", summary="Both", counterparts=[ada, again])
    only = engagement_log(actor=gb_liaison, country=gb, occurred_on=day, kind="call", summary="Only", counterparts=[again])
    return ada, again, both, only


def test_a_merge_moves_the_engagements_and_keeps_the_duplicate_on_record(pair, staff_user):
    ada, again, both, only = pair
    counterpart_merge(actor=staff_user, keep=ada, duplicate=again)
    assert list(both.counterparts.all()) == [ada] and list(only.counterparts.all()) == [ada]
    kept_on_file = Counterpart.objects.get(pk=again.pk)
    assert (kept_on_file.merged_into, kept_on_file.active_from) == (ada, datetime.date(2025, 1, 1))
    assert list(counterpart_list(country=ada.country)) == [ada]
    assert Event.objects.get(kind="counterpart.merged").payload == {"into": ada.pk, "engagements": sorted([both.pk, only.pk])}
    # The engagements now name someone else: each is a new version (an edit page read before is out of date).
    assert (type(both).objects.get(pk=both.pk).version, type(only).objects.get(pk=only.pk).version) == (2, 2)


def test_merges_that_are_refused(pair, gb_liaison, staff_user, fr_liaison):
    ada, again, _both, _only = pair
    with pytest.raises(PermissionDenied):
        counterpart_merge(actor=gb_liaison, keep=ada, duplicate=again)
    elsewhere = counterpart_create(actor=fr_liaison, country=factories.country("FR"), name="Ada Lovelace")
    with pytest.raises(ValidationError, match="same country"):
        counterpart_merge(actor=staff_user, keep=ada, duplicate=elsewhere)
    with pytest.raises(ValidationError, match="two different"):
        counterpart_merge(actor=staff_user, keep=ada, duplicate=ada)
    counterpart_merge(actor=staff_user, keep=ada, duplicate=again)
    with pytest.raises(ValidationError, match="already merged"):
        counterpart_merge(actor=staff_user, keep=again, duplicate=ada)


def test_staff_merge_from_the_counterparts_page_and_the_engagement_shows_the_one_kept(client, pair, staff_user, gb_liaison):
    ada, again, _both, only = pair
    client.force_login(gb_liaison)
    assert "Likely duplicates" not in client.get(reverse("counterparts", args=["gb"])).content.decode()
    client.force_login(staff_user)
    page = client.get(reverse("counterparts", args=["gb"])).content.decode()
    assert "Likely duplicates" in page and "100% alike" in page
    response = client.post(reverse("counterpart-merge", args=["gb"]), {"keep": ada.pk, "duplicate": again.pk})
    assert response.status_code == 302
    after = client.get(reverse("counterparts", args=["gb"])).content.decode()
    assert "Lovelace, Ada was merged into Ada Lovelace." in after  # the message, and no longer a row
    assert after.count("Lovelace, Ada") == 1 and "Likely duplicates" not in after
    assert "Ada Lovelace" in client.get(reverse("engagement-detail", args=[only.pk])).content.decode()


def test_the_record_kept_shows_the_one_merged_into_it_with_its_dates_and_the_merge_in_its_history(client, pair, staff_user):
    ada, again, _both, _only = pair
    counterpart_merge(actor=staff_user, keep=ada, duplicate=again)
    client.force_login(staff_user)
    page = client.get(reverse("counterpart-edit", args=["gb", ada.pk])).content.decode()
    merged = page.split('id="merged-title"')[1].split("</section>")[0]
    assert "Lovelace, Ada" in merged
    history = page.split('id="history-title"')[1]
    assert "merged Lovelace, Ada into this record" in history


def test_a_merged_counterpart_can_no_longer_be_edited_or_marked_as_left(client, pair, staff_user):
    from countries.services import counterpart_update

    ada, again, _both, _only = pair
    counterpart_merge(actor=staff_user, keep=ada, duplicate=again)
    client.force_login(staff_user)
    assert client.get(reverse("counterpart-edit", args=["gb", again.pk])).status_code == 404
    assert client.post(reverse("counterpart-leave", args=["gb", again.pk]), {"left_on": "2026-01-01"}).status_code == 404
    with pytest.raises(ValidationError, match="merged into another record"):
        counterpart_update(actor=staff_user, counterpart=again, title="Revived")


def test_the_demo_reset_still_works_after_a_merge(pair, staff_user):
    from demo.builder import reset_demo_data

    ada, again, _both, _only = pair
    counterpart_merge(actor=staff_user, keep=ada, duplicate=again)
    reset_demo_data()
    assert not Counterpart.objects.exists()
