from django.db.models import QuerySet

from .models import Facility, Organisation


def facility_list() -> QuerySet[Facility]:
    return Facility.objects.select_related("country").prefetch_related("phases", "partner_roles__organisation")


def organisation_list() -> QuerySet[Organisation]:
    return Organisation.objects.select_related("country")
