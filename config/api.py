"""The REST API, version 1: one router over the apps' viewsets, the status views, schema and docs."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from announcements.api.views import AnnouncementViewSet
from core.api.base import api_not_found
from core.api.openapi_document import openapi_document, redoc_script
from countries.api.views import CounterpartViewSet, CountryViewSet, MeView
from engagements.api.views import AgreementViewSet, EngagementViewSet, FollowUpViewSet
from infrastructure.api.views import FacilityViewSet, OrganisationViewSet
from partnerships.api.status import country_status, status_list
from partnerships.api.views import CountryTrackViewSet, PartnershipViewSet, StageChangeViewSet
from tracks.api.views import TrackViewSet

router = DefaultRouter()
router.register("countries", CountryViewSet, basename="country")
router.register("partnerships", PartnershipViewSet, basename="partnership")
router.register("country-tracks", CountryTrackViewSet, basename="country-track")
router.register("stage-changes", StageChangeViewSet, basename="stage-change")
router.register("engagements", EngagementViewSet, basename="engagement")
router.register("follow-ups", FollowUpViewSet, basename="follow-up")
router.register("counterparts", CounterpartViewSet, basename="counterpart")
router.register("agreements", AgreementViewSet, basename="agreement")
router.register("announcements", AnnouncementViewSet, basename="announcement")
router.register("facilities", FacilityViewSet, basename="facility")
router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("tracks", TrackViewSet, basename="track")

app_name = "api"
urlpatterns = [
    path("status/", status_list, name="status"),
    path("countries/<str:code>/status/", country_status, name="country-status"),
    path("users/me/", MeView.as_view(), name="me"),
    # The committed docs/openapi.json (make schema), served as a static file; the two viewers read it.
    path("schema/", openapi_document, name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    # ReDoc's bundle without the logo it would fetch from a CDN (SPECTACULAR_SETTINGS["REDOC_DIST"]).
    path("redoc/bundles/redoc.standalone.js", redoc_script, name="redoc-script"),
    path("", include(router.urls)),
    # Anything else under /api/v1/ is a JSON 404 in the API's error shape, not Django's HTML page.
    re_path(r"^.*$", api_not_found),
]
