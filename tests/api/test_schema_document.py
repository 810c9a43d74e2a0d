"""The OpenAPI document: committed (docs/openapi.json), served as that file, and one clients can lean on.

- the committed file is what the code generates (``make schema`` writes it): an API change is always a diff;
- /api/v1/schema/ serves the file's bytes with its SHA-256 as a strong ETag, 304 on If-None-Match, gzip made once;
- every operation has a summary, a declared tag and a description for each answer; ``servers`` is relative; no
  component is unused; the status filters are documented;
- Redocly CLI's recommended rules (redocly.yaml) find no error and no warning (skipped without node_modules,
  a failure in CI).
"""

import gzip
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from core.api.schema_hooks import _references
from tests.conftest import needs

COMMITTED = Path(settings.BASE_DIR) / "docs" / "openapi.json"
REDOCLY = Path(settings.BASE_DIR) / "node_modules" / ".bin" / "redocly"
METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")


@pytest.fixture(scope="module")
def document() -> dict:
    return json.loads(COMMITTED.read_bytes())


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def test_committed_document_is_what_the_code_generates(tmp_path):
    generated = tmp_path / "openapi.json"
    # The very command `make schema` runs: no warning, valid OpenAPI, the same bytes.
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", str(generated))
    assert generated.read_bytes() == COMMITTED.read_bytes(), (
        "docs/openapi.json is not what the code generates: run `make schema` and commit docs/openapi.json"
    )


def test_the_served_document_is_the_committed_file():
    body = COMMITTED.read_bytes()
    tag = f'"{hashlib.sha256(body).hexdigest()}"'
    response = Client().get("/api/v1/schema/")
    assert response.status_code == 200
    assert response.content == body
    assert response["Content-Type"] == "application/vnd.oai.openapi+json"
    assert response["ETag"] == tag
    assert response["Cache-Control"] == "public, no-cache"
    assert Client().get("/api/v1/schema/?format=json").content == body

    revalidated = Client().get("/api/v1/schema/", headers={"If-None-Match": tag})
    assert revalidated.status_code == 304
    assert revalidated.content == b""
    assert revalidated["ETag"] == tag
    assert Client().get("/api/v1/schema/", headers={"If-None-Match": '"another"'}).status_code == 200


def test_a_client_that_accepts_gzip_gets_it_made_once_under_a_strong_tag():
    body = COMMITTED.read_bytes()
    tag = f'"{hashlib.sha256(body).hexdigest()}"'
    client = Client(headers={"Accept-Encoding": "gzip, deflate"})
    first, second = client.get("/api/v1/schema/"), client.get("/api/v1/schema/")
    assert first["Content-Encoding"] == "gzip"
    assert gzip.decompress(first.content) == body
    assert first.content == second.content  # the same bytes each time: the tag stays strong
    assert first["ETag"] == tag[:-1] + '-gzip"'
    assert "Accept-Encoding" in first["Vary"]
    revalidated = client.get("/api/v1/schema/", headers={"If-None-Match": first["ETag"]})
    assert revalidated.status_code == 304
    assert revalidated["ETag"] == first["ETag"]


def test_yaml_is_the_same_document(document):
    response = Client().get("/api/v1/schema/?format=yaml")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.oai.openapi"
    assert yaml.safe_load(response.content) == document
    by_accept = Client().get("/api/v1/schema/", headers={"Accept": "application/yaml"})
    assert by_accept.content == response.content
    assert by_accept["ETag"] == response["ETag"] != Client().get("/api/v1/schema/")["ETag"]


def test_a_deployment_without_the_document_fails_its_check(tmp_path, monkeypatch):
    from core import checks
    from core.api import openapi_document

    assert checks.openapi_document(None) == []
    monkeypatch.setattr(openapi_document, "DOCUMENT", tmp_path / "openapi.json")
    assert [error.id for error in checks.openapi_document(None)] == ["portal.E001"]


def test_only_reads_are_answered():
    assert Client().post("/api/v1/schema/").status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_the_docs_pages_read_the_served_document_and_name_their_language(page):
    html = Client().get(page).content.decode()
    assert "/api/v1/schema/" in html
    assert '<html lang="en">' in html


@pytest.mark.django_db
def test_redoc_is_served_without_its_cdn_logo():
    page = Client().get("/api/v1/redoc/").content.decode()
    assert '<script src="/api/v1/redoc/bundles/redoc.standalone.js">' in page
    script = Client().get("/api/v1/redoc/bundles/redoc.standalone.js")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("text/javascript")
    assert b"Redoc" in script.content and b"cdn.redoc.ly" not in script.content
    assert b"data:image/svg+xml" in script.content  # the logo's address was found and replaced
    assert Client().get(script.request["PATH_INFO"], headers={"If-None-Match": script["ETag"]}).status_code == 304


def test_servers_are_relative(document):
    assert [server["url"] for server in document["servers"]] == ["/"]


def test_every_operation_has_a_summary_a_declared_tag_and_described_answers(document):
    declared = {tag["name"]: tag.get("description") for tag in document["tags"]}
    assert all(declared.values()), declared
    missing = []
    for name, operation in operations(document):
        if not operation.get("summary"):
            missing.append(f"{name}: no summary")
        missing += [f"{name}: tag {tag} not declared" for tag in operation.get("tags", []) if tag not in declared]
        missing += [f"{name} {code}: no description" for code, r in operation["responses"].items() if not r.get("description")]
    assert missing == []
    used = {tag for _name, operation in operations(document) for tag in operation.get("tags", [])}
    assert set(declared) == used  # no tag declared for nothing


def test_no_component_is_unused(document):
    reachable = _references({key: value for key, value in document.items() if key != "components"}, set())
    pending = list(reachable)
    while pending:
        kind, name = pending.pop()
        for found in _references(document["components"][kind][name], set()) - reachable:
            reachable.add(found)
            pending.append(found)
    # Security schemes are named by the operations' `security`, not by $ref.
    for _name, operation in operations(document):
        reachable |= {("securitySchemes", scheme) for requirement in operation.get("security", []) for scheme in requirement}
    every = {(kind, name) for kind, section in document["components"].items() for name in section}
    assert sorted(every - reachable) == []


def _schema(document, ref):
    return document["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_a_write_answers_400_in_its_own_shape_or_by_a_rule_of_its_service(document):
    """Engagement POST: the fields of its body and the codes each can carry, or a refusal by a service rule."""
    response = document["paths"]["/api/v1/engagements/"]["post"]["responses"]["400"]
    shape = _schema(document, response["content"]["application/json"]["schema"]["$ref"])
    validation = _schema(document, shape["discriminator"]["mapping"]["validation_error"])
    items = _schema(document, validation["properties"]["errors"]["items"]["$ref"])["anyOf"]
    members = [_schema(document, item["$ref"]) for item in items]
    by_attr = {tuple(m["properties"]["attr"].get("enum", ["*"])): m["properties"]["code"] for m in members}
    assert "out_of_range" in by_attr[("occurred_on",)]["enum"]
    assert by_attr[("*",)] == {"type": "string"}  # ServiceRuleError: any field, any code
    # Every write does the same: no 400 of a write is the one generic shape.
    for name, operation in operations(document):
        if name.split()[0] in ("POST", "PATCH", "PUT") and "400" in operation["responses"]:
            ref = operation["responses"]["400"]["content"]["application/json"]["schema"]["$ref"]
            assert not ref.endswith("/GenericValidationErrorResponse"), name


def test_the_status_filters_are_documented(document):
    parameters = {p["name"]: p for p in document["paths"]["/api/v1/status/"]["get"]["parameters"]}
    for name in ("region", "track", "stage", "health"):
        assert name in parameters, name
        assert parameters[name]["in"] == "query"
    assert "400" in document["paths"]["/api/v1/status/"]["get"]["responses"]


def test_redocly_finds_no_error_and_no_warning():
    needs(REDOCLY.exists() and shutil.which("node") is not None, "Redocly CLI is installed by `make validators` (npm ci)")
    result = subprocess.run(
        [str(REDOCLY), "lint", str(COMMITTED), "--format=json"],
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        env={**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"},
        timeout=120,
    )
    report = json.loads(result.stdout)
    totals = report["totals"]
    line = f"redocly lint docs/openapi.json: {totals['errors']} errors, {totals['warnings']} warnings"
    print(line)
    artifacts = Path(settings.BASE_DIR) / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "redocly.txt").write_text(line + "\n")  # .ci/run prints it
    problems = [f"{p['severity']} {p['ruleId']}: {p['message']}" for p in report["problems"]]
    assert (totals["errors"], totals["warnings"]) == (0, 0), problems[:20]
