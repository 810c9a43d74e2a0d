from core.api.viewsets import READ, PortalViewSet

from .. import selectors
from ..filters import TrackFilter
from . import serializers as s


class TrackViewSet(*READ, PortalViewSet):
    """The programme's tracks, each with its stage ladder and side states. Addressed by key."""

    serializer_class = s.TrackSerializer
    lookup_field = "key"
    lookup_value_regex = "[-a-zA-Z0-9_]+"
    ordering_fields = ["position", "key"]
    ordering = ["position", "key"]
    filterset_class = TrackFilter

    def get_queryset(self):
        return selectors.track_list(active_only=False)
