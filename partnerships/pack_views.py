"""Briefing packs: ask for the briefs of several countries as one PDF, follow its progress, download it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.forms import add_service_errors
from countries.policies import can_manage_groupings, ensure_can_read

from . import packs, policies
from .pack_forms import BriefingPackForm


@login_required
def pack_request_view(request):
    """Choose a region, a grouping or countries; the pack is built by a task and its page shows its progress."""
    ensure_can_read(request.user)
    form = BriefingPackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        countries, label = form.chosen()
        try:
            pack = packs.pack_request(actor=request.user, countries=countries, label=label)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("briefing-pack", pk=pack.pk)
    context = {
        "form": form,
        "packs": policies.packs_of(request.user)[:20],
        "keep_days": packs.PACK_KEEP_DAYS,
        "limit": packs.pack_limit(),
        "can_manage_groupings": can_manage_groupings(request.user),
    }
    return render(request, "partnerships/packs.html", context)


@login_required
def pack_detail(request, pk):
    """One pack's progress (polled by htmx while it is built; without script the page is reloaded), failure or
    download link. Anyone but its requester: 404."""
    ensure_can_read(request.user)
    pack = get_object_or_404(policies.packs_of(request.user), pk=pk)
    context = {"pack": pack, "keep_days": packs.PACK_KEEP_DAYS}
    if request.headers.get("HX-Request"):
        return render(request, "partnerships/_pack_status.html", context)
    return render(request, "partnerships/pack.html", context)


@login_required
def pack_pdf(request, pk):
    """The pack's PDF, for its requester only (404 for anyone else, and while it is not ready)."""
    ensure_can_read(request.user)
    pack = get_object_or_404(policies.packs_of(request.user).filter(status="ready", pdf__isnull=False), pk=pk)
    response = HttpResponse(bytes(pack.pdf), content_type="application/pdf")
    stamp = timezone.localtime(pack.finished_at or pack.created_at)
    response["Content-Disposition"] = f'attachment; filename="briefing-pack-{pack.pk}-{stamp:%Y-%m-%d-%H%M}.pdf"'
    return response


@login_required
@require_POST
def pack_retry_view(request, pk):
    """Build a failed pack again."""
    ensure_can_read(request.user)
    pack = get_object_or_404(policies.packs_of(request.user), pk=pk)
    try:
        packs.pack_retry(actor=request.user, pack=pack)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("briefing-pack", pk=pack.pk)
