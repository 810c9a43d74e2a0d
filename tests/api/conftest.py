"""Fixtures of the API tests: token-authenticated clients per role and a small programme to read and write.

The clients carry real knox tokens (hashed in the database, checked on every request), so the tests
go through the same authentication as a partner system does.
"""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import models, transaction
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from announcements import services as announcement_services
from core.services import api_token_create
from countries import services as country_services
from engagements import services as engagement_services
from infrastructure import services as infra_services
from partnerships import services
from partnerships.rollup import rollup_countries
from tests import factories


def token_client(user, name: str = "api tests") -> APIClient:
    """An APIClient that sends ``Authorization: Token …`` for a fresh token of ``user``."""
    _token, secret = api_token_create(actor=user, user=user, name=name, days=30)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    client.user = user
    return client


@pytest.fixture
def norole_user(db):
    return factories.make_user(username="no-role")


@pytest.fixture
def staff_api(staff_user):
    return token_client(staff_user, "staff sync")


@pytest.fixture
def gb_api(gb_liaison):
    return token_client(gb_liaison, "gb ministry sync")


@pytest.fixture
def fr_api(fr_liaison):
    return token_client(fr_liaison, "fr ministry sync")


@pytest.fixture
def viewer_api(viewer_user):
    return token_client(viewer_user, "dashboard")


@pytest.fixture
def norole_api(norole_user):
    return token_client(norole_user, "no role")


@pytest.fixture
def anon_api(db):
    return APIClient()


@pytest.fixture
def today():
    return timezone.localdate()


def _move(actor, ct, *keys):
    for key in keys:
        services.country_track_move(actor=actor, country_track=ct, to_stage=factories.stage(ct.track.key, key))


def build_programme(*, staff_user, gb_liaison, fr_liaison, today):
    """Three partnerships (GB, FR, KE) with engagements, follow-ups, counterparts, an agreement,
    announcements in every state that matters, a facility with capacity and a partner, then the rollup.
    Everything goes through the services, as staff and the two liaisons.

    Resulting status (what the status tests expect):
    - GB: workforce at negotiating with an overdue follow-up (at risk), public services exploring (on track);
      furthest stage negotiating, readiness 15.0; one normal and one confidential engagement (the figures
      count only the normal one and its follow-ups); 50 MW planned and 10 MW operational.
    - FR: workforce exploring (on track); furthest exploring, readiness 5.0.
    - KE: public services paused after exploring; furthest exploring, worst health paused, readiness 5.0.
    """
    gb, fr, ke = (factories.country(code) for code in ("GB", "FR", "KE"))
    workforce, public_services = factories.track("workforce"), factories.track("public_services")
    p = SimpleNamespace(gb=gb, fr=fr, ke=ke, workforce=workforce, public_services=public_services, today=today)
    p.partnerships = {
        c.iso2: services.partnership_create(actor=staff_user, country=c, started_on=today - datetime.timedelta(days=100))
        for c in (gb, fr, ke)
    }

    def ct(country, track):
        return country.country_tracks.select_related("track", "stage", "country").get(track=track)

    p.gb_workforce, p.gb_public, p.gb_safety = (
        ct(gb, workforce),
        ct(gb, public_services),
        ct(gb, factories.track("safety_standards")),
    )
    p.fr_workforce, p.ke_public = ct(fr, workforce), ct(ke, public_services)
    _move(staff_user, p.gb_workforce, "exploring", "negotiating")
    _move(staff_user, p.gb_public, "exploring")
    _move(staff_user, p.fr_workforce, "exploring")
    _move(staff_user, p.ke_public, "exploring")
    services.country_track_pause(
        actor=staff_user, country_track=p.ke_public, reason="Elections", resume_on=today + datetime.timedelta(days=90)
    )

    p.gb_counterpart = country_services.counterpart_create(
        actor=gb_liaison, country=gb, name="Ada Minister", title="Minister for AI", organisation="DSIT"
    )
    p.fr_counterpart = country_services.counterpart_create(actor=fr_liaison, country=fr, name="Jean Directeur")

    p.gb_engagement = engagement_services.engagement_log(
        actor=gb_liaison,
        country=gb,
        occurred_on=today - datetime.timedelta(days=5),
        kind="meeting",
        summary="Kick-off on skills",
        tracks=[workforce],
        counterparts=[p.gb_counterpart],
        follow_ups=[
            {"description": "Send the curriculum", "due_on": today - datetime.timedelta(days=1), "track": workforce},
        ],
    )
    p.gb_confidential = engagement_services.engagement_log(
        actor=gb_liaison,
        country=gb,
        occurred_on=today - datetime.timedelta(days=2),
        kind="call",
        summary="Budget figures, not for circulation",
        sensitivity="confidential",
        follow_ups=[{"description": "Check the budget line", "due_on": today + datetime.timedelta(days=14)}],
    )
    p.fr_engagement = engagement_services.engagement_log(
        actor=fr_liaison, country=fr, occurred_on=today - datetime.timedelta(days=3), kind="call", summary="Appel"
    )
    p.gb_overdue = p.gb_engagement.follow_ups.get()
    p.gb_confidential_follow_up = p.gb_confidential.follow_ups.get()
    p.gb_open = engagement_services.follow_up_create(
        actor=gb_liaison, country=gb, description="Book the workshop room", due_on=today + datetime.timedelta(days=7)
    )
    p.gb_done = engagement_services.follow_up_create(
        actor=gb_liaison, country=gb, description="Share the slides", due_on=today + datetime.timedelta(days=2)
    )
    engagement_services.follow_up_complete(actor=gb_liaison, follow_up=p.gb_done)

    p.gb_agreement = engagement_services.agreement_create(
        actor=staff_user,
        country=gb,
        kind="mou",
        title="MoU on AI skills",
        signed_on=today - datetime.timedelta(days=10),
        tracks=[workforce],
    )

    p.draft = announcement_services.announcement_create(actor=staff_user, title="Draft: GB skills", countries=[gb])
    p.scheduled = announcement_services.announcement_create(actor=staff_user, title="Embargoed: GB compute", countries=[gb])
    announcement_services.announcement_schedule(
        actor=staff_user, announcement=p.scheduled, embargo_until=timezone.now() + datetime.timedelta(days=7)
    )
    p.published = announcement_services.announcement_create(actor=staff_user, title="GB and FR join", countries=[gb, fr])
    announcement_services.announcement_publish(actor=staff_user, announcement=p.published)
    for name in ("draft", "scheduled", "published"):
        getattr(p, name).refresh_from_db()

    p.organisation = infra_services.organisation_create(actor=staff_user, name="Northern Compute Ltd", kind="company")
    p.facility = infra_services.facility_create(actor=staff_user, country=gb, name="Edinburgh AI Campus", city="Edinburgh")
    p.phase = infra_services.capacity_phase_add(
        actor=staff_user,
        facility=p.facility,
        name="Phase 1",
        online_on=today + datetime.timedelta(days=365),
        power_mw=Decimal(50),
    )
    infra_services.capacity_phase_add(
        actor=staff_user,
        facility=p.facility,
        name="Pilot",
        online_on=today - datetime.timedelta(days=30),
        state="actual",
        power_mw=Decimal(10),
    )
    infra_services.facility_partner_add(actor=staff_user, facility=p.facility, organisation=p.organisation, role="builder")

    rollup_countries()
    return p


@pytest.fixture(scope="module")
def _programme_rows(django_db_setup, django_db_blocker):
    """The programme, built once per test module inside an outer transaction that is rolled back at its end.

    Each test still runs in its own savepoint (pytest-django's ``db``), so what a test writes is undone
    after it; building the programme once instead of per test keeps the API tests fast.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
                users = {
                    "staff_user": factories.staff(username="staff"),
                    "gb_liaison": factories.liaison("GB", username="gb-liaison"),
                    "fr_liaison": factories.liaison("FR", username="fr-liaison"),
                }
                rows = build_programme(**users, today=timezone.localdate())
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield rows
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


def _fresh(value):
    if isinstance(value, models.Model):
        return type(value).objects.get(pk=value.pk)
    if isinstance(value, dict):
        return {k: _fresh(v) for k, v in value.items()}
    return value


@pytest.fixture
def programme(db, _programme_rows, staff_user, gb_liaison, fr_liaison):
    """The programme of ``build_programme`` with every object read afresh for this test."""
    return SimpleNamespace(**{name: _fresh(value) for name, value in vars(_programme_rows).items()})


@pytest.fixture
def low_rate_limits(settings):
    """Rate limits of 3 calls a minute per token and 2 per anonymous address, for the tests of the throttles."""
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    original = SimpleRateThrottle.THROTTLE_RATES
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"token": "3/min", "anon": "2/min"}}
    SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    yield
    SimpleRateThrottle.THROTTLE_RATES = original
