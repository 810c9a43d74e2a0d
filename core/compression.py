"""Compressed pages, API answers and feeds, without breaking conditional requests.

Django's GZipMiddleware turns a strong ETag into a weak one (W/"x"), and If-Match compares strongly, so a client
that accepts gzip (httpx and requests do by default) would be refused with 412 on every PATCH after a GET. Here
a response with a strong tag "x" is compressed without random padding, so its bytes are the same each time, and
tagged "x-gzip": a strong tag of its own for the gzip representation, which If-Match and If-None-Match take as "x"
(``core.api.conditional``). A 304 answers with the tag the client holds. What the caches keep (the API's
cached bodies, whole pages) is the uncompressed body under its uncompressed tag: compression happens on the way
out only.

BREACH (the compression side channel Django's documentation warns about): an attacker who can make a victim's
browser send requests, and can put text of their choice into the answer, guesses a secret in the same answer
from the compressed length. What is done here:
- only answers to GET and HEAD are compressed: a secret shown once (a new API token) is in the answer to a POST,
  which is sent as is;
- the CSRF token on every page is masked afresh on each rendering (Django), and a page whose query changes is
  rendered afresh (core/pagecache.py keys on the full path), so there is no stable secret to guess;
- untagged answers keep Django's "Heal the Breach" random padding (up to 100 bytes in the gzip header);
- tagged answers (API reads: country status, the detail of a record) carry no secret (no API read returns a
  token or a webhook secret) and are read with a token, not a cookie, by the partner systems that pull them; they
  are compressed without the padding so that their strong tag stays true.
See docs/operations.md ("Compression").
"""

from django.middleware.gzip import GZipMiddleware, re_accepts_gzip
from django.utils.cache import patch_vary_headers
from django.utils.text import compress_string

from core.api.conditional import gzip_tag, identity_tag

COMPRESSED_TYPES = ("text/html", "application/json", "application/atom+xml", "application/xml", "text/xml")
SMALLEST = 200  # bytes: below this, compression costs more than it saves (Django's own threshold)


def _accepts_gzip(request) -> bool:
    return bool(re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")))


def _strong_tag(response) -> str | None:
    etag = response.get("ETag")
    return etag if etag and etag.startswith('"') else None


class CompressionMiddleware(GZipMiddleware):
    """gzip for HTML, JSON and feeds answered to GET and HEAD; a strong ETag stays strong (see the module)."""

    def process_response(self, request, response):
        if request.method not in ("GET", "HEAD"):
            return response
        etag = _strong_tag(response)
        if response.status_code == 304:
            # The tag of the representation the client holds: "x-gzip" if that is what it sent.
            held = request.headers.get("If-None-Match", "")
            if etag and _accepts_gzip(request) and gzip_tag(etag) in {t.strip() for t in held.split(",")}:
                response.headers["ETag"] = gzip_tag(etag)
            return response
        content_type = response.get("Content-Type", "").split(";")[0].strip().lower()
        if (
            response.streaming  # exports: streamed as they are written
            or content_type not in COMPRESSED_TYPES
            or response.has_header("Content-Encoding")
            or len(response.content) < SMALLEST
        ):
            return response
        if etag is None:
            return super().process_response(request, response)  # Django's, with its random padding
        patch_vary_headers(response, ("Accept-Encoding",))
        if not _accepts_gzip(request):
            return response
        compressed = compress_string(response.content, max_random_bytes=0)
        if len(compressed) >= len(response.content):
            return response
        response.content = compressed
        response.headers["Content-Length"] = str(len(compressed))
        response.headers["Content-Encoding"] = "gzip"
        response.headers["ETag"] = gzip_tag(identity_tag(etag))
        return response
