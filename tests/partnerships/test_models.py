"""Single-row rules that the database itself enforces, whatever path writes the row."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from announcements.models import Announcement
from engagements.models import Agreement
from partnerships.models import CountryTrack
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_database_refuses_an_agreement_expiring_before_it_was_signed(gb):
    with pytest.raises(IntegrityError), transaction.atomic():
        Agreement.objects.create(
            country=gb, kind="mou", title="MoU", signed_on=datetime.date(2025, 1, 2), expires_on=datetime.date(2025, 1, 1)
        )
    assert Agreement.objects.count() == 0


@pytest.mark.parametrize(
    "fields",
    [{"status": Announcement.Status.SCHEDULED}, {"status": Announcement.Status.PUBLISHED}],
    ids=["scheduled", "published"],
)
def test_the_database_refuses_a_scheduled_or_published_announcement_without_its_date(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        Announcement.objects.create(title="Statement", **fields)
    assert Announcement.objects.count() == 0


def test_a_cell_refuses_a_stage_of_another_track(gb):
    ct = CountryTrack(
        country=gb,
        track=factories.track("workforce"),
        stage=factories.stage("data_centres", "exploring"),
        ladder_stage=factories.stage("workforce", "paused"),
        stage_changed_at=timezone.now(),
    )

    with pytest.raises(ValidationError) as err:
        ct.full_clean()

    assert err.value.message_dict == {
        "stage": ["The stage belongs to another track."],
        "ladder_stage": ["The last ladder stage must be a rung of the ladder."],
    }
