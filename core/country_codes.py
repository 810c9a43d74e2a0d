"""Country codes, one rule for every surface: two ASCII letters, in either case. Anything else names no country.

The case is folded only after the check: ``"ß".upper()`` is ``"SS"`` and ``"ı".upper()`` is ``"I"``, so folding
first (or cutting to two characters) would turn a stray character into some other country.

- Bodies (API fields, form values, query filters): :func:`parse` gives the upper-case code, or None to refuse.
- Page and feed addresses: the ``country`` path converter matches two ASCII letters only (anything else is a
  404), and :class:`CountryPathCaseMiddleware` redirects an upper-case code to the lower-case address.
- API addresses accept either case (``core.api.base.country_code_or_404``).
"""

import re

from django.http import HttpResponsePermanentRedirect
from django.utils.encoding import iri_to_uri

PATTERN = "[A-Za-z]{2}"
_CODE = re.compile(PATTERN)


def parse(value) -> str | None:
    """``value`` as an upper-case ISO alpha-2 code if it is exactly two ASCII letters (after trimming spaces), else None."""
    if not isinstance(value, str):
        return None
    value = value.strip(" ")
    return value.upper() if _CODE.fullmatch(value) else None


class CountryCodeConverter:
    """``<country:code>`` in a page's route: two ASCII letters, either case; reversed in lower case."""

    regex = PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return str(value).lower()


class CountryPathCaseMiddleware:
    """``/countries/GB/`` is ``/countries/gb/``: a permanent redirect (308 for anything but GET and HEAD, so a form
    sent to the upper-case address is not turned into a GET), with the query string kept."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        code = view_kwargs.get("code")
        if not code or code == code.lower() or "<country:code>" not in (getattr(match, "route", "") or ""):
            return None
        path = request.path.replace(f"/{code}/", f"/{code.lower()}/", 1)
        query = request.META.get("QUERY_STRING", "")
        location = iri_to_uri(path) + (f"?{query}" if query else "")
        response = HttpResponsePermanentRedirect(location)
        if request.method not in ("GET", "HEAD"):
            response.status_code = 308
        return response
