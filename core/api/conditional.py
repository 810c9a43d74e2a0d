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


# The gzip-coded representation of a response tagged "x" is tagged "x-gzip" (core/compression.py): its own strong
# tag, as RFC 9110 wants for a different representation, instead of the weak W/"x" of Django's GZipMiddleware,
# which If-Match (strong comparison) would refuse. Both name the same state of the resource, so the checks below
# take either.
GZIP_SUFFIX = "-gzip"


def gzip_tag(etag: str) -> str:
    """The strong tag of the gzip-coded representation of a response tagged ``etag`` (``"x"`` -> ``"x-gzip"``)."""
    return etag[:-1] + GZIP_SUFFIX + '"'


def identity_tag(tag: str) -> str:
    """The tag of the uncompressed representation that ``tag`` names (``"x-gzip"`` -> ``"x"``; others unchanged)."""
    return tag[: -len(GZIP_SUFFIX) - 1] + '"' if tag.endswith(GZIP_SUFFIX + '"') else tag


def parse_tags(header: str) -> set[str]:
    """The tags of an If-None-Match header, compared weakly (W/ ignored), as the tags of the uncompressed form."""
    return {identity_tag(tag.strip().removeprefix("W/")) for tag in header.split(",") if tag.strip()}


def if_match_holds(header: str, etag: str) -> bool:
    """If-Match compares strongly: ``*`` or the exact tag (of either representation); a weak tag (W/"...") never
    matches."""
    if header.strip() == "*":
        return True
    tags = (t.strip() for t in header.split(","))
    return etag in {identity_tag(t) for t in tags if t and not t.startswith("W/")}


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
