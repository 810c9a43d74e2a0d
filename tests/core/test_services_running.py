"""The real PostgreSQL and Redis of the full stack. On a laptop without them these skip, saying why;
in CI (PORTAL_REQUIRE_SERVICES=1) a missing service fails the run."""

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import needs


@pytest.mark.django_db
def test_database_is_postgresql_in_ci():
    needs(
        connection.vendor == "postgresql",
        "DATABASE_URL does not point at PostgreSQL; the suite runs on the embedded SQLite default",
    )
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    assert int(version.split(".")[0]) >= 14


def test_celery_broker_is_the_real_redis():
    needs(bool(settings.REDIS_URL), "REDIS_URL is not set; Celery tasks run in-process")
    import redis

    from config.celery import app

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
    assert client.ping() is True
    assert app.conf.broker_url == settings.REDIS_URL
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1)
        assert conn.transport.driver_type == "redis"
