import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core import roles
from core.conflicts import ConflictError
from core.decorators import login_required_htmx
from core.forms import add_service_errors
from core.pagecache import cached_page
from countries.models import Country
from countries.selectors import assigned_country_ids, country_status_list

from . import selectors, services
from .models import Stage, StageChange

PIPELINE_ORDERING = {
    "name": ("country__name_en",),
    "-readiness": ("-readiness", "country__name_en"),
    "region": ("country__region", "country__name_en"),
    "-last_engagement": ("-last_engagement_on", "country__name_en"),
}


@login_required
def home(request):
    """The page a signed-in user lands on: their countries, their follow-ups, and the pipeline."""
    user = request.user
    if not roles.can_read(user):
        return render(request, "partnerships/no_role.html", status=403)

    my_ids = assigned_country_ids(user)
    my_cells = []
    if my_ids:
        my_cells = list(
            selectors.country_track_list()
            .filter(country_id__in=my_ids, track__is_active=True)
            .order_by("country__name_en", "track__position")
        )
    my_countries = {}
    for cell in my_cells:
        my_countries.setdefault(cell.country, []).append(cell)

    follow_ups = list(selectors.open_follow_ups(user=user, owner=user)[:10])
    latest_engagements = []
    if my_ids:
        latest_engagements = list(
            selectors.engagement_list(user=user)
            .filter(country_id__in=my_ids)
            .prefetch_related(None)  # the home page shows no tracks or people of an engagement
            .order_by("-occurred_on", "-id")[:10]
        )

    q = (request.GET.get("q") or "").strip()[:100]
    order = request.GET.get("order") or "name"
    if order not in PIPELINE_ORDERING:
        order = "name"
    statuses = country_status_list().order_by(*PIPELINE_ORDERING[order])
    if q:
        statuses = statuses.filter(
            Q(country__name_en__icontains=q) | Q(country__name_fr__icontains=q) | Q(country__iso2__iexact=q)
        )
    page = Paginator(statuses, 50).get_page(request.GET.get("page"))
    # The rollup stores stage keys; show their names in the reader's language.
    stage_names = {stage.key: stage.name for stage in Stage.objects.filter(kind=Stage.Kind.LADDER).order_by("-track__position")}
    for status in page.object_list:
        status.furthest_stage_label = stage_names.get(status.furthest_stage_key, status.furthest_stage_name)
    return render(
        request,
        "partnerships/home.html",
        {
            "my_countries": my_countries,
            "follow_ups": follow_ups,
            "latest_engagements": latest_engagements,
            "today": timezone.localdate(),
            "page": page,
            "q": q,
            "order": order,
        },
    )


TIMELINE_KINDS = {
    "engagement": _("Engagements"),
    "stage": _("Stage changes"),
    "agreement": _("Agreements"),
    "announcement": _("Announcements"),
}
TIMELINE_LIMIT = 60


@login_required
@cached_page(before=services.release_due_without_beat)
def country_detail(request, code):
    """A country: its status, each track's ladder and history, one timeline, counterparts, follow-ups, facilities."""
    if not roles.can_read(request.user):
        return render(request, "partnerships/no_role.html", status=403)
    country = get_object_or_404(Country.objects.select_related("status", "partnership"), iso2=(code or "").upper()[:2])
    return render(request, "partnerships/country_detail.html", _country_context(request, country))


@login_required
@require_POST
def country_track_change(request, code, track):
    """Move, pause, resume or withdraw a track from the country page; on a refusal the page comes back with the
    typed values and the error next to its field."""
    country = get_object_or_404(Country.objects.select_related("status", "partnership"), iso2=(code or "").upper()[:2])
    from countries.selectors import ensure_can_write_country

    ensure_can_write_country(request.user, country)  # a forged POST by someone else gets 403
    context = _country_context(request, country, bound_track=track)
    cell = next((c for c in context["cells"] if c.track.key == track), None)
    if cell is None:
        raise Http404
    form = cell.form
    status = 400
    if form.is_valid():
        data, user = form.cleaned_data, request.user
        # The version the page showed: the service refuses the change if someone saved the track since.
        seen = {"actor": user, "country_track": cell, "expected_version": data["version"]}
        try:
            if data["action"] == "move":
                to_stage = next((s for s in cell.ladder if s.key == data["to_stage"]), None)
                if to_stage is None:
                    raise ValidationError({"to_stage": _("Choose the stage to move to.")})
                evidence = _evidence(user, country, data["evidence"])
                services.country_track_move(**seen, to_stage=to_stage, note=data["note"], **evidence)
            elif data["action"] == "pause":
                services.country_track_pause(**seen, reason=data["reason"], resume_on=data["resume_on"])
            elif data["action"] == "resume":
                services.country_track_resume(**seen, note=data["note"])
            else:
                services.country_track_withdraw(**seen, reason=data["reason"])
        except ConflictError as exc:
            # Someone saved the track after this page was shown: say where it stands now (the card shows the
            # current stage), keep what the user typed, and let a second save apply it to the current state.
            _show_current(cell, exc.current)
            form.add_error(None, exc.messages[0])
            form.take_version(exc.current.version)
            cell.conflict = True
            status = 409
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(track)s: saved.") % {"track": cell.track.name})
            return redirect("country-detail", code=country.iso2.lower())
    return render(request, "partnerships/country_detail.html", context, status=status)


def _show_current(cell, current) -> None:
    """Show the cell as the service found it under its lock (it may have changed again since the page was read)."""
    for name in ("stage_id", "ladder_stage_id", "stage_changed_at", "pause_reason", "resume_on", "version"):
        setattr(cell, name, getattr(current, name))
    cell.stage, cell.ladder_stage = current.stage, current.ladder_stage


EVIDENCE_LIMIT = 20


def _evidence_choices(user, country) -> list:
    """What a stage move can point to as evidence: the country's latest engagements, agreements and announcements."""
    engagements = selectors.engagement_list(user=user).filter(country=country).prefetch_related(None)
    agreements = selectors.agreement_list().filter(country=country).prefetch_related(None)
    # Only what is published can be cited: evidence shows on the country page, which many people read.
    announcements = (
        selectors.announcement_list(user=user)
        .filter(selectors.published_announcements_q(), countries=country)
        .prefetch_related(None)
    )
    groups = [
        (_("Engagements"), [(f"engagement:{e.pk}", f"{date_format(e.occurred_on)} · {e.get_kind_display()}: {e.summary[:60]}")
                            for e in engagements.order_by("-occurred_on", "-id")[:EVIDENCE_LIMIT]]),
        (_("Agreements"), [(f"agreement:{a.pk}", f"{date_format(a.signed_on)} · {a.title[:70]}")
                           for a in agreements.order_by("-signed_on", "-id")[:EVIDENCE_LIMIT]]),
        (_("Announcements"), [(f"announcement:{a.pk}", a.title[:80])
                              for a in announcements.order_by("-created_at", "-id")[:EVIDENCE_LIMIT]]),
    ]  # fmt: skip
    return [(label, options) for label, options in groups if options]


def _evidence(user, country, value: str) -> dict:
    """The service's evidence argument for a chosen "kind:id" (only among what the user may see of the country)."""
    kind, _sep, pk = (value or "").partition(":")
    sources = {
        "engagement": selectors.engagement_list(user=user).filter(country=country),
        "agreement": selectors.agreement_list().filter(country=country),
        "announcement": selectors.announcement_list(user=user).filter(selectors.published_announcements_q(), countries=country),
    }
    if kind not in sources or not pk.isdigit():
        return {}
    item = sources[kind].filter(pk=int(pk)).first()
    if item is None:
        raise ValidationError({"evidence": _("Choose evidence from the list.")})
    return {f"evidence_{kind}": item}


def _country_context(request, country, bound_track=None) -> dict:
    from countries.selectors import counterpart_list, user_can_write_country
    from infrastructure.selectors import facility_list

    from .forms import StageMoveForm

    user = request.user
    track_filter = request.GET.get("track") or ""
    kind_filter = request.GET.get("kind") or ""
    if kind_filter not in TIMELINE_KINDS:
        kind_filter = ""
    can_write = user_can_write_country(user, country)

    cells = list(selectors.country_track_list().filter(country=country, track__is_active=True).order_by("track__position"))
    stages = {stage.pk: stage for stage in Stage.objects.filter(track_id__in=[c.track_id for c in cells]).order_by("position")}
    ladders = {}
    for stage in stages.values():
        if stage.kind == Stage.Kind.LADDER:
            ladders.setdefault(stage.track_id, []).append(stage)
    # The cells and stages are in hand: the history joins only what it does not have (a query with nine joins
    # took PostgreSQL 12-19 ms to plan on every page view).
    cell_by_id = {cell.pk: cell for cell in cells}
    changes = list(
        StageChange.objects.filter(country_track_id__in=list(cell_by_id))
        .select_related("actor", "evidence_engagement", "evidence_agreement", "evidence_announcement")
        .order_by("-changed_at", "-id")[:200]
    )
    for change in changes:
        change.country_track = cell_by_id[change.country_track_id]
        change.from_stage = stages.get(change.from_stage_id)
        change.to_stage = stages[change.to_stage_id]
    history = {}
    cited = {c.evidence_announcement_id for c in changes if c.evidence_announcement_id}
    # An announcement cited as evidence shows its title only to those who may read it (never before its embargo).
    readable = set(selectors.announcement_list(user=user).filter(pk__in=cited).values_list("pk", flat=True)) if cited else set()
    for change in changes:
        change.evidence_announcement_readable = change.evidence_announcement_id in readable
        # A confidential engagement cited as evidence is shown only to those who see the country's confidential
        # engagements: staff and its liaisons, the same people who may write here. Others see no trace of it.
        cited_engagement = change.evidence_engagement
        change.evidence_engagement_readable = cited_engagement is not None and (
            can_write or cited_engagement.sensitivity == cited_engagement.Sensitivity.NORMAL
        )
        history.setdefault(change.country_track_id, []).append(change)
    evidence = _evidence_choices(user, country) if can_write else []
    for cell in cells:
        cell.ladder = ladders.get(cell.track_id, [])
        cell.history = history.get(cell.pk, [])[:10]
        if can_write:
            bound = request.method == "POST" and cell.track.key == bound_track
            cell.form = StageMoveForm(request.POST if bound else None, cell=cell, evidence_choices=evidence)

    entries = []
    if kind_filter in ("", "engagement"):
        engagements = selectors.engagement_list(user=user).filter(country=country)
        if track_filter:
            engagements = engagements.filter(tracks__key=track_filter)
        entries += [("engagement", e.occurred_on, e) for e in engagements.order_by("-occurred_on", "-id")[:TIMELINE_LIMIT]]
    if kind_filter in ("", "stage"):
        entries += [
            ("stage", timezone.localdate(c.changed_at), c)
            for c in changes
            if c.from_stage_id and (not track_filter or c.country_track.track.key == track_filter)
        ][:TIMELINE_LIMIT]
    if kind_filter in ("", "agreement"):
        agreements = selectors.agreement_list().filter(country=country)
        if track_filter:
            agreements = agreements.filter(tracks__key=track_filter)
        entries += [("agreement", a.signed_on, a) for a in agreements[:TIMELINE_LIMIT]]
    if kind_filter in ("", "announcement"):
        announcements = selectors.announcement_list(user=user).filter(countries=country, published_at__isnull=False)
        if track_filter:
            announcements = announcements.filter(tracks__key=track_filter)
        entries += [("announcement", timezone.localdate(a.published_at), a) for a in announcements[:TIMELINE_LIMIT]]
    entries.sort(key=lambda entry: entry[1], reverse=True)

    return {
        "country": country,
        "status": getattr(country, "status", None),
        "partnership": getattr(country, "partnership", None),
        "cells": cells,
        "timeline": entries[:TIMELINE_LIMIT],
        "timeline_kinds": TIMELINE_KINDS,
        "track_filter": track_filter,
        "kind_filter": kind_filter,
        "tracks": [c.track for c in cells],
        "counterparts": list(counterpart_list(country=country).order_by("active_to", "name")),
        "follow_ups": list(selectors.open_follow_ups(user=user).filter(country=country)[:50]),
        "facilities": list(facility_list().filter(country=country)),
        "can_write": can_write,
        "today": timezone.localdate(),
    }


FOLLOW_UP_VIEWS = {
    "mine": _("Mine"),
    "overdue": _("Overdue"),
    "week": _("Due this week"),
    "all": _("All open"),
}


@login_required
def follow_up_list(request):
    """Open follow-ups: mine, overdue, due this week or all that the user may see; each can be marked done inline."""
    user = request.user
    if not roles.can_read(user):
        return render(request, "partnerships/no_role.html", status=403)
    show = request.GET.get("show") or "mine"
    if show not in FOLLOW_UP_VIEWS:
        show = "mine"
    today = timezone.localdate()
    follow_ups = selectors.open_follow_ups(user=user)
    if show == "mine":
        follow_ups = follow_ups.filter(owner=user)
    elif show == "overdue":
        follow_ups = follow_ups.filter(due_on__lt=today)
    elif show == "week":
        follow_ups = follow_ups.filter(due_on__gte=today, due_on__lte=today + datetime.timedelta(days=7))
    page = Paginator(follow_ups.order_by("due_on", "id"), 50).get_page(request.GET.get("page"))
    writable = assigned_country_ids(user)
    staff = roles.is_programme_staff(user)
    for follow_up in page.object_list:
        follow_up.can_complete = staff or follow_up.country_id in writable
    return render(
        request,
        "partnerships/follow_ups.html",
        {"page": page, "show": show, "views": FOLLOW_UP_VIEWS, "today": today},
    )


@login_required_htmx
@require_POST
def follow_up_done(request, pk):
    follow_up = get_object_or_404(selectors.follow_up_list(user=request.user), pk=pk)
    partial = request.headers.get("HX-Request") == "true"  # htmx swaps the row in place
    try:
        services.follow_up_complete(actor=request.user, follow_up=follow_up)  # PermissionDenied -> 403
    except ValidationError as exc:
        if partial:
            context = {"follow_up": follow_up, "error": " ".join(exc.messages)}
            return render(request, "partnerships/_follow_up_done.html", context, status=422)
        messages.error(request, " ".join(exc.messages))
    else:
        if partial:
            return render(request, "partnerships/_follow_up_done.html", {"follow_up": follow_up})
        messages.success(request, _("Done: %(what)s") % {"what": follow_up.description})
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return HttpResponseRedirect(target) if target and safe else redirect("follow-ups")


SEARCH_LIMIT = 10


@login_required
def search(request):
    """One search box in the header: countries, engagements, counterparts, announcements and facilities the user may see."""
    user = request.user
    if not roles.can_read(user):
        return render(request, "partnerships/no_role.html", status=403)
    from countries.selectors import counterpart_list
    from infrastructure.selectors import facility_list

    q = (request.GET.get("q") or "").strip()[:100].replace("\x00", "")
    results = {}
    if len(q) >= 2:
        results = {
            "countries": list(
                Country.objects.filter(
                    Q(name_en__icontains=q) | Q(name_fr__icontains=q) | Q(iso2__iexact=q) | Q(iso3__iexact=q)
                ).order_by("name_en")[:SEARCH_LIMIT]
            ),
            "engagements": list(
                selectors.engagement_list(user=user)
                .filter(Q(summary__icontains=q) | Q(outcome__icontains=q))
                .order_by("-occurred_on", "-id")[:SEARCH_LIMIT]
            ),
            "counterparts": list(
                counterpart_list()
                .filter(Q(name__icontains=q) | Q(title__icontains=q) | Q(organisation__icontains=q))
                .order_by("name")[:SEARCH_LIMIT]
            ),
            "announcements": list(
                selectors.announcement_list(user=user)
                .filter(Q(title__icontains=q) | Q(body__icontains=q))
                .order_by("-created_at")[:SEARCH_LIMIT]
            ),
            "facilities": list(
                facility_list().filter(Q(name__icontains=q) | Q(city__icontains=q)).order_by("name")[:SEARCH_LIMIT]
            ),
        }
    found = sum(len(rows) for rows in results.values())
    return render(request, "partnerships/search.html", {"q": q, "results": results, "found": found})


# --- logging an engagement ---------------------------------------------------------------------


def _writable_country_or_403(request, code) -> Country:
    """The country of the URL, for a user who may write for it (anyone else gets 403, even on GET)."""
    from countries.selectors import ensure_can_write_country

    country = get_object_or_404(Country, iso2=(code or "").upper()[:2])
    ensure_can_write_country(request.user, country)
    return country


def _draft_key(request, country) -> str:
    # Per user and country, so a shared browser never offers one person's draft to another.
    return f"engagement:{country.iso2}:{request.user.pk}"


class _Rejected(Exception):
    """A service refused the input; raised inside the transaction to roll it back (errors are on the form)."""


@login_required
def engagement_new(request, code):
    """Log an engagement with its tracks, counterparts (new ones added on the spot) and follow-ups, in one form."""
    from django.db import transaction

    from countries import services as country_services
    from countries.selectors import country_writers
    from partnerships.models import Engagement

    from .forms import EngagementForm, FollowUpFormSet

    country = _writable_country_or_403(request, code)
    today = timezone.localdate()
    data = request.POST if request.method == "POST" else None
    form = EngagementForm(data, country=country, initial={"occurred_on": today})
    owners = list(country_writers(country))
    formset = FollowUpFormSet(data, prefix="fu", form_kwargs={"owners": owners, "default_owner": request.user})
    if data is not None and form.is_valid() and formset.is_valid():
        rows = [row for row in formset.forms if not row.is_blank()]
        try:
            with transaction.atomic():
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
                        sensitivity=Engagement.Sensitivity.CONFIDENTIAL
                        if form.cleaned_data["confidential"]
                        else Engagement.Sensitivity.NORMAL,
                        follow_ups=[{key: row.cleaned_data[key] for key in ("description", "due_on", "owner")} for row in rows],
                    )
                except ValidationError as exc:
                    add_service_errors(form, exc, {"sensitivity": "confidential"}, rows=rows)
                    raise _Rejected from exc
        except _Rejected:
            pass  # the transaction is rolled back: the quick-added counterpart is not kept either
        else:
            messages.success(
                request,
                _("Engagement of %(date)s logged for %(country)s.")
                % {"date": date_format(engagement.occurred_on), "country": country.name},
            )
            request.session.setdefault("clear_drafts", []).append(_draft_key(request, country))
            request.session.modified = True
            return redirect(reverse("country-detail", args=[country.iso2.lower()]) + "#timeline-title")
    return render(
        request,
        "partnerships/engagement_form.html",
        {"country": country, "form": form, "formset": formset, "draft_key": _draft_key(request, country), "today": today},
        status=400 if data is not None else 200,
    )


@login_required_htmx
@require_POST
def engagement_counterpart_add(request, code):
    """htmx: add the counterpart typed in the quick-add fields now, and give back the picker with them ticked."""
    from countries import services as country_services

    from .forms import EngagementForm

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
        try:
            counterpart = country_services.counterpart_create(actor=request.user, country=country, **new)
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
                "partnerships/_counterpart_picker.html",
                {"form": form, "country": country, "added": counterpart},
            )
    error_form.fields["new_counterpart_name"].widget.attrs["data-focus"] = ""  # back to the field to correct
    return render(request, "partnerships/_counterpart_picker.html", {"form": error_form, "country": country}, status=422)


@login_required_htmx
def engagement_follow_up_row(request, code):
    """htmx: one more empty follow-up row for the engagement form (and the formset's new total)."""
    from django.http import HttpResponse

    from countries.selectors import country_writers

    from .forms import FOLLOW_UP_ROWS_MAX, FollowUpRowForm

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
    return render(request, "partnerships/_follow_up_row.html", context)
