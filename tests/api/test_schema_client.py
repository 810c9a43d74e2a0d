"""The OpenAPI schema at /api/v1/schema/ is valid OpenAPI 3, covers every route, and a client generated from it works.

The client is generated with openapi-python-client (no post-generation hooks: no ruff, no network) into a
temporary directory, imported, and used against a live server with an API token to read /api/v1/status/.
"""

import importlib
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from tests import factories

PROGRAMME = ("GB", "FR", "KE")
PACKAGE = "portal_api_client"
# Routes of the API that are not operations of it: the browsable root, the schema and its two viewers, and the
# catch-all that answers unknown addresses with a JSON 404.
NOT_OPERATIONS = {
    "/api/v1/",
    "/api/v1/schema/",
    "/api/v1/docs/",
    "/api/v1/redoc/",
    "/api/v1/redoc/bundles/redoc.standalone.js",
    "/api/v1/.*",
}
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def load_yaml(text):
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml: 10x faster on this document


def served_schema(query: str = "format=json") -> bytes:
    response = Client().get(f"/api/v1/schema/?{query}")
    assert response.status_code == 200, response.content[:300]
    return response.content


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads(served_schema())


# --- (a) a valid OpenAPI 3 document that covers the router -------------------------------------


def empty_compositions(node, where="#") -> list[str]:
    """JSON pointers of every ``oneOf``/``anyOf``/``allOf`` that lists no schema (OpenAPI 3.0 wants at least one)."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("oneOf", "anyOf", "allOf") and value == []:
                found.append(f"{where}/{key}")
            found += empty_compositions(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += empty_compositions(value, f"{where}/{index}")
    return found


def test_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    # `manage.py spectacular --validate` does not check minItems; openapi-spec-validator does. An empty oneOf was
    # served once (the 400 of GET /api/v1/tracks/, whose only filter had no error code): say where, if it comes back.
    assert empty_compositions(schema) == []
    validate(schema)  # openapi-spec-validator: raises on the first error


def test_yaml_and_json_renderings_are_the_same_document(schema):
    assert load_yaml(served_schema("format=yaml")) == schema
    assert load_yaml(served_schema("")) == schema  # the default (JSON) is YAML too


def _to_openapi_path(route: str) -> str:
    """``^countries/(?P<code>[A-Za-z]{2})/$`` or ``countries/<str:code>/status/`` -> ``countries/{code}/status/``."""
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)  # regex groups (the router's)
    route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)  # path converters
    # drf-spectacular names the router's {pk} after the model's primary key (SCHEMA_COERCE_PATH_PK).
    return route.replace("^", "").replace("$", "").replace("\\", "").replace("{pk}", "{id}")


def api_routes() -> dict[str, URLPattern]:
    """Every route under /api/v1/, as an OpenAPI path template."""

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), pattern

    routes = {}
    for route, pattern in walk(get_resolver().url_patterns, "/"):
        path = _to_openapi_path(route)
        if path.startswith("/api/v1/") and "{format}" not in path:  # the router's .json/.api suffix variants
            routes[path] = pattern
    return routes


def test_every_route_of_the_api_is_in_the_schema(schema):
    routes = set(api_routes()) - NOT_OPERATIONS
    assert len(routes) > 30, routes  # the walk found the router
    assert sorted(routes - set(schema["paths"])) == []
    assert sorted(set(schema["paths"]) - routes) == []


def test_every_resource_of_the_issue_is_routed(schema):
    resources = [
        "countries",
        "partnerships",
        "country-tracks",
        "stage-changes",
        "engagements",
        "follow-ups",
        "counterparts",
        "agreements",
        "announcements",
        "facilities",
        "organisations",
        "tracks",
    ]
    for resource in resources:
        assert f"/api/v1/{resource}/" in schema["paths"], resource
    for path in ("/api/v1/users/me/", "/api/v1/status/", "/api/v1/countries/{code}/status/", "/api/v1/countries/{code}/"):
        assert path in schema["paths"], path


@pytest.fixture
def staff_client(db):
    from core.services import api_token_create

    staff = factories.staff(username="schema-staff")
    _token, secret = api_token_create(actor=staff, user=staff, name="schema", days=1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def test_documented_methods_are_the_allowed_methods(schema, staff_client):
    """For every path, the methods in the schema are those the view answers (its Allow header)."""
    from partnerships.services import partnership_create

    partnership_create(actor=factories.staff(username="schema-owner"), country=factories.country("GB"))
    concrete = {"{id}": "1", "{code}": "gb", "{key}": "workforce"}
    mismatches = {}
    for path, item in schema["paths"].items():
        url = path
        for template, value in concrete.items():
            url = url.replace(template, value)
        response = staff_client.options(url)
        assert response.status_code == 200, (url, response.status_code)
        allowed = {m.strip().lower() for m in response["Allow"].split(",")} - {"head", "options"}
        documented = {m for m in item if m in HTTP_METHODS}
        if allowed != documented:
            mismatches[path] = {"allowed": sorted(allowed), "documented": sorted(documented)}
    assert mismatches == {}


# --- (b) a generated client reads /api/v1/status/ ----------------------------------------------


@pytest.fixture(scope="module")
def generated_client(tmp_path_factory):
    """The schema as served, through openapi-python-client, imported as ``portal_api_client``."""
    generator = shutil.which("openapi-python-client", path=str(Path(sys.executable).parent)) or shutil.which(
        "openapi-python-client"
    )
    if generator is None:
        pytest.fail("openapi-python-client is not installed: pip install -r requirements-dev.txt")
    workdir = tmp_path_factory.mktemp("client")
    (workdir / "schema.json").write_bytes(served_schema())
    # No post-generation hooks: the default runs ruff over the result, which is not needed to import it.
    (workdir / "config.json").write_text(json.dumps({"package_name_override": PACKAGE, "post_hooks": []}))
    started = time.monotonic()
    result = subprocess.run(
        [generator, "generate", "--path", "schema.json", "--config", "config.json", "--meta", "none"]
        + ["--output-path", str(workdir / PACKAGE), "--fail-on-warning"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert elapsed < 60, f"openapi-python-client took {elapsed:.0f} s"
    sys.path.insert(0, str(workdir))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(workdir))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def migration_data_put_back(django_db_blocker):
    """The live-server tests are transactional: pytest-django empties every table after each one, the rows of the
    data migrations (countries, tracks, stages, role groups) included. pytest-django runs the transactional tests of
    other modules after these, and they expect those rows: put them back once this module's tests are done.
    (``serialized_rollback=True`` makes pytest-django serialize them when it creates the test database.)"""
    yield
    with django_db_blocker.unblock():
        connection.creation.deserialize_db_from_string(connection._test_serialized_contents)


LIVE = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def live_programme(migration_data_put_back, live_server):
    """Three countries in the programme, built through the services, and a viewer's API token."""
    from core.services import api_token_create
    from partnerships.rollup import rollup_countries
    from partnerships.services import partnership_create

    staff = factories.staff(username="client-staff")
    for code in PROGRAMME:
        partnership_create(actor=staff, country=factories.country(code))
    rollup_countries()
    viewer = factories.viewer(username="client-dashboard")
    _token, secret = api_token_create(actor=viewer, user=viewer, name="generated client", days=1)
    return secret


@LIVE
def test_generated_client_reads_the_bulk_status(generated_client, live_server, live_programme):
    from portal_api_client import AuthenticatedClient
    from portal_api_client.api.status import status_list
    from portal_api_client.models import CountryStatus, StatusList

    with AuthenticatedClient(base_url=live_server.url, token=live_programme, prefix="Token") as client:
        response = status_list.sync_detailed(client=client)
        assert response.status_code == 200, response.content[:300]
        status = response.parsed
        assert isinstance(status, StatusList)
        assert status.count == len(PROGRAMME)
        assert sorted(row.country for row in status.results) == sorted(PROGRAMME)
        assert all(isinstance(row, CountryStatus) for row in status.results)
        gb = next(row for row in status.results if row.country == "GB")
        assert gb.name_en.startswith("United Kingdom")
        assert {track.track for track in gb.tracks} >= {"workforce", "data_centres"}
        assert gb.computed_at is not None and gb.computed_at.tzinfo is not None

        # The ETag round trip through the generated client: 304 and nothing to parse.
        again = status_list.sync_detailed(client=client, if_none_match=response.headers["ETag"])
        assert again.status_code == 304 and again.parsed is None


@LIVE
def test_generated_client_reads_one_country_and_the_errors(generated_client, live_server, live_programme):
    from portal_api_client import AuthenticatedClient, Client
    from portal_api_client.api.countries import countries_status_retrieve
    from portal_api_client.api.status import status_list
    from portal_api_client.models import CountryStatus, ErrorResponse401, ErrorResponse404

    with AuthenticatedClient(base_url=live_server.url, token=live_programme, prefix="Token") as client:
        gb = countries_status_retrieve.sync(client=client, code="gb")
        assert isinstance(gb, CountryStatus) and gb.country == "GB"
        missing = countries_status_retrieve.sync(client=client, code="us")
        assert isinstance(missing, ErrorResponse404)
        assert "not in the programme" in missing.errors[0].detail
    with Client(base_url=live_server.url) as anonymous:
        assert isinstance(status_list.sync(client=anonymous), ErrorResponse401)
