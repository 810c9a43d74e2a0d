"""The public side of the portal (no sign-in): published public announcements and their feeds."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from core import country_codes
from core.i18n import name_order
from countries.models import Country
from tracks.models import Track

from . import policies
from .selectors import public_announcements
from .services import release_due_without_beat


def announcement_list(request):
    """Published public announcements, newest first, filterable by country and track."""
    release_due_without_beat()
    announcements = public_announcements()
    asked = (request.GET.get("country") or "").strip()
    code = country_codes.parse(asked)
    key = (request.GET.get("track") or "").strip()[:50]
    country = Country.objects.filter(iso2=code).first() if code else None
    track = Track.objects.filter(key=key, is_active=True).first() if key else None
    if country:
        announcements = announcements.filter(countries=country)
    if track:
        announcements = announcements.filter(tracks=track)
    page = Paginator(announcements, 20).get_page(request.GET.get("page"))
    countries = Country.objects.filter(announcements__in=public_announcements().values("pk")).distinct().order_by(name_order())
    return render(
        request,
        "public/announcements.html",
        {
            "page": page,
            "country": country,
            "track": track,
            "unknown_filter": bool((asked and not country) or (key and not track)),
            "countries": countries,
            "tracks": Track.objects.filter(is_active=True).order_by("position"),
            "can_manage": policies.can_write_announcements(request.user),
        },
    )


def announcement_detail(request, pk):
    release_due_without_beat()
    announcement = get_object_or_404(public_announcements(), pk=pk)
    revisions = list(announcement.revisions.filter(published=True).order_by("-number"))
    return render(request, "public/announcement.html", {"announcement": announcement, "revisions": revisions})
