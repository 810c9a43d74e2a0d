from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from .base import ThrottleBeforePermissionsMixin
from .conditional import PreconditionFailed, RetrieveWithETagMixin, etag_for, if_match_holds


class PortalViewSet(ThrottleBeforePermissionsMixin, viewsets.GenericViewSet):
    """A thin viewset: reads come from selectors, writes go to services.

    ``serializer_class`` is the read representation; ``write_serializers`` maps an action to the
    serializer that validates its input (types only: the rules live in the services).
    """

    write_serializers: dict = {}
    # Ids are 64-bit integers: anything longer (or not digits) is a 404, never an overflow in the database.
    lookup_value_regex = "[0-9]{1,18}"

    def get_serializer_class(self):
        return self.write_serializers.get(self.action, self.serializer_class)

    def validated(self, partial: bool = False) -> dict:
        serializer = self.get_serializer(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def represent(self, instance, status_code=status.HTTP_200_OK) -> Response:
        """Answer with the read representation of ``instance``, re-read through the viewset's queryset."""
        fresh = self.get_queryset().get(pk=instance.pk)
        return Response(self.serializer_class(fresh, context=self.get_serializer_context()).data, status=status_code)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in ("PATCH", "POST") and response.status_code in (200, 201) and isinstance(response.data, dict):
            response["ETag"] = etag_for(response.data)
        return response

    def get_current(self):
        """The object of a detail write, with If-Match checked against its current representation."""
        instance = self.get_object()
        header = self.request.headers.get("If-Match")
        if header:
            data = self.serializer_class(instance, context=self.get_serializer_context()).data
            if not if_match_holds(header, etag_for(data)):
                raise PreconditionFailed()
        return instance


# List and retrieve-with-ETag, the read half of every resource.
READ = (mixins.ListModelMixin, RetrieveWithETagMixin)
