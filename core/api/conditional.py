"""ETags for detail responses and If-Match on updates (no lost updates through the API)."""

import hashlib
import json

from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, status
from rest_framework.exceptions import APIException
from rest_framework.response import Response


class PreconditionFailed(APIException):
    """412: the object changed since the client read it. ``current`` is its representation now: the viewset adds it
    to the error body (``current``) with its ETag, so the client can re-apply its change without another GET."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _(
        "The object changed since you read it: nothing was saved. Its current state is in “current” and its tag in "
        "the ETag header; re-apply your change to it."
    )
    default_code = "precondition_failed"

    def __init__(self, detail=None, code=None, *, current=None):
        super().__init__(detail, code)
        self.current = current


def etag_for(data) -> str:
    body = json.dumps(data, sort_keys=True, default=str, separators=(",", ":")).encode()
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def parse_tags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def if_match_holds(header: str, etag: str) -> bool:
    """If-Match compares strongly: ``*`` or the exact tag; a weak tag (W/"...") never matches."""
    if header.strip() == "*":
        return True
    return etag in {t.strip() for t in header.split(",") if t.strip() and not t.strip().startswith("W/")}


def not_modified(request, etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    return bool(header) and (header.strip() == "*" or etag in parse_tags(header))


class RetrieveWithETagMixin(mixins.RetrieveModelMixin):
    """``retrieve`` answers with an ETag and honours If-None-Match (304); updates answer with the new ETag.

    The tag is a hash of the object's representation, so it changes whenever anything a client can
    see changes.
    """

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        data = self.get_serializer(instance).data
        etag = etag_for(data)
        if not_modified(request, etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return Response(data, headers={"ETag": etag})
