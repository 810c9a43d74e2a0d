"""Fault: PostgreSQL drops a persistent connection between two requests (a failover, a restart, an idle timeout).

With ``CONN_MAX_AGE`` > 0 a web process keeps its connection from one request to the next. Here the server ends
that connection's backend (``pg_terminate_backend`` from a second connection) between two requests; with
``CONN_HEALTH_CHECKS`` (set in config/settings.py) the next request notices the dead connection before using it,
opens a new one and succeeds. Without health checks (the control case) that request fails with a 500.

The requests go through Django's WSGI handler, as gunicorn calls it: the test client would not do here, because
it deliberately skips the connection housekeeping (``close_old_connections``) that runs around every real request.
"""

import io
import logging
from wsgiref.util import setup_testing_defaults

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection

from core.services import api_token_create
from partnerships.services import partnership_create
from tests import factories
from tests.conftest import needs

from .conftest import report, wait_for

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("reference_data")]


def _get(handler, path: str, token: str) -> int:
    environ = {}
    setup_testing_defaults(environ)
    environ.update(
        {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "wsgi.input": io.BytesIO()},
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    answered = {}

    def start_response(status, headers, exc_info=None):
        answered["status"] = int(status.split()[0])

    result = handler(environ, start_response)
    b"".join(result)
    result.close()  # the end of the request, as a WSGI server signals it: Django's request_finished
    return answered["status"]


def _admin():
    """A second connection to the test database, as the same role (which may end its own role's backends)."""
    import psycopg2

    admin = psycopg2.connect(**connection.get_connection_params())
    admin.autocommit = True  # pg_stat_activity is a snapshot per transaction: see each query afresh
    return admin


def _terminate(admin, pid: int) -> bool:
    with admin.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        terminated = cursor.fetchone()[0]

    def gone():
        with admin.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
            return cursor.fetchone()[0] == 0

    return terminated and wait_for(gone, timeout=10, interval=0.05)


@pytest.fixture
def persistent_connections():
    """``CONN_MAX_AGE`` = 60 s for the test's connection (the one the WSGI handler uses, in this thread)."""
    needs(connection.vendor == "postgresql", "DATABASE_URL is not PostgreSQL: this fault ends a PostgreSQL backend")
    saved = {key: connection.settings_dict[key] for key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS")}
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = 60
    yield connection.settings_dict
    connection.close()
    connection.settings_dict.update(saved)


@pytest.mark.parametrize("health_checks", [True, False], ids=["health checks on (settings)", "health checks off (control)"])
def test_the_next_request_succeeds_after_the_server_ended_the_connection(persistent_connections, health_checks, monkeypatch):
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True  # what production runs with
    persistent_connections["CONN_HEALTH_CHECKS"] = health_checks
    staff = factories.staff(username="staff")
    partnership_create(actor=staff, country=factories.country("GB"))
    _token, token = api_token_create(actor=staff, user=staff, name="failover", days=1)
    connection.close()  # the requests open the connection with the settings above
    handler = WSGIHandler()
    path = "/api/v1/countries/gb/"

    first = _get(handler, path, token)
    assert connection.connection is not None, "the connection did not persist after the request (CONN_MAX_AGE)"
    pid_before = connection.connection.get_backend_pid()
    assert _get(handler, path, token) == 200
    assert connection.connection.get_backend_pid() == pid_before  # one persistent connection, reused

    admin = _admin()
    # The control case's 500 is expected: keep its traceback out of the output.
    monkeypatch.setattr(logging.getLogger("django.request"), "disabled", not health_checks)
    try:
        terminated = _terminate(admin, pid_before)  # the fault
        second = _get(handler, path, token)
        pid_after = connection.connection.get_backend_pid() if connection.connection is not None else None
        third = _get(handler, path, token)
    finally:
        admin.close()

    figures = {
        "conn_max_age": persistent_connections["CONN_MAX_AGE"],
        "health_checks": health_checks,
        "backend_terminated": terminated,
        "pid_before": pid_before,
        "pid_after": pid_after,
        "statuses(before,after,next)": (first, second, third),
    }
    line = report("PostgreSQL backend terminated between two requests", figures)
    assert terminated and first == 200, line
    if health_checks:
        assert (second, third) == (200, 200), line
        assert pid_after not in (None, pid_before), line  # a new connection, opened by the health check
    else:
        # The fault is real: without the health check the first request after it fails; Django drops the broken
        # connection at the end of that request, so the one after recovers.
        assert (second, third) == (500, 200), line
