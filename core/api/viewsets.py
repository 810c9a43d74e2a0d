from contextlib import ExitStack

from django.db import transaction
from django.db.models import prefetch_related_objects
from django.http import Http404, RawPostDataException
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.response import Response

from core import idempotency
from core.conflicts import ConflictError

from .base import ThrottleBeforePermissionsMixin
from .conditional import PreconditionFailed, RetrieveWithETagMixin, etag_for, if_match_holds

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class IdempotencyKeyReused(exceptions.APIException):
    """422: the key was used in the last 24 hours for another request (another address or body)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _(
        "This Idempotency-Key was used for a different request (another address or body) in the last 24 hours: "
        "nothing was written. Send a new key with a new request."
    )
    default_code = "idempotency_key_reused"


class _Replay(Exception):
    """Raised once authentication and permissions passed: answer with the stored response of the first request."""

    def __init__(self, row):
        super().__init__()
        self.row = row


class PortalViewSet(ThrottleBeforePermissionsMixin, viewsets.GenericViewSet):
    """A thin viewset: reads come from selectors, writes go to services.

    ``serializer_class`` is the read representation; ``write_serializers`` maps an action to the
    serializer that validates its input (types only: the rules live in the services).

    Conditional writes (If-Match): the request runs in one transaction; ``get_current`` locks the object's row,
    compares the tag with the representation read under that lock, and the service then writes in the same
    transaction (its own ``select_for_update`` of the row is re-entrant). So no other write can land between the
    comparison and the change: the second of two writers that read the same tag gets 412, never a silent overwrite.
    A ``ConflictError`` of a service (its ``expected_version`` check) is answered the same way.

    Idempotent creates (``Idempotency-Key`` on a POST, ``core.idempotency``): once the caller is authenticated and
    allowed, a transaction opens, the key is claimed in it, the action runs, and its answer, if a 2xx, is stored in
    the same transaction before the commit. Any other answer rolls everything back and keeps no key. The same key
    and request again within 24 hours gets the stored answer (``Idempotent-Replayed: true``) and writes nothing; the
    same key with another request gets 422.
    """

    write_serializers: dict = {}
    # Ids are 64-bit integers: anything longer (or not digits) is a 404, never an overflow in the database.
    lookup_value_regex = "[0-9]{1,18}"

    def dispatch(self, request, *args, **kwargs):
        # The idempotent write's transaction opens in initial() and ends in finalize_response(); this closes it (rolled
        # back) should an error escape DRF's own handling in between.
        self._write_scope = ExitStack()
        self._idempotency_row = None
        with self._write_scope:
            if request.method in UNSAFE_METHODS and request.headers.get("If-Match"):
                # The lock taken by get_current() is held until this transaction ends, after the service's write.
                # Nothing is written here besides the service's own (atomic, rolled back on its errors) work.
                with transaction.atomic():
                    return super().dispatch(request, *args, **kwargs)
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, throttles, permissions
        key = request.headers.get(idempotency.HEADER) if request.method == "POST" else None
        if key is None or not request.user.is_authenticated:
            return
        if not idempotency.valid_key(key):
            raise exceptions.ValidationError(
                {idempotency.HEADER: [_("Send 1 to 255 printable ASCII characters, for example a UUID.")]}, code="invalid"
            )
        try:
            body = request._request.body
        except RawPostDataException as exc:  # a multipart body, already streamed: the API takes JSON only anyway
            raise exceptions.UnsupportedMediaType(request.content_type) from exc
        hashed = idempotency.request_hash(request.method, request._request.get_full_path(), body)
        self._write_scope.enter_context(transaction.atomic())
        held = idempotency.claim(user=request.user, key=key, hashed=hashed)
        if not held.new:
            if not held.matches(hashed):
                raise IdempotencyKeyReused()
            raise _Replay(held.row)
        self._idempotency_row = held.row

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

    def represent_written(self, instance, status_code=status.HTTP_201_CREATED, **relations) -> Response:
        """Answer with the read representation of a row just created, from what is in hand instead of ``represent``'s
        re-read (the row with its joined rows, then each prefetched relation: three queries for an engagement).

        ``relations`` gives each many-to-many relation of the representation as the request wrote it
        (``tracks=[...]``): an empty one is known without a query; the others are read as a list reads them
        (``prefetch_related``, in the database's order and collation), one query each.
        """
        empty = [name for name, objects in relations.items() if not objects]
        # An empty relation is set as prefetch_related sets one (Django keeps it in _prefetched_objects_cache).
        cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
        for name in empty:
            known = getattr(instance, name).none()
            cache[name] = known
        prefetch_related_objects([instance], *(name for name in relations if name not in empty))
        return Response(self.serializer_class(instance, context=self.get_serializer_context()).data, status=status_code)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        data = getattr(response, "data", None)  # a replayed answer is plain bytes, with its ETag already
        if request.method in ("PATCH", "POST") and response.status_code in (200, 201) and isinstance(data, dict):
            response["ETag"] = etag_for(data)
        row, self._idempotency_row = self._idempotency_row, None
        if row is not None:
            if status.is_success(response.status_code):
                response.render()
                idempotency.record(
                    row,
                    status_code=response.status_code,
                    body=response.content,
                    content_type=response.get("Content-Type", ""),
                    location=response.get("Location", ""),
                    etag=response.get("ETag", ""),
                )
            else:  # a refusal changes nothing and keeps no key: sending it again runs it again
                transaction.set_rollback(True)
        self._write_scope.close()  # commits the write with its key (or rolls both back)
        return response

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            return idempotency.replay(exc.row)
        if isinstance(exc, ConflictError):  # a service's version check: the same refusal as a stale If-Match
            exc = PreconditionFailed(detail=exc.messages[0], current=self._current_representation())
        response = super().handle_exception(exc)
        current = getattr(exc, "current", None)
        if isinstance(exc, PreconditionFailed) and current is not None and isinstance(response.data, dict):
            response.data["current"] = current
            response["ETag"] = etag_for(current)
        return response

    def _current_representation(self):
        try:
            instance = self.get_object()
        except (Http404, exceptions.APIException):  # gone or no longer visible: the error alone says enough
            return None
        return self.serializer_class(instance, context=self.get_serializer_context()).data

    # The version the representation compared with If-Match was built from (None without If-Match, or for an
    # object without a version): views pass it to the services as ``expected_version``.
    expected_version = None

    def get_current(self):
        """The object of a detail write. With If-Match, locked and compared with its current representation.

        Without If-Match the write is unconditional: the last write wins.
        """
        instance = self.get_object()
        header = self.request.headers.get("If-Match")
        if not header:
            return instance
        # Inside the request's transaction (see dispatch). The lock query has no joins and no ordering, so it locks
        # this row only; the representation is read after it, so it is the state the service will change.
        model = type(instance)
        list(model._default_manager.select_for_update().order_by().filter(pk=instance.pk).values_list("pk", flat=True))
        current = self.get_queryset().get(pk=instance.pk)
        data = self.serializer_class(current, context=self.get_serializer_context()).data
        if not if_match_holds(header, etag_for(data)):
            raise PreconditionFailed(current=data)
        self.expected_version = getattr(current, "version", None)
        return current


# List and retrieve-with-ETag, the read half of every resource.
READ = (mixins.ListModelMixin, RetrieveWithETagMixin)
