"""Schema-driven fuzzing of the whole API with schemathesis, in-process through the WSGI app.

Every operation of /api/v1/schema/ gets generated input, valid and invalid (the schema's examples,
the coverage phase's edges of every constraint, then random fuzzing), sent with a programme-staff
token so that writes are exercised too. ``test_operation`` checks, for every operation:

- any input: no 5xx (schemathesis' ``not_a_server_error``);
- valid input: the documented status code, content type, headers and body.

The answers must conform to the schema as served; the tests at the end check that the places where
they once disagreed (nullable fields, blank URLs and regions, 304s, the services' 400s) stay documented.

Bounded and reproducible: a fixed seed, derandomized Hypothesis, no example database, a few random
examples per operation. Real objects exist (a programme of three countries with one of everything,
built through the services), and generated ids and codes are mostly pointed at them, so that
detail endpoints and actions get past 404 and reach their services.
"""

import collections
import datetime
import json
import os
from pathlib import Path

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import DatabaseError, close_old_connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from tests import factories

PROGRAMME = ("GB", "FR", "KE")
# Codes the generator mixes in: the programme, a real country outside it (its partnership can be
# created), lower case (codes are case-insensitive) and codes no country has.
COUNTRY_CODES = ["GB", "FR", "KE", "US", "gb", "fr", "ZZ", "XK", "gbr", ""]
TRACK_KEYS = ["workforce", "public_services", "safety_standards", "data_centres", "nope"]
STAGE_KEYS = ["exploring", "negotiating", "agreed", "implementing", "operational", "not_started", "paused", "withdrawn"]
USERNAMES = ["fuzz-staff", "fuzz-liaison", "nobody"]

# Fuzzed examples per operation in the random phase (the examples and coverage phases add their own): a few on
# a laptop, hundreds in CI (.ci/run sets PORTAL_FUZZ_EXAMPLES).
MAX_EXAMPLES = int(os.environ.get("PORTAL_FUZZ_EXAMPLES", "10"))
# Cases sent per operation and their answers, written to test-artifacts/fuzz.json after the run.
FUZZED = collections.defaultdict(collections.Counter)

CONFIG_DICT = {
    "seed": 20260515,
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
    "phases": {"fuzzing": {"error-feedback": {"enabled": False}}},
    "dictionaries": {
        "countries": {"values": COUNTRY_CODES},
        "tracks": {"values": TRACK_KEYS},
        "stages": {"values": STAGE_KEYS},
        "users": {"values": USERNAMES},
    },
    "parameters": {
        "path.code": {"dictionary": "countries", "probability": 0.7},
        "path.key": {"dictionary": "tracks", "probability": 0.7},
        "query.country": {"dictionary": "countries", "probability": 0.5},
        "query.code": {"dictionary": "countries", "probability": 0.5},
        "query.track": {"dictionary": "tracks", "probability": 0.5},
        "query.stage": {"dictionary": "stages", "probability": 0.5},
        "query.to_stage": {"dictionary": "stages", "probability": 0.5},
        "body.country": {"dictionary": "countries", "probability": 0.7},
        "body.countries[*]": {"dictionary": "countries", "probability": 0.7},
        "body.tracks[*]": {"dictionary": "tracks", "probability": 0.7},
        "body.track": {"dictionary": "tracks", "probability": 0.5},
        "body.to_stage": {"dictionary": "stages", "probability": 0.8},
        "body.owner": {"dictionary": "users", "probability": 0.5},
        "body.lead_liaison": {"dictionary": "users", "probability": 0.5},
    },
}

SCHEMA_URL = "/api/v1/schema/?format=json"
# The schema as served (its raw document, and the operations for the pinned errata below).
served_schema = schemathesis.openapi.from_wsgi(SCHEMA_URL, application, config=schemathesis.Config.from_dict(CONFIG_DICT))

FUZZ_SETTINGS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# The path segment after /api/v1/ that an ``{id}`` belongs to, and the model it names.
RESOURCE_MODELS = {
    "agreements": "engagements.Agreement",
    "announcements": "announcements.Announcement",
    "counterparts": "countries.Counterpart",
    "country-tracks": "partnerships.CountryTrack",
    "engagements": "engagements.Engagement",
    "facilities": "infrastructure.Facility",
    "follow-ups": "engagements.FollowUp",
    "organisations": "infrastructure.Organisation",
    "stage-changes": "partnerships.StageChange",
}


@pytest.fixture
def fuzz_programme(db, monkeypatch, request):
    """A small programme built through the services, a staff token, and no rate limits in the way."""
    from django.apps import apps

    from announcements.services import announcement_create
    from core.api.throttling import AnonAddressRateThrottle, TokenRateThrottle
    from core.services import api_token_create
    from countries.services import counterpart_create
    from engagements.services import agreement_create, engagement_log, follow_up_create
    from infrastructure.services import capacity_phase_add, facility_create, facility_partner_add, organisation_create
    from partnerships.rollup import rollup_countries
    from partnerships.services import partnership_create

    # Requests go through the WSGI handler, which closes the connection after each one (Django's test
    # client does not): that would end the test's transaction on PostgreSQL.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    request.addfinalizer(lambda: request_started.connect(close_old_connections))
    request.addfinalizer(lambda: request_finished.connect(close_old_connections))
    for throttle in (TokenRateThrottle, AnonAddressRateThrottle):
        monkeypatch.setattr(throttle, "THROTTLE_RATES", {"token": "1000000/min", "anon": "1000000/min"})

    staff = factories.staff(username="fuzz-staff")
    factories.liaison("KE", username="fuzz-liaison")
    today = timezone.localdate()
    workforce = factories.track("workforce")
    for code in PROGRAMME:
        country = factories.country(code)
        partnership_create(actor=staff, country=country)
        counterpart = counterpart_create(actor=staff, country=country, name=f"Minister of {code}")
        engagement = engagement_log(
            actor=staff,
            country=country,
            occurred_on=today - datetime.timedelta(days=5),
            kind="meeting",
            summary="Kick-off",
            tracks=[workforce],
            counterparts=[counterpart],
            follow_ups=[{"description": "Send the draft", "due_on": today + datetime.timedelta(days=7)}],
        )
        follow_up_create(actor=staff, country=country, description="Call back", due_on=today - datetime.timedelta(days=1))
        agreement_create(actor=staff, country=country, kind="mou", title="MoU", signed_on=today, tracks=[workforce])
        announcement_create(actor=staff, title=f"{code} joins", countries=[country], tracks=[workforce])
        facility = facility_create(actor=staff, country=country, name=f"{code} supercomputer")
        capacity_phase_add(actor=staff, facility=facility, online_on=today, power_mw=5)
        organisation = organisation_create(actor=staff, name=f"{code} Compute Ltd", country=country)
        facility_partner_add(actor=staff, facility=facility, organisation=organisation, role="operator")
        assert engagement.follow_ups.exists()
    rollup_countries()
    _token, secret = api_token_create(actor=staff, user=staff, name="fuzz", days=1)
    ids = {
        resource: sorted(apps.get_model(label).objects.values_list("pk", flat=True))
        for resource, label in RESOURCE_MODELS.items()
    }
    # The in-process WSGI transport does not decode gzip, so the cases ask for plain bodies; compressed answers and
    # their tags are tested through a real server (tests/api/test_compressed_conditional.py).
    return {"headers": {"Authorization": f"Token {secret}", "Accept-Encoding": "identity"}, "ids": ids}


def _pick(value, choices):
    """A stable choice among ``choices`` for a generated value (the same value always gives the same choice)."""
    return choices[sum(map(ord, str(value))) % len(choices)]


def aim_at_real_objects(case, ids: dict) -> None:
    """Point most generated identifiers at existing objects, so that requests get past the 404 or the
    "does not exist" answers and reach the services, with the rest of the generated input.

    Path ``{id}``: non-negative integers (ids differ between databases) except one in four; invalid
    ids are left alone. alphabetic ``{code}`` and ``{key}`` as the coverage phase
    generates them (the fuzz dictionaries only feed the random phase): three in four. Country, track
    and stage fields of valid bodies: three in four.
    """
    params = case.path_parameters or {}
    value = params.get("id")
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)  # the coverage phase sends path parameters as the strings of the wire
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0 and value % 4 != 3:
        existing = ids.get(case.path.removeprefix("/api/v1/").split("/")[0])
        if existing:
            params["id"] = existing[value % len(existing)]
    for name, choices in (("code", [*PROGRAMME, None]), ("key", [*TRACK_KEYS[:3], None])):
        value = params.get(name)
        if isinstance(value, str) and value.isascii() and value.isalpha() and _pick(value, choices):
            params[name] = _pick(value, choices)
    body = case.body
    if case.meta is None or case.meta.generation.mode is not GenerationMode.POSITIVE or not isinstance(body, dict):
        return
    countries, tracks, stages = [*PROGRAMME, "US", None], [*TRACK_KEYS[:4], None], [*STAGE_KEYS[:4], None]
    for name, choices in (("country", countries), ("track", tracks), ("to_stage", stages)):
        if isinstance(body.get(name), str) and _pick(body[name], choices):
            body[name] = _pick(body[name], choices)
    for name, choices in (("countries", countries), ("tracks", tracks)):
        if isinstance(body.get(name), list):
            body[name] = [_pick(v, choices) or v for v in body[name]]


def call(case, headers):
    """Send the case through the WSGI app inside a savepoint, so that a database error (answered 500) does
    not abort the test's transaction on PostgreSQL and spoil every later case."""
    response = None
    try:
        with transaction.atomic():
            response = case.call(headers=headers)
    except DatabaseError:
        # The request failed in the database and was answered (500); the savepoint is rolled back.
        assert response is not None
    return response


CONFORMANCE_CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# --- Conformance ---------------------------------------------------------------------------------
# Places where the schema once disagreed with the answers. The conformance run validates against the
# served schema; the tests below check each of these stays documented.

# Read-only slug fields (usernames, track keys, country codes) of nullable foreign keys: null when unset.
NULLABLE_SLUGS = {
    "CountryTrack": ["owner"],
    "Partnership": ["lead_liaison"],
    "FollowUp": ["track", "owner", "done_by"],
    "StageChange": ["actor"],
    "Engagement": ["logged_by"],
    "Organisation": ["country"],
}
# URL and e-mail fields that may be blank: "" is neither a "uri" nor an "email".
BLANK_FORMATS = {
    "Agreement": ["source_url"],
    "Announcement": ["source_url"],
    "Facility": ["source_url"],
    "Organisation": ["website"],
    "Counterpart": ["email"],
}
# Region choices that are blank for some countries (intermediate region for most, every level for Antarctica).
BLANK_ENUMS = {"Country": ["region", "subregion", "intermediate_region"]}


def _operations(raw: dict):
    for path, item in raw["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "patch", "put", "delete"):
                yield path, method, operation


def _takes_if_none_match(operation) -> bool:
    return any(p.get("in") == "header" and p.get("name") == "If-None-Match" for p in operation.get("parameters", []))


schema = schemathesis.openapi.from_dict(served_schema.raw_schema, config=schemathesis.Config.from_dict(CONFIG_DICT))
schema.app = application


@pytest.fixture(scope="module", autouse=True)
def fuzz_figures():
    """After the run: how many cases each operation got, and what they were answered (no 5xx is checked per case)."""
    yield
    if not FUZZED:
        return
    per_operation = {op: sum(codes.values()) for op, codes in FUZZED.items()}
    figures = {
        "max_examples": MAX_EXAMPLES,
        "operations": len(FUZZED),
        "cases": sum(per_operation.values()),
        "fewest_cases_of_an_operation": min(per_operation.values()),
        "server_errors": sum(n for codes in FUZZED.values() for code, n in codes.items() if code >= 500),
        "by_operation": {op: dict(sorted(codes.items())) for op, codes in sorted(FUZZED.items())},
    }
    out = Path(__file__).resolve().parents[2] / "test-artifacts" / "fuzz.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2))
    print(f"\nfuzz: {figures['cases']} cases over {figures['operations']} operations "
          f"(at least {figures['fewest_cases_of_an_operation']} each), {figures['server_errors']} server errors")  # fmt: skip


@schema.parametrize()
@FUZZ_SETTINGS
def test_operation(case, fuzz_programme):
    """Any input: no 5xx. Valid input: the documented status code, content type, headers and body."""
    aim_at_real_objects(case, fuzz_programme["ids"])
    response = call(case, fuzz_programme["headers"])
    FUZZED[case.operation.label][response.status_code] += 1
    checks = [not_a_server_error]
    if case.meta is None or case.meta.generation.mode is GenerationMode.POSITIVE:
        checks += CONFORMANCE_CHECKS
    case.validate_response(response, checks=checks, headers=fuzz_programme["headers"])


def _component_prop(name, prop):
    return served_schema.raw_schema["components"]["schemas"][name]["properties"][prop]


# The read serializers' UsernameField/TrackKeyField/CountryCodeField(read_only=True) of nullable foreign keys lack
# allow_null=True: partnerships/api/serializers.py CountryTrackSerializer.owner, PartnershipSerializer.lead_liaison,
# FollowUpSerializer.track/owner/done_by, StageChangeSerializer.actor, EngagementSerializer.logged_by;
# infrastructure/api/serializers.py OrganisationSerializer.country.
def test_schema_documents_null_slugs():
    assert [(n, p) for n, props in NULLABLE_SLUGS.items() for p in props if not _component_prop(n, p).get("nullable")] == []


# source_url (agreements, announcements, facilities), Organisation.website and Counterpart.email are blank=True model
# fields; drf-spectacular documents them with format uri/email, which "" does not match. Fix: declare them in the
# read serializers as CharField(read_only=True) (or a field whose schema allows "").
def test_schema_allows_blank_urls_and_emails():
    assert [(n, p) for n, props in BLANK_FORMATS.items() for p in props if "format" in _component_prop(n, p)] == []


# Country.intermediate_region is "" for most countries (and region/subregion for Antarctica), but RegionEnum,
# SubregionEnum and IntermediateRegionEnum do not list "". Fix (countries/api/serializers.py CountrySerializer):
# extra_kwargs {"...region": {"allow_blank": True}} so that drf-spectacular adds its BlankEnum.
def test_schema_allows_blank_regions():
    schemas = served_schema.raw_schema["components"]["schemas"]

    def allows_blank(prop):
        refs = [sub["$ref"].rsplit("/", 1)[-1] for sub in prop.get("allOf", []) + prop.get("oneOf", []) if "$ref" in sub]
        return "" in prop.get("enum", []) or any("" in schemas[ref].get("enum", []) for ref in refs)

    assert [p for n, props in BLANK_ENUMS.items() for p in props if not allows_blank(_component_prop(n, p))] == []


# core/api/schema.py AutoSchema adds the If-None-Match parameter to every retrieve but no 304 response (only the two
# status views declare one). Fix: add a 304 response where the parameter is added.
def test_schema_documents_304_on_retrieve():
    missing = [
        f"{method.upper()} {path}"
        for path, method, operation in _operations(served_schema.raw_schema)
        if method == "get" and _takes_if_none_match(operation) and "304" not in operation["responses"]
    ]
    assert missing == []


# drf-standardized-errors documents a write's 400 with the serializer's own fields and codes only; the services
# answer with model and rule errors too (code "blank" on a field the serializer allows blank, non_field_errors), and
# actions declared with request=None (publish, complete, reopen) document only the parse error. Fix
# (core/api/schema.py AutoSchema): document a generic validation error (any attr, any code) for every write.
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("PATCH", "/api/v1/engagements/{id}/", {"summary": ""}), ("POST", "/api/v1/follow-ups/{id}/reopen/", None)],
)
def test_service_validation_errors_are_documented(fuzz_programme, method, path, body):
    from engagements.models import Engagement, FollowUp

    target = Engagement.objects.first() if "engagements" in path else FollowUp.objects.filter(done_at__isnull=True).first()
    operation = served_schema[path][method]
    case = operation.Case(path_parameters={"id": target.pk}, **({"body": body} if body is not None else {}))
    response = call(case, fuzz_programme["headers"])
    assert response.status_code == 400, response.text  # a rule of the service refuses it
    case.validate_response(response, checks=[response_schema_conformance])
