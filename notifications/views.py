from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .describe import Describer
from .emails import user_from_token
from .forms import PreferencesForm
from .models import Notification, Preference, Subscription
from .services import notifications_mark_read, preferences_update, unsubscribe_from_email


@login_required
def inbox(request):
    """The user's notifications, newest first, unread ones marked."""
    show = request.GET.get("show", "all")
    notes = Notification.objects.filter(user=request.user).select_related("event").order_by("-created_at", "-id")
    if show == "unread":
        notes = notes.filter(read_at__isnull=True)
    page = Paginator(notes, 30).get_page(request.GET.get("page"))
    describer = Describer([n.event for n in page.object_list])
    rows = [
        {"notification": n, "text": describer.describe(n.event), "link": describer.link(n.event, request.user)}
        for n in page.object_list
    ]
    return render(request, "notifications/inbox.html", {"page": page, "rows": rows, "show": show})


@login_required
@require_POST
def mark_read(request, pk):
    notifications_mark_read(actor=request.user, ids=[pk])
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return HttpResponseRedirect(target) if target and safe else redirect("notifications:inbox")


@login_required
@require_POST
def mark_all_read(request):
    count = notifications_mark_read(actor=request.user)
    message = ngettext("%(count)s notification marked as read.", "%(count)s notifications marked as read.", count)
    messages.success(request, message % {"count": count})
    return redirect("notifications:inbox")


@login_required
def preferences(request):
    pref = Preference.objects.filter(user=request.user).first()
    subs = Subscription.objects.filter(user=request.user)
    initial = {
        "email_frequency": pref.email_frequency if pref else Preference.Frequency.DAILY,
        "language": pref.language if pref else (request.LANGUAGE_CODE or "en"),
        "programme": subs.filter(scope=Subscription.Scope.PROGRAMME).exists(),
        "countries": [s.country_id for s in subs if s.scope == Subscription.Scope.COUNTRY],
        "tracks": [s.track_id for s in subs if s.scope == Subscription.Scope.TRACK],
    }
    form = PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        preferences_update(actor=request.user, **form.cleaned_data)
        messages.success(request, _("Your notification settings were saved."))
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form})


@csrf_exempt  # one-click unsubscribe (RFC 8058) posts from the mail client; the signed token is the credential
def unsubscribe(request, token):
    """One-click unsubscribe from the link in every e-mail (no sign-in needed; the link is signed)."""
    try:
        user = user_from_token(token)
    except (signing.BadSignature, Exception):  # noqa: BLE001 - any bad or stale token gets the same answer
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=400)
    if request.method == "POST":
        unsubscribe_from_email(user=user)
        return render(request, "notifications/unsubscribe.html", {"done": True, "account": user})
    return render(request, "notifications/unsubscribe.html", {"account": user, "token": token})
