from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import DatabaseError, connection, transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from . import audit, roles
from .forms import ApiTokenForm
from .idempotency import FormSubmission
from .mfa.views import recent_second_factor_redirect
from .models import ApiToken
from .services import api_token_create, api_token_revoke


@login_required
def api_tokens(request):
    """A signed-in user's API tokens: create one (shown once), see when each was used, revoke it."""
    form = ApiTokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        # A token is a long-lived credential: a second factor verified recently first (core/mfa/policies.py).
        if (confirm := recent_second_factor_redirect(request)) is not None:
            return confirm
        once = FormSubmission(request, form.cleaned_data["form_token"])
        try:
            with transaction.atomic():
                if (earlier := once.claim()) is not None:
                    # The token itself was shown once, in the first answer, and is not stored: it cannot be shown again.
                    return once.replay(
                        earlier,
                        _("This token had already been created, and shown once then. If you did not copy it, revoke it "
                          "and create another."),
                    )  # fmt: skip
                token, new_token = api_token_create(
                    actor=request.user, user=request.user, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
                )
                once.record(reverse("api-tokens"))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(
                request, _("Token “%(name)s” created. Copy it now: it will not be shown again.") % {"name": token.name}
            )
            form = ApiTokenForm()
    tokens = ApiToken.objects.filter(user=request.user).order_by("-created")
    return render(request, "core/api_tokens.html", {"form": form, "tokens": tokens, "new_token": new_token})


@login_required
@require_POST
def api_token_revoke_view(request, key):
    token = get_object_or_404(ApiToken, token_key=key, user=request.user)
    api_token_revoke(actor=request.user, token=token)
    messages.success(request, _("Token “%(name)s” revoked: clients using it are refused from now on.") % {"name": token.name})
    return redirect("api-tokens")


@never_cache
@require_GET
def healthz(request):
    """Liveness and readiness for load balancers, and the benchmarks' floor: one trivial query, nothing else.

    It goes through the same server, middleware and settings as every page, so the cost of a request with
    no work of its own is what the benchmarks divide by. 503 if the database does not answer.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@login_required
def audit_log(request):
    """Who changed what and when, with the values before and after: programme staff only; CSV or XLSX with the filters."""
    if not roles.is_programme_staff(request.user):
        raise PermissionDenied(_("The audit log is for programme staff."))
    form = audit.AuditFilterForm(request.GET or None)
    if form.is_bound:
        form.is_valid()  # errors are shown; the valid filters still apply
    entries = audit.audit_entries(form.filters())
    # The dashboards' writer: typed cells, formulas neutralised. (It lives with the dashboards, which came first.)
    from .exports import FORMATS, export_response

    fmt = request.GET.get("export")
    if fmt in FORMATS:
        return export_response(
            fmt, "audit-log", audit.export_headers(), audit.export_rows(entries), filters=audit.file_filters(form.filters())
        )
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    for name in ("export", "page"):
        query.pop(name, None)
    return render(
        request,
        "core/audit_log.html",
        {
            "form": form,
            "page": page,
            "rows": audit.describe(page.object_list),
            "query": query.urlencode(),
            "export_limit": audit.EXPORT_LIMIT,
        },
    )
