"""View decorators shared by the portal's apps."""

from functools import wraps
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import resolve_url


def login_required_htmx(view):
    """``login_required`` that also suits htmx requests.

    A plain redirect would be followed by the browser and the sign-in page swapped into the middle of
    the form. An htmx request whose session has expired gets 401 and ``HX-Redirect`` to the sign-in
    page, which returns to the page the user was on (their draft is kept in the tab meanwhile).
    """
    protected = login_required(view)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.headers.get("HX-Request") == "true" and not request.user.is_authenticated:
            current = urlsplit(request.headers.get("HX-Current-URL", ""))
            back = current.path + (f"?{current.query}" if current.query else "") if current.path else "/"
            response = HttpResponse(status=401)
            response["HX-Redirect"] = f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': back})}"
            return response
        return protected(request, *args, **kwargs)

    return wrapper
