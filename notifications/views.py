from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from core import ical
from core.forms import add_service_errors
from core.idempotency import FormSubmission
from core.mfa.views import recent_second_factor_redirect

from .calendars import feed_calendar
from .describe import Describer
from .emails import user_from_token
from .forms import CalendarFeedForm, PreferencesForm
from .models import CalendarFeed, Notification, Preference, Subscription
from .services import (
    calendar_feed_create,
    calendar_feed_find,
    calendar_feed_mark_used,
    calendar_feed_revoke,
    notifications_mark_read,
    preferences_update,
    unsubscribe_from_email,
)


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


def _recent_second_factor_missing(request):
    """A feed's address is a long-lived credential handed to a third party's calendar server: creating one asks for a
    second factor verified recently (core/mfa/policies.py); the redirect to verify it (and come back), else None."""
    return recent_second_factor_redirect(request)


@never_cache  # the page that shows a feed's address once must not be kept by any cache
@login_required
def calendar_feeds(request):
    """A signed-in user's calendar feeds: create one (its address shown once), see when each was used, revoke it."""
    form = CalendarFeedForm(request.POST or None)
    new_url = None
    if request.method == "POST" and form.is_valid():
        if (confirm := _recent_second_factor_missing(request)) is not None:
            return confirm
        once = FormSubmission(request, form.cleaned_data["form_token"])
        try:
            with transaction.atomic():
                if (earlier := once.claim()) is not None:
                    # The address was shown once, in the first answer, and is not stored: it cannot be shown again.
                    return once.replay(
                        earlier,
                        _("This feed had already been created, and its address shown once then. If you did not copy "
                          "it, revoke the feed and create another."),
                    )  # fmt: skip
                feed, secret = calendar_feed_create(actor=request.user, **form.service_data())
                once.record(reverse("calendar-feeds"))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            new_url = ical.absolute(reverse("calendar-feed", args=[secret]))
            messages.success(
                request, _("Feed “%(name)s” created. Copy its address now: it will not be shown again.") % {"name": feed.name}
            )
            form = CalendarFeedForm()
    feeds = CalendarFeed.objects.filter(user=request.user, revoked_at__isnull=True).order_by("-created_at", "-id")
    return render(
        request,
        "notifications/calendar_feeds.html",
        {"form": form, "feeds": feeds, "new_url": new_url, "new_webcal": new_url and "webcal" + new_url[new_url.index(":") :]},
    )


@login_required
@require_POST
def calendar_feed_revoke_view(request, pk):
    feed = get_object_or_404(CalendarFeed, pk=pk, user=request.user, revoked_at__isnull=True)
    calendar_feed_revoke(actor=request.user, feed=feed)
    messages.success(request, _("Feed “%(name)s” revoked: its address answers nothing from now on.") % {"name": feed.name})
    return redirect("calendar-feeds")


@require_safe
def calendar_feed(request, secret):
    """The feed itself, for calendar servers and apps: no session, the secret in the address is the credential.
    Unknown, revoked, or of a deactivated user: 404, the same answer for each."""
    feed = calendar_feed_find(secret)
    if feed is None:
        raise Http404
    name, entries = feed_calendar(feed)
    calendar_feed_mark_used(feed=feed)
    return ical.response(request, entries, name=name, filename="partnership-portal.ics", subscribed=True)
