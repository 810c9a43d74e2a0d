"""Country status for REST clients, read from the rollup table with ``values()`` (no model instances)."""

import hashlib

from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from core import country_codes
from core.api import fastpath
from core.api.base import ThrottleBeforePermissionsMixin, country_code_or_404
from core.api.conditional import not_modified
from countries.models import Country, CountryStatus, Health
from countries.regions import Region
from countries.status_cache import KEY as STATUS_VERSION_KEY
from countries.status_cache import status_version

from ..filters import StatusFilter
from .serializers import CountryStatusSerializer, StatusListSerializer

STATUS_VALUES = (
    "country__iso2",
    "country__name_en",
    "country__name_fr",
    "country__region",
    "furthest_stage_key",
    "readiness",
    "worst_health",
    "engagement_count",
    "last_engagement_on",
    "open_follow_ups",
    "overdue_follow_ups",
    "mw_planned",
    "mw_operational",
    "tracks",
    "computed_at",
)


def status_row(row: dict) -> dict:
    return {
        "country": row["country__iso2"],
        "name_en": row["country__name_en"],
        "name_fr": row["country__name_fr"],
        "region": row["country__region"],
        "furthest_stage": row["furthest_stage_key"],
        "readiness": f"{row['readiness']:.1f}",
        "worst_health": row["worst_health"],
        "engagement_count": row["engagement_count"],
        "last_engagement_on": row["last_engagement_on"].isoformat() if row["last_engagement_on"] else None,
        "open_follow_ups": row["open_follow_ups"],
        "overdue_follow_ups": row["overdue_follow_ups"],
        "mw_planned": f"{row['mw_planned']:.2f}",
        "mw_operational": f"{row['mw_operational']:.2f}",
        "tracks": row["tracks"],
        "computed_at": row["computed_at"].isoformat().replace("+00:00", "Z"),
    }


STATUS_BODY_SECONDS = 300


def cached_json(view, request, etag: str, body_key: str, build):
    """The response of ``build(request, etag)``; as JSON, its body is kept under ``body_key`` with its ETag, since the
    body of a given ETag never changes: clients pulling in bursts share one rendering of it (other formats are
    rendered as usual). The cached-read path (``core.api.fastpath``) serves the same entry."""
    json_body = getattr(request, "accepted_renderer", None) is not None and request.accepted_renderer.format == "json"
    if json_body:
        cached = cache.get(body_key)
        if cached is not None and cached[0] == etag:
            return HttpResponse(cached[1], content_type="application/json", headers={"ETag": etag})
    response = build(request, etag)
    if json_body and response.status_code == status.HTTP_200_OK:
        view.finalize_response(request, response)
        cache.set(body_key, fastpath.body_entry(etag, response.rendered_content), STATUS_BODY_SECONDS)
    return response


def _etag(*parts) -> str:
    return '"' + hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:32] + '"'


def _list_etag(query: str, version: str) -> str:
    return _etag("status", query, version)


def _list_body_key(query: str) -> str:
    return "api:status-body:list:" + hashlib.sha256(query.encode()).hexdigest()[:32]


def _country_etag(code: str, version: str) -> str:
    return _etag("country-status", code, version)


def _country_body_key(code: str) -> str:
    return f"api:status-body:country:{code}"


STATUS_PARAMS = [
    OpenApiParameter(
        "If-None-Match", str, OpenApiParameter.HEADER, required=False, description="An ETag from an earlier response."
    ),
]


# The filters of the bulk status (``StatusFilter``), given here because the view answers from its own cache.
STATUS_FILTER_PARAMS = [
    OpenApiParameter("region", str, enum=[code for code, _label in Region.choices],
                     description="UN M49 region: " + ", ".join(f"{code} {label}" for code, label in Region.choices) + "."),
    OpenApiParameter("track", str, description="Track key (see /api/v1/tracks/); stage and health then apply to it. "
                     "An unknown key is a 400."),
    OpenApiParameter("stage", str, description="Stage key: of the track given, else of the country's furthest stage."),
    OpenApiParameter("health", str, enum=[code for code, _label in Health.choices],
                     description="Of the track given, else the country's worst health."),
]  # fmt: skip


class StatusListView(ThrottleBeforePermissionsMixin, GenericAPIView):
    """Every country's status in one response, for bulk pulls. Send ``If-None-Match`` to get a cheap 304."""

    filterset_class = StatusFilter
    filter_backends = [DjangoFilterBackend]  # ordered by country code; no ?ordering= on a values() body
    pagination_class = None
    serializer_class = CountryStatusSerializer

    def get_queryset(self):
        return CountryStatus.objects.order_by("country__iso2")

    @extend_schema(
        operation_id="status_list",
        summary="Every country's status",
        parameters=[*STATUS_PARAMS, *STATUS_FILTER_PARAMS],
        responses={200: StatusListSerializer, 304: OpenApiResponse(description="Not modified since the ETag you sent.")},
    )
    def get(self, request):
        # The ETag is the status table's version (kept in the cache, moved by every rollup) and the filters:
        # a revalidation costs no query, and a pull of an unchanged table none either.
        query = request.GET.urlencode()
        etag = _list_etag(query, status_version())
        if not_modified(request, etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return cached_json(self, request, etag, _list_body_key(query), self._build)

    def _build(self, request, etag):
        rows = list(self.filter_queryset(self.get_queryset()).values(*STATUS_VALUES))
        newest = max((row["computed_at"] for row in rows), default=None)
        newest = newest.isoformat().replace("+00:00", "Z") if newest else None
        return Response(
            {"count": len(rows), "computed_at": newest, "results": [status_row(row) for row in rows]}, headers={"ETag": etag}
        )


class CountryStatusView(ThrottleBeforePermissionsMixin, GenericAPIView):
    """One country's status: overall and per track."""

    serializer_class = CountryStatusSerializer
    pagination_class = None
    filter_backends = []

    @extend_schema(
        operation_id="countries_status_retrieve",
        summary="One country's status",
        parameters=STATUS_PARAMS,
        responses={
            200: CountryStatusSerializer,
            304: OpenApiResponse(description="Not modified since the ETag you sent."),
        },
    )
    def get(self, request, code: str):
        code = country_code_or_404(code)
        etag = _country_etag(code, status_version())
        if not_modified(request, etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return cached_json(self, request, etag, _country_body_key(code), lambda request, etag: self._build(code, etag))

    def _build(self, code, etag):
        row = CountryStatus.objects.filter(country__iso2=code).values(*STATUS_VALUES).first()
        if row is None:
            country = get_object_or_404(Country.objects.only("iso2"), iso2=code)
            raise NotFound(f"{country.iso2} is not in the programme, so it has no status.")
        return Response(status_row(row), headers={"ETag": etag})


# The views as routed (config/api.py): a pull or revalidation that the cache alone can answer never reaches DRF
# (core.api.fastpath); every other request goes to the DRF view above.


def _list_read(request):
    query = request.GET.urlencode()
    return {
        "version_key": STATUS_VERSION_KEY,
        "etag_of": lambda version: _list_etag(query, version),
        "body_key": _list_body_key(query),
    }


def _country_read(request, code: str):
    code = country_codes.parse(code)
    if code is None:
        return None
    return {
        "version_key": STATUS_VERSION_KEY,
        "etag_of": lambda version: _country_etag(code, version),
        "body_key": _country_body_key(code),
    }


status_list = fastpath.cached_read(StatusListView.as_view(), _list_read)
country_status = fastpath.cached_read(CountryStatusView.as_view(), _country_read)
