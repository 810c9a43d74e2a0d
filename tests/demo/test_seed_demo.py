import datetime
import io

import pytest
from django.apps import apps
from django.contrib.auth import authenticate, get_user_model
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone

from announcements.models import Announcement
from core import roles
from core.models import DemoDataset
from countries.models import Counterpart, CountryStatus, LiaisonAssignment
from demo.builder import DEMO_USERS
from engagements.models import Agreement, Engagement, EngagementTrack, FollowUp
from infrastructure.models import CapacityPhase, Facility
from partnerships.models import CountryTrack, Partnership, StageChange
from tracks.models import Stage

pytestmark = pytest.mark.django_db

SMALL = ["--countries", "12", "--engagements", "150"]
NAMED = {"GB", "FR", "DE", "NO", "AE", "IN", "JP", "KE", "BR"}


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(*args) -> str:
    # pytest-django runs with DEBUG off, where seed_demo wants --allow-production (tested below).
    out = io.StringIO()
    call_command("seed_demo", *args, "--allow-production", stdout=out)
    return out.getvalue()


def test_refuses_a_production_database_unless_told(settings):
    from django.core.management import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off: this looks like a production database"):
        call_command("seed_demo", "--countries", "2", "--engagements", "5", stdout=io.StringIO())
    assert not Partnership.objects.exists()


def model_counts() -> dict:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def snapshot() -> dict:
    """What the demo looks like, without database ids or creation times."""
    return {
        "cells": sorted(
            CountryTrack.objects.values_list("country__iso2", "track__key", "stage__key", "stage_changed_at", "resume_on")
        ),
        "changes": sorted(
            StageChange.objects.values_list(
                "country_track__country__iso2",
                "country_track__track__key",
                "changed_at",
                "from_stage__key",
                "to_stage__key",
                "note",
            ),
            key=repr,
        ),
        "engagements": sorted(
            (
                e.country.iso2,
                e.occurred_on,
                e.kind,
                e.summary,
                e.outcome,
                e.sensitivity,
                e.logged_by.username,
                tuple(sorted(t.key for t in e.tracks.all())),
                tuple(sorted(c.name for c in e.counterparts.all())),
            )
            for e in Engagement.objects.select_related("country", "logged_by").prefetch_related("tracks", "counterparts")
        ),
        "follow_ups": sorted(
            FollowUp.objects.values_list("country__iso2", "description", "due_on", "done_at", "owner__username", "track__key"),
            key=repr,
        ),
        "counterparts": sorted(Counterpart.objects.values_list("country__iso2", "name", "title", "active_from", "active_to")),
        "agreements": sorted(
            Agreement.objects.values_list("country__iso2", "title", "kind", "signed_on", "expires_on"), key=repr
        ),
        "announcements": sorted(Announcement.objects.values_list("title", "status", "published_at", "embargo_until"), key=repr),
        "facilities": sorted(Facility.objects.values_list("country__iso2", "name", "status", "latitude", "longitude"), key=repr),
        "phases": sorted(CapacityPhase.objects.values_list("facility__name", "online_on", "state", "power_mw"), key=repr),
        "liaisons": sorted(LiaisonAssignment.objects.values_list("user__username", "country__iso2")),
    }


def test_small_run_builds_a_believable_programme():
    cache.set("portal:demo-dataset", False, 60)
    out = seed(*SMALL)
    today = timezone.localdate()
    now = timezone.now()

    # users, roles and password
    User = get_user_model()
    admin = User.objects.get(username="demo-admin")
    assert admin.is_superuser and admin.is_staff
    staff = User.objects.get(username="demo-staff")
    assert staff.is_staff and roles.is_programme_staff(staff) and not staff.is_superuser
    assert roles.is_liaison(User.objects.get(username="demo-liaison"))
    viewer = User.objects.get(username="demo-viewer")
    assert roles.can_read(viewer) and not roles.is_liaison(viewer) and not roles.is_programme_staff(viewer)
    for username, *_rest in DEMO_USERS:
        assert authenticate(username=username, password="demo-password") is not None, username
    assert "demo-password" in out

    # countries and liaisons
    codes = set(Partnership.objects.values_list("country__iso2", flat=True))
    assert len(codes) == 12 and codes >= NAMED
    main = set(LiaisonAssignment.objects.filter(user__username="demo-liaison").values_list("country__iso2", flat=True))
    assert {"GB", "FR", "NO"} <= main and 6 <= len(main) <= 7
    liaised = set(LiaisonAssignment.objects.values_list("country__iso2", flat=True))
    assert codes <= liaised
    assert all(roles.is_liaison(a.user) for a in LiaisonAssignment.objects.select_related("user"))
    assert CountryTrack.objects.count() == 12 * 4

    # engagements, all in the past, some confidential, touching tracks, with counterparts
    assert Engagement.objects.count() == 150
    assert not Engagement.objects.filter(occurred_on__gt=today).exists()
    assert Engagement.objects.filter(sensitivity=Engagement.Sensitivity.CONFIDENTIAL).exists()
    assert len(set(Engagement.objects.values_list("kind", flat=True))) >= 4
    assert Engagement.tracks.through.objects.exists() and Engagement.counterparts.through.objects.exists()
    # each link to a track carries its engagement's country and date (what the pipeline as of a past day reads)
    links = EngagementTrack.objects.all()
    assert not links.exclude(country_id=F("engagement__country_id")).exists()
    assert not links.exclude(occurred_on=F("engagement__occurred_on")).exists()

    # follow-ups: overdue and done ones, owned by liaisons
    overdue = FollowUp.objects.filter(done_at__isnull=True, due_on__lt=today)
    assert overdue.exists()
    assert FollowUp.objects.filter(done_at__isnull=False).exists()
    assert not FollowUp.objects.filter(done_at__gt=now).exists()
    assert set(FollowUp.objects.values_list("owner__groups__name", flat=True)) == {roles.LIAISON}

    # paused tracks: reason and a resume date in the future
    paused = CountryTrack.objects.filter(stage__kind=Stage.Kind.PAUSED)
    assert paused.exists()
    assert all(ct.pause_reason and ct.resume_on and ct.resume_on > today for ct in paused)

    # counterparts who left, agreements coming up for renewal
    assert Counterpart.objects.filter(active_to__lt=today).exists()
    assert Agreement.objects.filter(expires_on__gte=today, expires_on__lte=today + datetime.timedelta(days=90)).exists()
    assert not Agreement.objects.filter(signed_on__gt=today).exists()

    # announcements: published in the past, embargoed until the future, drafts
    assert Announcement.objects.filter(status=Announcement.Status.SCHEDULED, embargo_until__gt=now).exists()
    assert not Announcement.objects.filter(status=Announcement.Status.SCHEDULED, embargo_until__lte=now).exists()
    published = Announcement.objects.filter(status=Announcement.Status.PUBLISHED)
    assert published.exists() and not published.filter(published_at__gt=now).exists()
    assert Announcement.objects.filter(status=Announcement.Status.DRAFT).exists()

    # infrastructure with plausible coordinates, capacity and partners
    assert Facility.objects.exists()
    located = Facility.objects.filter(latitude__isnull=False)
    assert located.exists() and all(-90 <= f.latitude <= 90 and -180 <= f.longitude <= 180 for f in located)
    assert CapacityPhase.objects.filter(power_mw__gt=0, h100_equivalents__gt=0).exists()
    assert Facility.partners.through.objects.exists()

    # the rollup ran; the banner marker is there and its cache entry was cleared
    assert CountryStatus.objects.count() == 12
    assert set(CountryStatus.objects.values_list("country__iso2", flat=True)) == codes
    assert not CountryTrack.objects.filter(health_computed_at__isnull=True).exists()
    dataset = DemoDataset.objects.get()
    assert (dataset.seed, dataset.countries, dataset.engagements) == (2026, 12, 150)
    assert cache.get("portal:demo-dataset") is None


def test_running_twice_does_not_duplicate_and_updates_the_password():
    seed(*SMALL)
    before = model_counts()
    out = seed(*SMALL, "--password", "another-password")
    assert "already present" in out
    assert model_counts() == before
    assert authenticate(username="demo-liaison", password="another-password") is not None
    assert authenticate(username="demo-liaison", password="demo-password") is None


def test_same_seed_gives_the_same_data():
    seed(*SMALL, "--seed", "7")
    first = snapshot()
    seed(*SMALL, "--seed", "7", "--reset")
    assert snapshot() == first
    seed(*SMALL, "--seed", "8", "--reset")
    assert snapshot()["engagements"] != first["engagements"]


def test_stage_history_is_consistent_with_the_current_stage():
    seed(*SMALL)
    now = timezone.now()
    earliest = now - datetime.timedelta(days=731)
    cells = CountryTrack.objects.select_related("stage", "ladder_stage")
    assert cells.exclude(stage__key="not_started").exists()
    for ct in cells:
        changes = list(ct.stage_changes.select_related("from_stage", "to_stage").order_by("changed_at", "id"))
        assert changes[0].from_stage is None and changes[0].to_stage.key == "not_started"
        for previous, change in zip(changes, changes[1:], strict=False):
            assert change.from_stage_id == previous.to_stage_id, ct
            assert change.changed_at > previous.changed_at, ct
            if (
                change.from_stage.kind == Stage.Kind.LADDER
                and change.to_stage.kind == Stage.Kind.LADDER
                and change.to_stage.position < change.from_stage.position
            ):
                assert change.note, "moving back down the ladder needs a note"
            if change.from_stage.kind == Stage.Kind.PAUSED:
                assert change.to_stage_id == previous.from_stage_id, "a resumed track returns to the rung it had reached"
        newest = ct.stage_changes.order_by("-changed_at", "-id").first()
        assert newest.to_stage_id == ct.stage_id
        assert newest.changed_at == ct.stage_changed_at
        last_rung = next(c.to_stage for c in reversed(changes) if c.to_stage.kind == Stage.Kind.LADDER)
        assert ct.ladder_stage_id == last_rung.pk
        assert all(earliest <= c.changed_at <= now for c in changes)
        assert all(c.to_stage.track_id == ct.track_id for c in changes)
        if ct.stage.kind == Stage.Kind.WITHDRAWN:
            assert ct.pause_reason


def test_if_empty_only_seeds_an_empty_database():
    out = seed(*SMALL, "--if-empty")
    assert Partnership.objects.count() == 12
    before = model_counts()
    out = seed("--countries", "5", "--if-empty", "--password", "ignored-password")
    assert "nothing to do" in out
    assert model_counts() == before
    assert authenticate(username="demo-viewer", password="demo-password") is not None


def test_reset_rebuilds():
    seed(*SMALL)
    old_ids = set(Engagement.objects.values_list("pk", flat=True))
    out = seed("--countries", "10", "--engagements", "40", "--reset")
    assert "reset: deleted" in out
    assert Partnership.objects.count() == 10
    assert CountryStatus.objects.count() == 10
    assert Engagement.objects.count() == 40
    assert not old_ids & set(Engagement.objects.values_list("pk", flat=True))
    assert DemoDataset.objects.get().countries == 10
    assert LiaisonAssignment.objects.count() == 10


def test_country_count_is_capped_and_every_country_gets_a_liaison():
    out = seed("--countries", "250", "--engagements", "20")
    assert "using 249" in out
    assert Partnership.objects.count() == 249
    assert LiaisonAssignment.objects.values("country").distinct().count() == 249
    assert Engagement.objects.count() == 20


def test_conflicting_options_are_refused():
    with pytest.raises(CommandError):
        seed("--reset", "--if-empty")


def test_the_planner_statistics_are_fresh_after_the_bulk_load():
    from django.db import connection

    from tests.conftest import needs_postgresql

    needs_postgresql()
    out = seed(*SMALL)
    assert "ANALYZE" in out
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'partnerships_engagement'")
        (estimate,) = cursor.fetchone()
    # Without ANALYZE a new table says -1 (never counted) and the planner guesses; after it, the rows there are.
    assert estimate == Engagement.objects.count() == 150


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("reference_data")
def test_a_reset_on_postgresql_leaves_no_deleted_rows_in_the_tables():
    """After a reset, the tables hold the new programme only: a table still holding the deleted rows' pages made every
    count and scan read through them (outside a transaction, as the command runs). At this size a plain VACUUM would
    pass too (it cuts the empty pages off the file's end); at 1,000,000 rows only VACUUM FULL gave the file back
    (docs/benchmarks.md). Transactional, so the command runs outside an atomic block as it does from a shell; the
    reference data an earlier transactional test's flush removed is put back first (as tests/core/test_backup.py
    does: a serialized rollback right after that module's flush meets content types made again under new ids)."""
    from django.db import connection

    from tests.conftest import needs_postgresql

    needs_postgresql()

    def engagement_table_bytes():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_relation_size('partnerships_engagement')")
            return cursor.fetchone()[0]

    # A reset to begin with: the table's file may still hold the rows earlier tests rolled back.
    seed("--countries", "10", "--engagements", "40", "--reset")
    small = engagement_table_bytes()
    seed("--countries", "10", "--engagements", "3000", "--reset")
    assert engagement_table_bytes() > 4 * small
    out = seed("--countries", "10", "--engagements", "40", "--reset")
    assert "VACUUM FULL ANALYZE" in out
    assert engagement_table_bytes() <= small
