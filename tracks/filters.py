"""FilterSets for tracks, shared by the HTML lists and the API."""

import django_filters

from core.filters import BooleanFilter

from .models import Track


class TrackFilter(django_filters.FilterSet):
    is_active = BooleanFilter()

    class Meta:
        model = Track
        fields = ["is_active"]
