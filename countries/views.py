"""Pages for a country's counterparts: who is in post, who was before them, and what changed."""

import contextlib
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.forms.models import model_to_dict
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import catalogue, country_codes, roles
from core.conflicts import ConflictError
from core.exports import export_response
from core.forms import add_service_errors
from core.idempotency import FormSubmission
from core.models import Event

from . import services
from .duplicates import likely_duplicates
from .forms import CounterpartEditForm, CounterpartNewForm, EraseForm, LeavePostForm
from .models import Counterpart, Country
from .policies import (
    can_handle_personal_data,
    can_see_contact_details,
    ensure_can_handle_personal_data,
    ensure_can_read,
    ensure_can_write_country,
    ensure_programme_staff,
    user_can_write_country,
)
from .selectors import counterpart_list

HISTORY_LIMIT = 50


def _country(code) -> Country:
    return get_object_or_404(Country, iso2=country_codes.parse(code) or "")


def _post_key(counterpart) -> tuple[str, str]:
    """Two people hold the same post when their title and ministry match (case and spaces aside)."""
    return (" ".join(counterpart.organisation.lower().split()), " ".join(counterpart.title.lower().split()))


@login_required
def counterpart_list_view(request, code):
    """Everyone in post for the country, each with the people who held the same post before; then the former ones."""
    if not roles.can_read(request.user):
        return render(request, "core/no_role.html", status=403)
    country = _country(code)
    people = list(counterpart_list(country=country).order_by("name", "id"))
    current = [p for p in people if p.is_active]
    former = sorted((p for p in people if not p.is_active), key=lambda p: p.active_to, reverse=True)
    # Whoever has a departure date recorded (even today's, still in post until tonight) held the post before.
    previous_holders = {}
    for person in sorted((p for p in people if p.active_to), key=lambda p: p.active_to, reverse=True):
        if person.title or person.organisation:
            previous_holders.setdefault(_post_key(person), []).append(person)
    for person in current:
        same_post = previous_holders.get(_post_key(person), []) if (person.title or person.organisation) else []
        person.predecessors = [p for p in same_post if p.pk != person.pk and p.active_to <= (person.active_to or p.active_to)]
    return render(
        request,
        "countries/counterparts.html",
        {
            "country": country,
            "current": current,
            "former": former,
            "can_write": user_can_write_country(request.user, country),
            "contact_details": can_see_contact_details(request.user, country),
            "today": timezone.localdate(),
            # Staff merge duplicates: the page offers the likely pairs.
            "duplicates": likely_duplicates(people) if roles.is_programme_staff(request.user) else [],
        },
    )


@login_required
@require_POST
def counterpart_merge_view(request, code):
    """Merge a duplicate counterpart into the one kept (programme staff)."""
    country = _country(code)
    ensure_programme_staff(request.user)
    people = counterpart_list(country=country)
    keep = get_object_or_404(people, pk=_int(request.POST.get("keep")))
    duplicate = get_object_or_404(people, pk=_int(request.POST.get("duplicate")))
    try:
        services.counterpart_merge(actor=request.user, keep=keep, duplicate=duplicate)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(duplicate)s was merged into %(keep)s.") % {"duplicate": duplicate.name, "keep": keep.name})
    return redirect("counterparts", code=country.iso2.lower())


def _int(value) -> int:
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 19 else 0


@login_required
def counterpart_new(request, code):
    country = _country(code)
    ensure_can_write_country(request.user, country)
    form = CounterpartNewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        once = FormSubmission(request, form.cleaned_data["form_token"])
        try:
            with transaction.atomic():
                if (earlier := once.claim()) is not None:
                    return once.replay(earlier, _("This counterpart had already been added: they were saved once, shown here."))
                counterpart = services.counterpart_create(actor=request.user, country=country, **form.service_data())
                once.record(reverse("counterpart-edit", args=[country.iso2.lower(), counterpart.pk]))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(name)s added.") % {"name": counterpart.name})
            return redirect("counterparts", code=country.iso2.lower())
    return render(
        request,
        "countries/counterpart_form.html",
        {"country": country, "form": form},
        status=400 if request.method == "POST" else 200,
    )


def _history(counterpart) -> list[dict]:
    """The counterpart's changes from the activity log, newest first, with field names in the reader's language."""
    counterpart.merged_records = list(counterpart.merged.order_by("name"))
    merged_ids = [str(c.pk) for c in counterpart.merged_records]
    own = Q(subject_id=str(counterpart.pk))
    merges = Q(kind=catalogue.COUNTERPART_MERGED, subject_id__in=merged_ids)  # the records merged into this one
    events = (
        Event.objects.filter(subject_type=catalogue.subject_type(Counterpart))
        .filter(own | merges if merged_ids else own)
        .select_related("actor")
        .order_by("-created_at", "-id")[:HISTORY_LIMIT]
    )
    rows = []
    for event in events:
        changes = []
        for field, values in (event.payload.get("changes") or {}).items():
            before, after = (values + [None, None])[:2] if isinstance(values, list) else (None, values)
            try:
                model_field = Counterpart._meta.get_field(field)
            except FieldDoesNotExist:  # a field since removed: show its name and raw values
                label = field
            else:
                label = model_field.verbose_name
                with contextlib.suppress(ValidationError):  # dates come back as dates, shown in the reader's format
                    before, after = (model_field.to_python(v) if v not in (None, "") else v for v in (before, after))
            changes.append({"field": field, "label": label, "before": before, "after": after})
        rows.append({"event": event, "changes": changes, "merged": _merged_name(event, counterpart)})
    return rows


def _merged_name(event, counterpart):
    """For a merge into ``counterpart``: the name of the record merged into it (from the merged ones loaded)."""
    if event.kind != catalogue.COUNTERPART_MERGED or event.subject_id == str(counterpart.pk):
        return None
    return next((c.name for c in counterpart.merged_records if str(c.pk) == event.subject_id), "—")


def _edit_context(user, country, counterpart, form, leave_form, conflict=None):
    return {
        "country": country,
        "counterpart": counterpart,
        "form": form,
        "leave_form": leave_form,
        "history": _history(counterpart),
        "today": timezone.localdate(),
        "conflict": conflict,
        # Staff answer subject access requests and erase people: the page offers both.
        "personal_data": can_handle_personal_data(user),
    }


def _edit_form(counterpart, data=None):
    """The details form, filled with the stored values and the version they are at."""
    initial = {**model_to_dict(counterpart, fields=CounterpartEditForm._meta.fields), "version": counterpart.version}
    # Unbound instance: the service compares the stored values with the new ones to record the change.
    return CounterpartEditForm(data, initial=initial)


def _conflict_rows(form, current) -> list[dict]:
    """Each field as it is stored now next to what the user typed, for the page of a refused save."""
    rows = []
    for name in form._meta.fields:
        stored, typed = getattr(current, name), form.cleaned_data.get(name)
        rows.append(
            {
                "label": form.fields[name].label,
                "current": stored,
                "yours": typed,
                "differs": (stored or None) != (typed or None),
            }
        )
    return rows


@login_required
def counterpart_edit(request, code, pk):
    country = _country(code)
    ensure_can_write_country(request.user, country)
    counterpart = get_object_or_404(counterpart_list(country=country), pk=pk)  # a merged one: 404
    form = _edit_form(counterpart, request.POST or None)
    # Offered until a departure is recorded (someone leaving today is still in post today, but has left).
    leave_form = LeavePostForm(initial={"left_on": timezone.localdate()}) if counterpart.active_to is None else None
    conflict, status = None, 400 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        # The version the page showed: the service refuses the save if someone changed the counterpart since.
        expected_version = fields.pop("version")
        try:
            services.counterpart_update(actor=request.user, counterpart=counterpart, expected_version=expected_version, **fields)
        except ConflictError as exc:
            # Keep what the user typed, show the stored values next to it, and let a second save replace them.
            counterpart = exc.current
            form.add_error(None, exc.messages[0])
            form.take_version(counterpart.version)
            conflict, status = _conflict_rows(form, counterpart), 409
            leave_form = LeavePostForm(initial={"left_on": timezone.localdate()}) if counterpart.active_to is None else None
        except ValidationError as exc:
            add_service_errors(form, exc)
            counterpart.refresh_from_db()
        else:
            messages.success(request, _("%(name)s saved.") % {"name": counterpart.name})
            return redirect("counterparts", code=country.iso2.lower())
    return render(
        request,
        "countries/counterpart_edit.html",
        _edit_context(request.user, country, counterpart, form, leave_form, conflict),
        status=status,
    )


@login_required
@require_POST
def counterpart_leave(request, code, pk):
    """Someone left their post: record the date, and add their successor in the same post if known."""
    country = _country(code)
    ensure_can_write_country(request.user, country)
    counterpart = get_object_or_404(counterpart_list(country=country), pk=pk)  # a merged one: 404
    leave_form = LeavePostForm(request.POST)
    if leave_form.is_valid():
        data = leave_form.cleaned_data
        try:
            with transaction.atomic():
                services.counterpart_leave_post(actor=request.user, counterpart=counterpart, left_on=data["left_on"])
                successor = None
                if data["successor_name"]:
                    try:
                        successor = services.counterpart_create(
                            actor=request.user,
                            country=country,
                            name=data["successor_name"],
                            email=data["successor_email"],
                            title=counterpart.title,
                            organisation=counterpart.organisation,
                            active_from=data["left_on"],
                        )
                    except ValidationError as exc:
                        add_service_errors(leave_form, exc, {"name": "successor_name", "email": "successor_email"})
                        raise
        except ValidationError as exc:
            if not leave_form.errors:
                add_service_errors(leave_form, exc, {"active_to": "left_on"})
            counterpart.refresh_from_db()
        else:
            if successor:
                text = _("%(name)s left the post on %(date)s; %(successor)s holds it now.") % {
                    "name": counterpart.name,
                    "date": date_format(data["left_on"]),
                    "successor": successor.name,
                }
            else:
                text = _("%(name)s left the post on %(date)s.") % {"name": counterpart.name, "date": date_format(data["left_on"])}
            messages.success(request, text)
            return redirect("counterparts", code=country.iso2.lower())
    form = _edit_form(counterpart)
    return render(
        request,
        "countries/counterpart_edit.html",
        _edit_context(request.user, country, counterpart, form, leave_form),
        status=400,
    )


# --- personal data: what is held on a person, and their erasure (programme staff) -----------------------------

EXPORT_FORMATS = ("json", "csv")


def _ensure_personal_data_reader(user) -> None:
    ensure_can_read(user)
    ensure_can_handle_personal_data(user)


def _person(request, code, pk) -> tuple[Country, Counterpart]:
    """The country and the record of one person for staff's pages of personal data: the user is checked before
    anything is read (a merged-away duplicate is reached through the record kept: 404)."""
    _ensure_personal_data_reader(request.user)
    country = _country(code)
    return country, get_object_or_404(counterpart_list(country=country, include_erased=True), pk=pk)


def _csv_rows(data: dict):
    """The export as rows of (section, record, field, value): one line per value, nested values as JSON."""

    def plain(value):
        if isinstance(value, (dict, list)):
            return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True)
        return value

    for section, items in data.items():
        for item in [items] if isinstance(items, dict) else items:
            record = item.get("id", item.get("record", ""))
            for field, value in item.items():
                yield [section, record, field, plain(value)]


@login_required
def counterpart_personal_data_view(request, code, pk):
    """Everything held on one person (a subject access request): a page to download it as JSON or CSV; each download
    is recorded in the audit log."""
    _ensure_personal_data_reader(request.user)
    fmt = request.GET.get("export") or ""
    if fmt and fmt not in EXPORT_FORMATS:  # refused before anything is read or logged
        return HttpResponse(_("Unknown export format."), status=400, content_type="text/plain; charset=utf-8")
    country, counterpart = _person(request, code, pk)
    if not fmt:
        return render(
            request,
            "countries/counterpart_personal_data.html",
            {"country": country, "counterpart": counterpart, "formats": EXPORT_FORMATS},
        )
    data = services.counterpart_export_personal_data(actor=request.user, counterpart=counterpart, fmt=fmt)
    name = f"personal-data-{counterpart.pk}"
    if fmt == "csv":
        return export_response("csv", name, [_("Section"), _("Record"), _("Field"), _("Value")], _csv_rows(data))
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2, sort_keys=True)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{timezone.localdate().isoformat()}.json"'
    return response


@login_required
def counterpart_erase_view(request, code, pk):
    """Erase a person (programme staff): a page that says what erasure does and asks why; the POST erases."""
    country, counterpart = _person(request, code, pk)
    form = EraseForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.counterpart_erase(actor=request.user, counterpart=counterpart, reason=form.cleaned_data["reason"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The person's data was erased. Their engagements now name “a counterpart (erased)”."))
                return redirect("counterparts", code=country.iso2.lower())
    return render(
        request,
        "countries/counterpart_erase.html",
        {"country": country, "counterpart": counterpart, "form": form, "engagements": counterpart.engagements.count()},
        status=status,
    )


# --- country groupings (programme staff) ---------------------------------------------------------------------


def _staff_grouping_or_403(request):
    from .policies import ensure_can_manage_groupings

    ensure_can_read(request.user)
    ensure_can_manage_groupings(request.user)


@login_required
def grouping_list_view(request):
    """The named sets of countries that packs can be asked for, with links to edit them."""
    from .selectors import grouping_list

    _staff_grouping_or_403(request)
    return render(request, "countries/groupings.html", {"groupings": grouping_list()})


def _grouping_form_page(request, grouping=None):
    from .forms import CountryGroupingForm

    _staff_grouping_or_403(request)
    initial = {}
    if grouping is not None:
        initial = {"name": grouping.name, "description": grouping.description, "countries": list(grouping.countries.all())}
    form = CountryGroupingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if grouping is None:
                saved = services.grouping_create(actor=request.user, **data)
                messages.success(request, _("Grouping “%(name)s” created.") % {"name": saved.name})
            else:
                saved = services.grouping_update(actor=request.user, grouping=grouping, **data)
                messages.success(request, _("Grouping “%(name)s” saved.") % {"name": saved.name})
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("groupings")
    return render(request, "countries/grouping_form.html", {"form": form, "grouping": grouping})


@login_required
def grouping_new(request):
    return _grouping_form_page(request)


@login_required
def grouping_edit(request, pk):
    from .models import CountryGrouping

    _staff_grouping_or_403(request)
    return _grouping_form_page(request, get_object_or_404(CountryGrouping, pk=pk))


@login_required
@require_POST
def grouping_delete_view(request, pk):
    from .models import CountryGrouping

    _staff_grouping_or_403(request)
    grouping = get_object_or_404(CountryGrouping, pk=pk)
    services.grouping_delete(actor=request.user, grouping=grouping)
    messages.success(request, _("Grouping “%(name)s” deleted.") % {"name": grouping.name})
    return redirect("groupings")
