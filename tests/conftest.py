import os

import pytest
from django.db import connection

from tests import factories

# In CI (.ci/run sets PORTAL_REQUIRE_SERVICES=1) a missing PostgreSQL/Redis is a failure, not a skip.
REQUIRE_SERVICES = os.environ.get("PORTAL_REQUIRE_SERVICES") == "1"


def needs(condition: bool, reason: str) -> None:
    """Skip, saying why, when a service or tool the test needs is missing; in CI (PORTAL_REQUIRE_SERVICES=1) fail."""
    if condition:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"CI requires this: {reason}")
    pytest.skip(reason)


def needs_postgresql() -> None:
    """Row locks and concurrent transactions are real only on PostgreSQL."""
    needs(connection.vendor == "postgresql", "row locks are real only on PostgreSQL; SQLite serialises whole-database writes")


def pytest_report_header(config):
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    broker = settings.CELERY_BROKER_URL.split("@")[-1]
    return [f"portal: database engine = {engine}, celery broker = {broker}, eager tasks = {settings.CELERY_TASK_ALWAYS_EAGER}"]


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    """Logic tests run tasks in-process; tests of the real worker opt out explicitly."""
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The factories set a password per user; the real hasher costs ~0.2 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _broker_reachable_again():
    # A test that simulates a broker outage must not leave the "broker seems down" pause to the next one.
    from core import broker

    broker.reset()
    yield
    broker.reset()


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """A request in French leaves French active in the thread; the next test starts in English again."""
    yield
    from django.utils import translation

    translation.activate("en")


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture
def staff_user(db):
    return factories.staff(username="staff")


@pytest.fixture
def gb_liaison(db):
    return factories.liaison("GB", username="gb-liaison")


@pytest.fixture
def fr_liaison(db):
    return factories.liaison("FR", username="fr-liaison")


@pytest.fixture
def viewer_user(db):
    return factories.viewer(username="viewer")


@pytest.fixture
def gb(db):
    return factories.country("GB")


@pytest.fixture
def gb_partnership(db, staff_user, gb):
    from partnerships.services import partnership_create

    return partnership_create(actor=staff_user, country=gb, started_on=None)


def restore_reference_data() -> None:
    """Put back the rows the data migrations create (countries, tracks and stages, role groups), each set only if it
    is gone (a serialized rollback after an earlier transactional test may bring back some and not others)."""
    import importlib

    from django.apps import apps
    from django.apps import apps as django_apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.management import create_contenttypes

    from core import roles
    from core.permissions import sync_role_permissions
    from countries.models import Country
    from tracks.models import Stage, Track

    if not Permission.objects.exists():  # what post_migrate makes: content types, then the models' permissions
        for app_config in django_apps.get_app_configs():
            create_contenttypes(app_config, verbosity=0)
            create_permissions(app_config, verbosity=0)
    if not Group.objects.filter(name=roles.STAFF).exists():
        importlib.import_module("core.migrations.0002_create_role_groups").create_groups(apps, None)
    if not Country.objects.exists():
        importlib.import_module("countries.migrations.0002_load_iso3166").load_countries(apps, None)
        importlib.import_module("countries.migrations.0006_fill_country_sort_keys").fill(apps, None)
    if not Track.objects.exists():
        importlib.import_module("partnerships.migrations.0002_seed_tracks_and_stages").seed_models(Track, Stage)
    sync_role_permissions()


@pytest.fixture
def reference_data(transactional_db):
    """For transactional tests (live server, real worker): the flush after an earlier transactional test empties
    every table, the data migrations' rows included; put them back if they are gone."""
    from django.contrib.auth.models import Group

    from core import roles
    from countries.models import Country
    from tracks.models import Track

    if not (Country.objects.exists() and Track.objects.exists() and Group.objects.filter(name=roles.STAFF).exists()):
        restore_reference_data()
