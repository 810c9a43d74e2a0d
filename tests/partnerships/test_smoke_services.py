import datetime

from django.utils import timezone

from engagements.services import engagement_log
from partnerships.models import CountryTrack, StageChange
from partnerships.services import country_track_move
from tests import factories


def test_partnership_opens_a_not_started_cell_per_track(gb_partnership):
    cells = CountryTrack.objects.filter(country=gb_partnership.country).order_by("track__position")
    assert [c.track.key for c in cells] == ["workforce", "public_services", "safety_standards", "data_centres"]
    assert {c.stage.key for c in cells} == {"not_started"}
    assert StageChange.objects.filter(country_track__country=gb_partnership.country, from_stage=None).count() == 4


def test_liaison_logs_and_moves(gb_partnership, gb_liaison, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        engagement = engagement_log(
            actor=gb_liaison,
            country=gb_partnership.country,
            occurred_on=timezone.localdate() - datetime.timedelta(days=1),
            kind="meeting",
            summary="Kick-off",
            tracks=[factories.track("workforce")],
        )
        ct = CountryTrack.objects.get(country=gb_partnership.country, track__key="workforce")
        country_track_move(actor=gb_liaison, country_track=ct, to_stage=factories.stage("workforce", "exploring"))
    ct.refresh_from_db()
    assert ct.stage.key == "exploring"
    assert ct.health == "on_track"
    assert ct.last_engagement_on == engagement.occurred_on
    status = gb_partnership.country.status
    assert status.engagement_count == 1
    assert status.furthest_stage_key == "exploring"
