"""The OpenAPI document at /api/v1/schema/, served like a static file from the committed docs/openapi.json.

Generating the document takes drf-spectacular one to three seconds; it changes only with the code, so it is
generated once, by ``make schema`` (``manage.py spectacular``), committed, and guarded by a drift test
(tests/api/test_schema_document.py) that fails when the code would generate another one. Here the file is read
once per process: its SHA-256 is its strong ETag (If-None-Match gives a 304), its gzip form is made once too
(tagged ``"<hash>-gzip"``, as core.compression tags every compressed answer), and YAML (``?format=yaml``, or an
``Accept`` of YAML) is converted from it on first request. Nothing in the answer depends on who asks: it is
public, as drf-spectacular's view was (SERVE_PUBLIC).
"""

import gzip
import hashlib
import json
from functools import cache
from pathlib import Path

import yaml
from django.conf import settings
from django.http import HttpResponse, HttpResponseNotAllowed
from django.middleware.gzip import re_accepts_gzip
from django.utils.cache import patch_vary_headers

from core.api.conditional import gzip_tag, not_modified

DOCUMENT = Path(settings.BASE_DIR) / "docs" / "openapi.json"
JSON_TYPE = "application/vnd.oai.openapi+json"
YAML_TYPE = "application/vnd.oai.openapi"
YAML_ACCEPTED = ("application/vnd.oai.openapi", "application/yaml", "application/x-yaml", "text/yaml")


class Representation:
    """One rendering of the document: its bytes, their gzip form, and the strong tag of each."""

    def __init__(self, body: bytes, content_type: str):
        self.body = body
        self.content_type = content_type
        self.etag = f'"{hashlib.sha256(body).hexdigest()}"'
        # No timestamp and no padding: the same bytes in every process, so the gzip tag stays strong.
        self.gzipped = gzip.compress(body, compresslevel=9, mtime=0)


@cache
def json_document() -> Representation:
    return Representation(DOCUMENT.read_bytes(), JSON_TYPE)


@cache
def yaml_document() -> Representation:
    document = json.loads(json_document().body)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    body = yaml.dump(document, Dumper=dumper, sort_keys=False, allow_unicode=True, width=120).encode()
    return Representation(body, YAML_TYPE)


# ReDoc's bundle, as drf-spectacular-sidecar ships it, but for the "API docs by Redocly" logo in its menu, which it
# would fetch from Redocly's CDN (the CSP blocks it, and the browser logs the refusal): an empty image in its place.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
EMPTY_IMAGE = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"


@cache
def redoc_bundle() -> Representation:
    from drf_spectacular_sidecar import __file__ as sidecar

    bundle = Path(sidecar).parent / "static" / "drf_spectacular_sidecar" / "redoc" / "bundles" / "redoc.standalone.js"
    body = bundle.read_bytes()  # tests/api/test_schema_document.py checks that the logo's address was found
    return Representation(body.replace(REDOC_LOGO.encode(), EMPTY_IMAGE.encode()), "text/javascript; charset=utf-8")


def _wants_yaml(request) -> bool:
    wanted = request.GET.get("format")
    if wanted:
        return wanted in ("yaml", "openapi")
    accept = request.headers.get("Accept", "")
    return any(kind in accept for kind in YAML_ACCEPTED) and "json" not in accept


def openapi_document(request):
    """The committed OpenAPI document: JSON by default (which any YAML parser reads too), YAML on request."""
    return _serve(request, yaml_document() if _wants_yaml(request) else json_document())


def redoc_script(request):
    """ReDoc's bundle without its one third-party request (REDOC_DIST points here)."""
    return _serve(request, redoc_bundle())


def _serve(request, document: Representation):
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    if not_modified(request, document.etag):
        response = HttpResponse(status=304)
    elif re_accepts_gzip.search(request.headers.get("Accept-Encoding", "")):
        response = HttpResponse(document.gzipped, content_type=document.content_type)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(document.body, content_type=document.content_type)
    # core.compression turns the 304's tag into the gzip one when that is the one the client holds.
    response.headers["ETag"] = gzip_tag(document.etag) if response.has_header("Content-Encoding") else document.etag
    response.headers["Cache-Control"] = "public, no-cache"  # keep it, but ask each time (a deploy may change it)
    patch_vary_headers(response, ("Accept", "Accept-Encoding"))
    return response
