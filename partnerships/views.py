"""The country page: status, each track's ladder and history, the timeline; and its stage-move forms."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from announcements import policies as announcement_policies
from announcements import selectors as announcement_selectors
from announcements.services import release_due_without_beat
from core import country_codes, roles
from core.conflicts import ConflictError
from core.exports import FORMATS, export_response
from core.forms import add_service_errors
from core.pagecache import cached_page
from core.pdf import PdfUnavailable, html_to_pdf
from core.public_record import sources_by_record
from countries.models import Country
from countries.policies import ensure_can_write_country, user_can_write_country
from countries.selectors import counterpart_list
from engagements import exports as engagement_exports
from engagements import policies as engagement_policies
from engagements import selectors as engagement_selectors
from infrastructure.selectors import facility_list
from tracks.models import Stage

from . import briefing as briefings
from . import policies, selectors, services
from .briefing_docx import briefing_docx
from .forms import NextStepForm, StageMoveForm
from .models import StageChange

TIMELINE_KINDS = {
    "engagement": _("Engagements"),
    "stage": _("Stage changes"),
    "agreement": _("Agreements"),
    "announcement": _("Announcements"),
}

TIMELINE_PAGE = 30
TIMELINE_MAX_PAGE = 50  # 1,500 entries back: further than anyone pages


@login_required
@cached_page(before=release_due_without_beat)
def country_detail(request, code):
    """A country: its status, each track's ladder and history, one timeline, counterparts, follow-ups, facilities."""
    if not roles.can_read(request.user):
        return render(request, "core/no_role.html", status=403)
    country = get_object_or_404(Country.objects.select_related("status", "partnership"), iso2=country_codes.parse(code) or "")
    fmt = request.GET.get("export")
    if fmt in FORMATS:
        return _engagements_download(request, country, fmt)
    return render(request, "partnerships/country_detail.html", _country_context(request, country))


def _briefing_for(request, code):
    """The brief of a country for the reader, or the page that refuses it (no role: 403; no such country: 404)."""
    if not roles.can_read(request.user):
        return None, render(request, "core/no_role.html", status=403)
    country = get_object_or_404(Country.objects.select_related("status", "partnership"), iso2=country_codes.parse(code) or "")
    release_due_without_beat()  # an announcement whose time has come is in the brief even with no beat running
    return briefings.country_briefing(user=request.user, country=country), None


def _briefing_filename(brief, ext: str) -> str:
    return f"briefing-{brief.country.iso2.lower()}-{timezone.localtime(brief.generated_at):%Y-%m-%d-%H%M}.{ext}"


def _briefing_context(request, brief, *, for_pdf: bool = False) -> dict:
    return {"brief": brief, "country": brief.country, "for_pdf": for_pdf}


@login_required
def country_briefing(request, code):
    """A country's brief for its reader, made for print: status, tracks, people, latest engagements, follow-ups,
    agreements, facilities, announcements and dates ahead, with links to each record."""
    brief, refusal = _briefing_for(request, code)
    if refusal:
        return refusal
    return render(request, "partnerships/briefing.html", _briefing_context(request, brief))


@login_required
def country_briefing_pdf(request, code):
    """The same brief as a PDF (WeasyPrint); where this server cannot make PDFs, a page that says so."""
    brief, refusal = _briefing_for(request, code)
    if refusal:
        return refusal
    html = render_to_string("partnerships/briefing.html", _briefing_context(request, brief, for_pdf=True), request=request)
    try:
        pdf = html_to_pdf(html, base_url=request.build_absolute_uri("/"))
    except PdfUnavailable:
        context = {"country": brief.country}
        return render(request, "partnerships/briefing_pdf_unavailable.html", context, status=503)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{_briefing_filename(brief, "pdf")}"'
    return response


@login_required
def country_briefing_word(request, code):
    """The same brief as an editable Word document (briefs are edited before they go to a minister)."""
    brief, refusal = _briefing_for(request, code)
    if refusal:
        return refusal
    response = HttpResponse(
        briefing_docx(brief), content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    response["Content-Disposition"] = f'attachment; filename="{_briefing_filename(brief, "docx")}"'
    return response


def _engagements_download(request, country, fmt: str):
    """The country's engagements that the reader may see, on the timeline's track if one is chosen (voided ones
    left out): "Download engagements" under the timeline."""
    track = request.GET.get("track") or ""
    engagements = engagement_selectors.engagements_for_export(user=request.user, country=country, track_key=track)
    return export_response(
        fmt,
        "engagements",
        engagement_exports.headers(),
        engagement_exports.rows(engagements),
        filters={"country": country.iso2.lower(), "track": track},
    )


@login_required
@require_POST
def country_track_change(request, code, track):
    """Move, pause, resume or withdraw a track from the country page; on a refusal the page comes back with the
    typed values and the error next to its field."""
    country = get_object_or_404(Country.objects.select_related("status", "partnership"), iso2=country_codes.parse(code) or "")

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


@login_required
@require_POST
def country_next_step(request, code, track):
    """Set a track's next step and its date from the country page (the version the page showed is checked)."""
    country = get_object_or_404(Country.objects.select_related("status", "partnership"), iso2=country_codes.parse(code) or "")
    ensure_can_write_country(request.user, country)
    context = _country_context(request, country, bound_next_track=track)
    cell = next((c for c in context["cells"] if c.track.key == track), None)
    if cell is None:
        raise Http404
    form, status = cell.next_form, 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.country_track_update(
                actor=request.user,
                country_track=cell,
                expected_version=data["version"],
                next_step=data["next_step"],
                next_step_due=data["next_step_due"],
            )
        except ConflictError as exc:
            _show_current(cell, exc.current)
            cell.next_step, cell.next_step_due = exc.current.next_step, exc.current.next_step_due
            form.add_error(None, exc.messages[0])
            form.take_version(exc.current.version)
            status = 409
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(track)s: next step saved.") % {"track": cell.track.name})
            return redirect(reverse("country-detail", args=[country.iso2.lower()]) + f"#track-{cell.pk}")
    return render(request, "partnerships/country_detail.html", context, status=status)


def _show_current(cell, current) -> None:
    """Show the cell as the service found it under its lock (it may have changed again since the page was read)."""
    for name in ("stage_id", "ladder_stage_id", "stage_changed_at", "pause_reason", "resume_on", "version"):
        setattr(cell, name, getattr(current, name))
    cell.stage, cell.ladder_stage = current.stage, current.ladder_stage


EVIDENCE_LIMIT = 20


def _evidence_choices(user, country) -> list:
    """What a stage move can point to as evidence: the country's latest engagements, agreements and announcements."""
    engagements = engagement_selectors.engagement_list(user=user).filter(country=country).prefetch_related(None)
    agreements = engagement_selectors.agreement_list().filter(country=country).prefetch_related(None)
    # Only what is published can be cited: evidence shows on the country page, which many people read.
    announcements = (
        announcement_selectors.announcement_list(user=user)
        .filter(announcement_policies.published_q(), countries=country)
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
        "engagement": engagement_selectors.engagement_list(user=user).filter(country=country),
        "agreement": engagement_selectors.agreement_list().filter(country=country),
        "announcement": announcement_selectors.announcement_list(user=user).filter(
            announcement_policies.published_q(), countries=country
        ),
    }
    if kind not in sources or not pk.isdigit():
        return {}
    item = sources[kind].filter(pk=int(pk)).first()
    if item is None:
        raise ValidationError({"evidence": _("Choose evidence from the list.")})
    return {f"evidence_{kind}": item}


def _country_context(request, country, bound_track=None, bound_next_track=None) -> dict:

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
    # The cells and stages are in hand: the history joins only what it does not have (planning a query with nine
    # joins cost more than running it, on every page view).
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
    readable = (
        set(announcement_selectors.announcement_list(user=user).filter(pk__in=cited).values_list("pk", flat=True))
        if cited
        else set()
    )
    for change in changes:
        change.evidence_announcement_readable = change.evidence_announcement_id in readable
        # A confidential engagement cited as evidence is shown only to those who see the country's confidential
        # engagements: staff and its liaisons, the same people who may write here. Others see no trace of it.
        cited_engagement = change.evidence_engagement
        change.evidence_engagement_readable = cited_engagement is not None and engagement_policies.can_see_engagement(
            user, cited_engagement
        )
        history.setdefault(change.country_track_id, []).append(change)
    evidence = _evidence_choices(user, country) if can_write else []
    for cell in cells:
        cell.ladder = ladders.get(cell.track_id, [])
        cell.history = history.get(cell.pk, [])[:10]
        if can_write:
            bound = request.method == "POST" and cell.track.key == bound_track
            cell.form = StageMoveForm(request.POST if bound else None, cell=cell, evidence_choices=evidence)
            bound_next = request.method == "POST" and cell.track.key == bound_next_track
            cell.next_form = NextStepForm(request.POST if bound_next else None, cell=cell)
        cell.next_step_overdue = policies.next_step_is_overdue(cell, timezone.localdate())

    try:
        timeline_page = min(max(int(request.GET.get("page") or 1), 1), TIMELINE_MAX_PAGE)
    except ValueError:
        timeline_page = 1
    # Each source gives its newest entries up to the end of this page (and one more, to know if there is another).
    want = timeline_page * TIMELINE_PAGE + 1
    entries = []
    if kind_filter in ("", "engagement"):
        # The entry shows the engagement's own fields and its tracks: neither its country (this page's) nor its
        # people are read.
        engagements = (
            engagement_selectors.engagement_list(user=user, include_voided=True)
            .filter(country=country)
            .select_related(None)
            .prefetch_related(None)
            .prefetch_related("tracks")
        )
        if track_filter:
            engagements = engagements.filter(tracks__key=track_filter)
        entries += [("engagement", e.occurred_on, e) for e in engagements.order_by("-occurred_on", "-id")[:want]]
    if kind_filter in ("", "stage"):
        entries += [
            ("stage", timezone.localdate(c.changed_at), c)
            for c in changes
            if c.from_stage_id and (not track_filter or c.country_track.track.key == track_filter)
        ][:want]
    if kind_filter in ("", "agreement"):
        agreements = engagement_selectors.agreement_list().filter(country=country).select_related(None).prefetch_related(None)
        if track_filter:
            agreements = agreements.filter(tracks__key=track_filter)
        entries += [("agreement", a.signed_on, a) for a in agreements[:want]]
    if kind_filter in ("", "announcement"):
        announcements = (
            announcement_selectors.announcement_list(user=user)
            .filter(countries=country, published_at__isnull=False)
            .prefetch_related(None)  # an entry shows the title only
        )
        if track_filter:
            announcements = announcements.filter(tracks__key=track_filter)
        entries += [("announcement", timezone.localdate(a.published_at), a) for a in announcements[:want]]
    entries.sort(key=lambda entry: entry[1], reverse=True)
    timeline = entries[(timeline_page - 1) * TIMELINE_PAGE : timeline_page * TIMELINE_PAGE]
    facilities = list(facility_list().filter(country=country))
    partnership = getattr(country, "partnership", None)
    agreements = [item for kind, _day, item in timeline if kind == "agreement"]

    return {
        "public_sources": sources_by_record([partnership, *facilities, *agreements]),
        "country": country,
        "status": getattr(country, "status", None),
        "partnership": partnership,
        "cells": cells,
        "timeline": timeline,
        "timeline_page": timeline_page,
        "timeline_newer": timeline_page - 1 if timeline_page > 1 else None,
        "timeline_older": timeline_page + 1 if len(entries) > timeline_page * TIMELINE_PAGE else None,
        "timeline_kinds": TIMELINE_KINDS,
        "track_filter": track_filter,
        "track_filter_name": next((c.track.name for c in cells if c.track.key == track_filter), track_filter),
        "kind_filter": kind_filter,
        "tracks": [c.track for c in cells],
        "counterparts": list(counterpart_list(country=country).order_by("active_to", "name")),
        # Each shows its date, description and owner: joining its country, engagement and track as well cost more
        # to plan than to run.
        "follow_ups": list(
            engagement_selectors.open_follow_ups(user=user)
            .filter(country=country)
            .select_related(None)
            .select_related("owner")[:50]
        ),
        "facilities": facilities,
        "can_write": can_write,
        "today": timezone.localdate(),
    }
