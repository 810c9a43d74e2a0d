"""Drafting, scheduling and publishing announcements in the portal (staff; liaisons draft for their countries)."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import F, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core import country_codes, roles
from core.conflicts import ConflictError
from core.decorators import login_required_htmx
from core.forms import add_service_errors
from core.i18n import name_order
from core.idempotency import FormSubmission
from countries.models import Country
from countries.policies import writable_country_ids

from . import policies, services
from .forms import AnnouncementEditForm, AnnouncementNewForm, ScheduleForm, WithdrawForm
from .models import Announcement
from .selectors import announcement_list

STATUS_TABS = {"": gettext_lazy("All"), **dict(Announcement.Status.choices)}


def _writer_or_403(user) -> None:
    if not policies.can_write_announcements(user):
        raise PermissionDenied(_("Only programme staff and liaisons write announcements."))


def _country_choices(user):
    writable = writable_country_ids(user)
    countries = Country.objects.order_by(name_order())
    return countries if writable is None else countries.filter(pk__in=writable)


# order key -> (label, ordering)
MANAGE_ORDERS = {
    "-created": (gettext_lazy("Newest drafted first"), ("-created_at", "-id")),
    "created": (gettext_lazy("Oldest drafted first"), ("created_at", "id")),
    "-published": (gettext_lazy("Latest published first"), (F("published_at").desc(nulls_last=True), "-id")),
    "embargo": (gettext_lazy("Embargo ending soonest"), (F("embargo_until").asc(nulls_last=True), "-id")),
    "title": (gettext_lazy("Title"), ("title", "id")),
}


@login_required_htmx
def manage(request):
    """Every announcement the user may see, by status (drafts, scheduled with their embargo, published, withdrawn)."""
    _writer_or_403(request.user)
    status = request.GET.get("status") or ""
    if status not in STATUS_TABS:
        status = ""
    items = announcement_list(user=request.user).prefetch_related(None).prefetch_related("countries")
    if status:
        items = items.filter(status=status)
    q = (request.GET.get("q") or "").strip()[:100].replace("\x00", "")
    if q:
        items = items.filter(Q(title__icontains=q) | Q(body__icontains=q))
    countries = (
        _country_choices(request.user)
        if roles.is_programme_staff(request.user)
        else Country.objects.filter(announcements__in=items).distinct().order_by(name_order())
    )
    country = country_codes.parse(request.GET.get("country")) or ""
    if country:
        named = Announcement.countries.through.objects.filter(country__iso2=country).values("announcement_id")
        items = items.filter(pk__in=named)
    order = request.GET.get("order") or "-created"
    if order not in MANAGE_ORDERS:
        order = "-created"
    page = Paginator(items.order_by(*MANAGE_ORDERS[order][1]), 30).get_page(request.GET.get("page"))
    return render(
        request,
        "announcements/announcements_manage.html",
        {
            "page": page, "status": status, "tabs": STATUS_TABS, "time_zone": settings.TIME_ZONE, "q": q,
            "country": country.lower(), "countries": countries, "order": order, "orders": MANAGE_ORDERS,
        },
    )  # fmt: skip


@login_required_htmx
def new(request):
    _writer_or_403(request.user)
    form = AnnouncementNewForm(request.POST or None, countries=_country_choices(request.user))
    if request.method == "POST" and form.is_valid():
        once = FormSubmission(request, form.cleaned_data["form_token"])
        try:
            with transaction.atomic():
                if (earlier := once.claim()) is not None:
                    return once.replay(earlier, _("This draft had already been saved: it was saved once, shown here."))
                announcement = services.announcement_create(actor=request.user, **form.service_data())
                once.record(reverse("announcement-edit", args=[announcement.pk]))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Draft saved: %(title)s") % {"title": announcement.title})
            return redirect("announcement-edit", pk=announcement.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "announcements/announcement_form.html", {"form": form}, status=status)


def _editable(request, pk) -> Announcement:
    _writer_or_403(request.user)
    return get_object_or_404(announcement_list(user=request.user), pk=pk)


def _revisions_for(user, announcement, staff: bool) -> list:
    """Every revision for staff and the liaisons of the announcement's countries (who may write it); to another
    country's liaison, only those made after publication, as on the public page: the wording it had under
    embargo was never theirs to read."""
    revisions = announcement.revisions.select_related("edited_by").order_by("-number")
    countries = {country.pk for country in announcement.countries.all()}
    if not policies.writes_for_any(user, countries):
        revisions = revisions.filter(published=True)
    return list(revisions[:50])


def _edit_page(request, announcement, *, form=None, schedule_form=None, withdraw_form=None, status=200):
    staff = roles.is_programme_staff(request.user)
    if form is None:
        form = AnnouncementEditForm(
            countries=_country_choices(request.user),
            initial={
                "version": announcement.version,
                "title": announcement.title,
                "body": announcement.body,
                "countries": list(announcement.countries.all()),
                "tracks": list(announcement.tracks.all()),
                "agreements": list(announcement.agreements.all()),
                "facilities": list(announcement.facilities.all()),
                "is_public": announcement.is_public,
                "source_url": announcement.source_url,
            },
        )
    can_edit = staff or announcement.status == Announcement.Status.DRAFT
    return render(
        request,
        "announcements/announcement_edit.html",
        {
            "announcement": announcement,
            "form": form,
            "can_edit": can_edit,
            "staff": staff,
            "schedule_form": schedule_form or ScheduleForm(initial={"embargo_until": announcement.embargo_until}),
            "withdraw_form": withdraw_form or WithdrawForm(),
            "revisions": _revisions_for(request.user, announcement, staff),
            "time_zone": settings.TIME_ZONE,
            "now": timezone.now(),
        },
        status=status,
    )


@login_required_htmx
def edit(request, pk):
    announcement = _editable(request, pk)
    if request.method != "POST":
        return _edit_page(request, announcement)
    form = AnnouncementEditForm(request.POST, countries=_country_choices(request.user))
    status = 400
    if form.is_valid():
        fields = dict(form.cleaned_data)
        # The version the page showed: the service refuses the save if someone changed the announcement since.
        expected_version = fields.pop("version")
        try:
            services.announcement_update(
                actor=request.user, announcement=announcement, expected_version=expected_version, **fields
            )
        except ConflictError as exc:
            # Keep what the user typed; the page shows the announcement as it is now, and a second save applies
            # the typed text to it (on purpose, having seen it).
            announcement = exc.current
            form.add_error(None, exc.messages[0])
            form.take_version(announcement.version)
            status = 409
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("announcement-edit", pk=announcement.pk)
    return _edit_page(request, announcement, form=form, status=status)


def _action(request, pk, form_class, service, page_form: str, done) -> object:
    """A staff action with a small form on the edit page (schedule, withdraw): the service decides; on a refusal
    the page comes back with the form, its typed values and the error; ``done(cleaned_data)`` is the message."""
    announcement = _editable(request, pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            service(actor=request.user, announcement=announcement, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, done(form.cleaned_data))
            return redirect("announcement-edit", pk=announcement.pk)
    return _edit_page(request, announcement, **{page_form: form}, status=400)


def _scheduled_message(data) -> str:
    when = timezone.localtime(data["embargo_until"])
    return _("Scheduled: published automatically on %(when)s (%(zone)s).") % {
        "when": when.strftime("%Y-%m-%d %H:%M"),
        "zone": settings.TIME_ZONE,
    }


@login_required_htmx
@require_POST
def schedule(request, pk):
    return _action(request, pk, ScheduleForm, services.announcement_schedule, "schedule_form", _scheduled_message)


@login_required_htmx
@require_POST
def publish(request, pk):
    announcement = _editable(request, pk)
    try:
        services.announcement_publish(actor=request.user, announcement=announcement)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Published."))
    return redirect("announcement-edit", pk=announcement.pk)


@login_required_htmx
@require_POST
def withdraw(request, pk):
    return _action(request, pk, WithdrawForm, services.announcement_withdraw, "withdraw_form", lambda data: _("Withdrawn."))
