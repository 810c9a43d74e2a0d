"""The portal's pages for engagements and follow-ups: logging an engagement, the follow-ups list."""

import datetime
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import resolve, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from core import country_codes, ical, roles
from core.conflicts import ConflictError
from core.decorators import login_required_htmx
from core.forms import add_service_errors
from core.i18n import name_order
from core.idempotency import FormSubmission
from core.querystrings import query_without
from countries import services as country_services
from countries.models import Country
from countries.policies import (
    country_writers,
    ensure_can_read,
    ensure_can_write_country,
    user_can_write_country,
    writable_country_ids,
    writers_for_any,
)
from countries.selectors import counterpart_list

from . import calendar, selectors, services
from .forms import (
    FOLLOW_UP_ROWS_MAX,
    EngagementEditForm,
    EngagementForm,
    FollowUpBulkForm,
    FollowUpFilterForm,
    FollowUpForm,
    FollowUpFormSet,
    FollowUpNewForm,
    FollowUpRowForm,
    VoidForm,
)

FOLLOW_UP_VIEWS = {
    "mine": _("Mine"),
    "overdue": _("Overdue"),
    "week": _("Due this week"),
    "all": _("All open"),
    "done": _("Done lately"),
}
DONE_LATELY_DAYS = 30


FOLLOW_UPS_PER_PAGE = 50


def _follow_up_listing(request, *, selected=(), bulk_form=None, status=200):
    """The follow-ups page: a tab (mine, overdue, this week, all open, done lately), the filters, a page of rows;
    with the bulk bar for those who write for a country. ``selected`` and ``bulk_form`` come back from a refused
    bulk action, so the choice is kept."""
    user = request.user
    show = request.GET.get("show") or "mine"
    if show not in FOLLOW_UP_VIEWS:
        show = "mine"
    today = timezone.localdate()
    visible = selectors.follow_up_list(user=user)
    follow_ups = visible.filter(done_at__isnull=True)
    if show == "done":
        since = timezone.now() - datetime.timedelta(days=DONE_LATELY_DAYS)
        follow_ups = visible.filter(done_at__gte=since)
    elif show == "mine":
        follow_ups = follow_ups.filter(owner=user)
    elif show == "overdue":
        follow_ups = follow_ups.filter(due_on__lt=today)
    elif show == "week":
        follow_ups = follow_ups.filter(due_on__gte=today, due_on__lte=today + datetime.timedelta(days=7))
    countries = Country.objects.filter(partnership__isnull=False).order_by(name_order())
    owners = (
        get_user_model()
        .objects.filter(pk__in=visible.filter(owner__isnull=False).values("owner"))
        .order_by("first_name", "last_name", "username")
    )
    filters = FollowUpFilterForm(request.GET, countries=countries, owners=owners)
    filters.is_valid()
    follow_ups = filters.apply(follow_ups)
    follow_ups = follow_ups.order_by("-done_at", "-id") if show == "done" else follow_ups.order_by("due_on", "id")
    page = Paginator(follow_ups, FOLLOW_UPS_PER_PAGE).get_page(request.GET.get("page"))
    writable = writable_country_ids(user)
    for follow_up in page.object_list:
        follow_up.can_complete = user_can_write_country(user, follow_up.country_id)
        follow_up.selected = follow_up.pk in selected
    can_bulk = show != "done" and any(fu.can_complete for fu in page.object_list)  # done ones: reopen one by one
    if bulk_form is None and can_bulk:
        bulk_form = FollowUpBulkForm(None, owners=writers_for_any(writable), limit=services.FOLLOW_UP_BULK_MAX)
    new_for = countries if writable is None else countries.filter(pk__in=writable)
    # Where the page's forms come back to: the list as shown, also when a refused bulk action shows it at its own URL.
    list_path = reverse("follow-ups") + (f"?{request.GET.urlencode()}" if request.GET else "")
    return render(
        request,
        "engagements/follow_ups.html",
        {
            "page": page,
            "show": show,
            "views": FOLLOW_UP_VIEWS,
            "today": today,
            "filters": filters,
            "filter_query": query_without(request.GET, "show", "page"),
            "bulk_form": bulk_form if can_bulk else None,
            "next": list_path,
            "page_path": list_path,  # the language switch comes back here too
            "new_for": list(new_for) if writable != frozenset() else [],
        },
        status=status,
    )


@login_required
def follow_up_list(request):
    """Open follow-ups: mine, overdue, due this week or all that the user may see, filtered by country, track, owner
    and text; each can be marked done inline, and several at once done or given to someone."""
    if not roles.can_read(request.user):
        return render(request, "core/no_role.html", status=403)
    return _follow_up_listing(request)


@login_required
@require_POST
def follow_up_bulk(request):
    """Mark the selected follow-ups done, or give them to someone: all or none. A refusal shows the list again with
    the selection kept and says why; success goes back to the list as it was (tab, filters, page)."""
    ensure_can_read(request.user)
    writable = writable_country_ids(request.user)
    if writable == frozenset():
        raise PermissionDenied(_("Only those who write for a country can change its follow-ups."))
    form = FollowUpBulkForm(request.POST, owners=writers_for_any(writable), limit=services.FOLLOW_UP_BULK_MAX)
    selected = frozenset()
    if form.is_valid():
        selected = frozenset(form.cleaned_data["ids"])
        try:
            if form.cleaned_data["action"] == FollowUpBulkForm.COMPLETE:
                counts = services.follow_ups_complete(actor=request.user, expected_versions=form.expected_versions())
                message = ngettext("%(count)d follow-up marked done.", "%(count)d follow-ups marked done.", counts["done"])
                messages.success(request, message % {"count": counts["done"]})
                if counts["already_done"]:
                    message = ngettext("%(count)d was already done.", "%(count)d were already done.", counts["already_done"])
                    messages.info(request, message % {"count": counts["already_done"]})
            else:
                owner = form.cleaned_data["owner"]
                counts = services.follow_ups_reassign(actor=request.user, expected_versions=form.expected_versions(), owner=owner)
                who = (owner.get_full_name() or owner.get_username()) if owner else _("nobody")
                message = ngettext(
                    "%(count)d follow-up given to %(who)s.", "%(count)d follow-ups given to %(who)s.", counts["changed"]
                )
                messages.success(request, message % {"count": counts["changed"], "who": who})
        except ValidationError as exc:
            add_service_errors(form, exc)
            status = 409 if getattr(exc, "code", None) == "conflict" else 400
        else:
            return _back(request, "follow-ups")
    else:
        status = 400
        selected = frozenset(v for v in form.cleaned_data.get("ids", ()) if isinstance(v, int))
    return _follow_up_listing(_as_list_request(request), selected=selected, bulk_form=form, status=status)


def _as_list_request(request):
    """The bulk POST shown as the list it came from: its tab, filters and page (from ``next``), with the refusal."""
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    request.GET = QueryDict(urlsplit(target).query if safe else "")
    return request


@login_required_htmx
@require_POST
def follow_up_done(request, pk):
    follow_up = get_object_or_404(selectors.follow_up_list(user=request.user), pk=pk)
    partial = request.headers.get("HX-Request") == "true"  # htmx swaps the row in place
    try:
        services.follow_up_complete(actor=request.user, follow_up=follow_up)  # PermissionDenied -> 403
    except ValidationError as exc:
        if partial:
            context = {"follow_up": follow_up, "error": " ".join(exc.messages), "bulk": _shows_bulk(request)}
            return render(request, "engagements/_follow_up_done.html", context, status=422)
        messages.error(request, " ".join(exc.messages))
    else:
        if partial:
            context = {"follow_up": follow_up, "next": request.POST.get("next", ""), "bulk": _shows_bulk(request)}
            return render(request, "engagements/_follow_up_done.html", context)
        messages.success(request, _("Done: %(what)s") % {"what": follow_up.description})
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return HttpResponseRedirect(target) if target and safe else redirect("follow-ups")


def _shows_bulk(request) -> bool:
    """Whether the list a row is swapped into has the bulk column: every tab but "Done lately" (from ``next``)."""
    return "show=done" not in request.POST.get("next", "")


def _writable_country_or_403(request, code) -> Country:
    """The country of the URL, for a user who may write for it (anyone else gets 403, even on GET)."""

    country = get_object_or_404(Country, iso2=country_codes.parse(code) or "")
    ensure_can_write_country(request.user, country)
    return country


def _draft_key(request, country) -> str:
    # Per user and country, so a shared browser never offers one person's draft to another.
    return f"engagement:{country.iso2}:{request.user.pk}"


def _clear_draft(request, country) -> None:
    """The next page tells the browser to drop the form's draft (it was saved)."""
    request.session.setdefault("clear_drafts", []).append(_draft_key(request, country))
    request.session.modified = True


class _Rejected(Exception):
    """A service refused the input; raised inside the transaction to roll it back (errors are on the form)."""


@login_required
def engagement_new(request, code):
    """Log an engagement with its tracks, counterparts (new ones added on the spot) and follow-ups, in one form."""

    country = _writable_country_or_403(request, code)
    today = timezone.localdate()
    data = request.POST if request.method == "POST" else None
    form = EngagementForm(data, country=country, initial={"occurred_on": today})
    owners = list(country_writers(country))
    formset = FollowUpFormSet(data, prefix="fu", form_kwargs={"owners": owners, "default_owner": request.user})
    if data is not None and form.is_valid() and formset.is_valid():
        rows = [row for row in formset.forms if not row.is_blank()]
        once = FormSubmission(request, form.cleaned_data["form_token"])
        try:
            with transaction.atomic():
                if (earlier := once.claim()) is not None:  # sent twice (a double click): show what the first logged
                    _clear_draft(request, country)
                    return once.replay(earlier, _("This engagement had already been logged: it was saved once, shown here."))
                counterparts = list(form.cleaned_data["counterparts"])
                new = form.new_counterpart()
                if new:
                    try:
                        counterparts.append(country_services.counterpart_create(actor=request.user, country=country, **new))
                    except ValidationError as exc:
                        add_service_errors(form, exc, {f: f"new_counterpart_{f}" for f in ("name", "title", "organisation")})
                        raise _Rejected from exc
                try:
                    engagement = services.engagement_log(
                        actor=request.user,
                        country=country,
                        occurred_on=form.cleaned_data["occurred_on"],
                        kind=form.cleaned_data["kind"],
                        summary=form.cleaned_data["summary"],
                        outcome=form.cleaned_data["outcome"],
                        tracks=form.cleaned_data["tracks"],
                        counterparts=counterparts,
                        sensitivity=form.sensitivity(),
                        follow_ups=[{key: row.cleaned_data[key] for key in ("description", "due_on", "owner")} for row in rows],
                    )
                except ValidationError as exc:
                    add_service_errors(form, exc, {"sensitivity": "confidential"}, rows=rows)
                    raise _Rejected from exc
                once.record(reverse("engagement-detail", args=[engagement.pk]))
        except _Rejected:
            pass  # the transaction is rolled back: the quick-added counterpart is not kept either
        else:
            messages.success(
                request,
                _("Engagement of %(date)s logged for %(country)s.")
                % {"date": date_format(engagement.occurred_on), "country": country.name},
            )
            _clear_draft(request, country)
            return redirect(reverse("country-detail", args=[country.iso2.lower()]) + "#timeline-title")
    return render(
        request,
        "engagements/engagement_form.html",
        {"country": country, "form": form, "formset": formset, "draft_key": _draft_key(request, country), "today": today},
        status=400 if data is not None else 200,
    )


@login_required_htmx
@require_POST
def engagement_counterpart_add(request, code):
    """htmx: add the counterpart typed in the quick-add fields now, and give back the picker with them ticked."""

    country = _writable_country_or_403(request, code)
    data = request.POST.copy()
    # The quick-add fields go through the engagement form's own fields (length, NUL bytes); the rest of the
    # form may still be half-filled, so only their errors count here.
    checked = EngagementForm(data, country=country)
    checked.is_valid()
    new = {f: checked.cleaned_data.get(f"new_counterpart_{f}") or "" for f in ("name", "title", "organisation")}
    error_form = None
    if any(checked.has_error(f"new_counterpart_{f}") for f in ("name", "title", "organisation")):
        error_form = checked
    elif not new["name"]:
        error_form = EngagementForm(data, country=country)
        if not error_form.has_error("new_counterpart_name"):
            error_form.add_error("new_counterpart_name", _("Give the new counterpart's name."))
    else:
        once = FormSubmission(request, checked.cleaned_data.get("form_token"))
        try:
            with transaction.atomic():
                earlier = once.claim()
                if earlier is None:
                    counterpart = country_services.counterpart_create(actor=request.user, country=country, **new)
                    once.record(reverse("counterpart-edit", args=[country.iso2.lower(), counterpart.pk]))
                else:  # "Add" clicked twice: tick the one the first click added
                    counterpart = counterpart_list(country=country).filter(pk=resolve(earlier).kwargs["pk"]).first()
                    if counterpart is None:  # merged into another since
                        raise ValidationError({"name": _("The counterpart added a moment ago is no longer on record.")})
        except ValidationError as exc:
            error_form = EngagementForm(data, country=country)
            add_service_errors(error_form, exc, {f: f"new_counterpart_{f}" for f in ("name", "title", "organisation")})
        else:
            data.setlist("counterparts", [*data.getlist("counterparts"), str(counterpart.pk)])
            for field in EngagementForm.QUICK_ADD:
                data[field] = ""
            form = EngagementForm(data, country=country)
            return render(
                request,
                "engagements/_counterpart_picker.html",
                {"form": form, "country": country, "added": counterpart},
            )
    error_form.fields["new_counterpart_name"].widget.attrs["data-focus"] = ""  # back to the field to correct
    return render(request, "engagements/_counterpart_picker.html", {"form": error_form, "country": country}, status=422)


@login_required_htmx
def engagement_follow_up_row(request, code):
    """htmx: one more empty follow-up row for the engagement form (and the formset's new total)."""

    country = _writable_country_or_403(request, code)
    try:
        index = int(request.GET.get("fu-TOTAL_FORMS", ""))
    except ValueError:
        return HttpResponse(_("The number of rows is missing."), status=400, content_type="text/plain; charset=utf-8")
    if not 0 <= index < FOLLOW_UP_ROWS_MAX:
        return HttpResponse(status=204)
    row = FollowUpRowForm(
        prefix=f"fu-{index}", owners=list(country_writers(country)), default_owner=request.user, use_required_attribute=False
    )
    context = {"row": row, "index": index, "total": index + 1, "oob": True, "country": country}
    return render(request, "engagements/_follow_up_row.html", context)


@login_required
def engagement_edit(request, pk):
    """Correct an engagement with the form that logged it (new counterparts added on the spot). The version the page
    showed goes to the service: a save after someone else's answers 409 with the typed values kept."""
    user = request.user
    if not roles.can_read(user):
        return render(request, "core/no_role.html", status=403)
    engagement = get_object_or_404(selectors.engagement_list(user=user), pk=pk)  # one they may not see: 404
    country = engagement.country
    ensure_can_write_country(user, country)
    data = request.POST if request.method == "POST" else None
    form = EngagementEditForm(data, country=country, engagement=engagement)
    status = 400 if data is not None else 200
    if data is not None and form.is_valid():
        try:
            with transaction.atomic():
                counterparts = list(form.cleaned_data["counterparts"])
                new = form.new_counterpart()
                if new:
                    try:
                        counterparts.append(country_services.counterpart_create(actor=user, country=country, **new))
                    except ValidationError as exc:
                        add_service_errors(form, exc, {f: f"new_counterpart_{f}" for f in ("name", "title", "organisation")})
                        raise _Rejected from exc
                try:
                    services.engagement_update(
                        actor=user,
                        engagement=engagement,
                        expected_version=form.cleaned_data["version"],
                        occurred_on=form.cleaned_data["occurred_on"],
                        kind=form.cleaned_data["kind"],
                        summary=form.cleaned_data["summary"],
                        outcome=form.cleaned_data["outcome"],
                        sensitivity=form.sensitivity(),
                        tracks=form.cleaned_data["tracks"],
                        counterparts=counterparts,
                    )
                except ConflictError:
                    raise
                except ValidationError as exc:
                    add_service_errors(form, exc, {"sensitivity": "confidential"})
                    raise _Rejected from exc
        except ConflictError as exc:
            # Someone saved it after this page was shown: keep what was typed, show what is stored now, and let a
            # second save apply the typed values to it (on purpose, having seen it).
            engagement = exc.current
            form.add_error(None, exc.messages[0])
            form.take_version(engagement.version)
            status = 409
        except _Rejected:
            pass  # rolled back: a counterpart quick-added with it is not kept either
        else:
            messages.success(request, _("Engagement of %(date)s saved.") % {"date": date_format(engagement.occurred_on)})
            return redirect("engagement-detail", pk=engagement.pk)
    return render(
        request,
        "engagements/engagement_edit.html",
        {"country": country, "engagement": engagement, "form": form, "today": timezone.localdate()},
        status=status,
    )


def _voidable(request, pk):
    """The engagement of the URL, voided or not, for those who may see it that way (else 404; 403 without a role)."""
    ensure_can_read(request.user)
    return get_object_or_404(selectors.engagement_list(user=request.user, include_voided=True), pk=pk)


@login_required
@require_POST
def engagement_void(request, pk):
    """Void an engagement with a reason (anyone who writes for its country); it leaves every list and figure."""
    engagement = _voidable(request, pk)
    form = VoidForm(request.POST)
    if form.is_valid():
        try:
            services.engagement_void(actor=request.user, engagement=engagement, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The engagement was voided. Programme staff can restore it."))
            return redirect("country-detail", code=engagement.country.iso2.lower())
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("engagement-detail", pk=engagement.pk)


@login_required
@require_POST
def engagement_restore(request, pk):
    """Bring a voided engagement back (programme staff)."""
    engagement = _voidable(request, pk)
    try:
        services.engagement_restore(actor=request.user, engagement=engagement)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The engagement was restored."))
    return redirect("engagement-detail", pk=engagement.pk)


def _back(request, fallback: str):
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return HttpResponseRedirect(target) if target and safe else redirect(fallback)


@login_required_htmx
@require_POST
def follow_up_reopen(request, pk):
    """Open a follow-up marked done again (the "Undo" right after marking it done, or later from "Done lately")."""
    follow_up = get_object_or_404(selectors.follow_up_list(user=request.user), pk=pk)
    try:
        services.follow_up_reopen(actor=request.user, follow_up=follow_up)  # PermissionDenied -> 403
    except ValidationError as exc:
        if request.headers.get("HX-Request") == "true":
            context = {"follow_up": follow_up, "error": " ".join(exc.messages), "bulk": _shows_bulk(request)}
            return render(request, "engagements/_follow_up_done.html", context, status=422)
        messages.error(request, " ".join(exc.messages))
    else:
        if request.headers.get("HX-Request") == "true":
            follow_up.can_complete = True
            context = {
                "fu": follow_up,
                "today": timezone.localdate(),
                "next": request.POST.get("next", ""),
                "bulk": _shows_bulk(request),
            }
            return render(request, "engagements/_follow_up_list_row.html", context)
        messages.success(request, _("Open again: %(what)s") % {"what": follow_up.description})
    return _back(request, "follow-ups")


def _follow_up_form_page(request, country, form, *, follow_up=None, status=200, back=""):
    safe = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    context = {"country": country, "form": form, "follow_up": follow_up, "next": back if back and safe else ""}
    return render(request, "engagements/follow_up_form.html", context, status=status)


@login_required
def follow_up_new(request, code):
    """Add a follow-up for a country without logging an engagement."""
    country = _writable_country_or_403(request, code)
    form = FollowUpNewForm(request.POST or None, country=country, initial={"owner": request.user.pk})
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.service_data().items() if k != "version"}
        once = FormSubmission(request, form.cleaned_data["form_token"])
        try:
            with transaction.atomic():
                if (earlier := once.claim()) is not None:
                    return once.replay(earlier, _("This follow-up had already been added: it was saved once, shown here."))
                follow_up = services.follow_up_create(actor=request.user, country=country, **data)
                once.record(reverse("follow-up-edit", args=[follow_up.pk]))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Follow-up added: %(what)s") % {"what": data["description"]})
            return redirect(reverse("country-detail", args=[country.iso2.lower()]) + "#follow-ups-title")
    return _follow_up_form_page(request, country, form, status=400 if request.method == "POST" else 200)


@login_required
def follow_up_new_for(request):
    """The "add a follow-up for…" choice of the follow-ups page: on to that country's form."""
    code = (request.GET.get("country") or "").strip().lower()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        messages.error(request, _("Choose a country."))
        return redirect("follow-ups")
    return redirect("follow-up-new", code=code)


@login_required
def follow_up_edit(request, pk):
    """Reword, reschedule or reassign a follow-up, or change its track; a save after someone else's answers 409."""
    ensure_can_read(request.user)
    follow_up = get_object_or_404(selectors.follow_up_list(user=request.user), pk=pk)
    country = follow_up.country
    ensure_can_write_country(request.user, country)
    initial = {
        "version": follow_up.version,
        "description": follow_up.description,
        "due_on": follow_up.due_on,
        "owner": follow_up.owner_id,
        "track": follow_up.track_id,
    }
    form = FollowUpForm(request.POST or None, country=country, follow_up=follow_up, initial=initial)
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        expected = form.cleaned_data["version"]
        # Only what was changed: an owner who has left the country stays until someone picks another.
        data = {name: form.cleaned_data[name] for name in form.changed_data if name != "version"}
        try:
            services.follow_up_update(actor=request.user, follow_up=follow_up, expected_version=expected, **data)
        except ConflictError as exc:
            form.add_error(None, exc.messages[0])
            form.take_version(exc.current.version)
            status = 409
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Follow-up saved: %(what)s") % {"what": follow_up.description})
            return _back(request, "follow-ups")
    back = request.POST.get("next") or request.GET.get("next") or ""
    return _follow_up_form_page(request, country, form, follow_up=follow_up, status=status, back=back)


@login_required
@require_safe
def follow_up_calendar(request, pk):
    """One follow-up as an .ics file, for its reader's own calendar: its text, unless its engagement is confidential
    (then as neutral as the feeds: ``calendar.follow_up_entry``). One the reader may not see: 404."""
    follow_up = get_object_or_404(selectors.follow_up_list(user=request.user), pk=pk)
    entry = calendar.follow_up_entry(follow_up, neutral=False)
    return ical.response(request, [entry], name=entry.summary, filename=f"follow-up-{follow_up.pk}.ics")


@login_required
@require_safe
def engagement_calendar(request, pk):
    """One engagement on its day, with its open follow-ups, as an .ics file (not a voided one, nor one the reader may
    not see: 404). The same UIDs as the feeds, so importing it again updates the events instead of adding more."""
    engagement = get_object_or_404(selectors.engagement_list(user=request.user), pk=pk)
    follow_ups = selectors.follow_up_list(user=request.user).filter(engagement=engagement, done_at__isnull=True)
    entries = [calendar.engagement_entry(engagement)]
    entries += [calendar.follow_up_entry(fu, neutral=False) for fu in follow_ups.order_by("due_on", "id")]
    return ical.response(request, entries, name=entries[0].summary, filename=f"engagement-{engagement.pk}.ics")
