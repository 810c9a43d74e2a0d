from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation

from . import roles
from .mfa.policies import second_factor_step
from .public_record import datasets_held


def portal(request):
    demo, public = cache.get("portal:demo-dataset"), cache.get("portal:public-record")
    if demo is None or public is None:
        held = datasets_held()  # one query for both, so the banner costs no more than it did
        demo, public = "demo" in held, "public" in held
        cache.set("portal:demo-dataset", demo, 60)
        cache.set("portal:public-record", public, 60)
    user = getattr(request, "user", None)
    try:  # the 400 page of a query string too large to parse must not fail reading it again
        search_q = request.GET.get("q", "")
    except SuspiciousOperation:
        search_q = ""
    return {
        "search_q": search_q,
        "demo_data": demo,
        "public_record_data": public,
        "user_roles": roles.role_labels(user) if user is not None and user.is_authenticated else [],
        "is_programme_staff": roles.is_programme_staff(user),
        # A session that still owes its second factor sees no menu: every page but sign-out leads back to it.
        "second_factor_step": second_factor_step(request),
        # Drafts kept in the browser (static/js/portal.js) for forms that have just been saved.
        "clear_drafts": request.session.pop("clear_drafts", []) if hasattr(request, "session") else [],
    }
