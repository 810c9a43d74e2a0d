"""The import pages: upload, match the columns, dry run (each row's outcome, a page at a time), apply."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from core.decorators import login_required_htmx
from core.exports import export_response

from . import reading, selectors, services
from .forms import MappingForm, ResultFilterForm, UploadForm
from .kinds import KINDS
from .models import ImportJob
from .policies import ensure_can_import, ensure_can_see_job
from .templates_files import template_csv, template_xlsx

RESULTS_PER_PAGE = 50


@login_required_htmx
def import_start(request):
    ensure_can_import(request.user)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.import_job_create(
                actor=request.user, kind=form.cleaned_data["kind"], handle=upload, filename=upload.name, size=upload.size
            )
        except reading.FileRefused as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("import-detail", pk=job.pk)
    return render(
        request,
        "imports/start.html",
        {"form": form, "jobs": selectors.job_list(request.user), "kinds": [(name, k.label) for name, k in KINDS.items()]},
        status=422 if form.errors else 200,
    )


def _job(request, pk) -> ImportJob:
    job = get_object_or_404(ImportJob, pk=pk)
    try:
        ensure_can_see_job(request.user, job)
    except PermissionDenied:
        raise Http404 from None
    return job


@login_required_htmx
def import_detail(request, pk):
    job = _job(request, pk)
    form = MappingForm(request.POST or None, job=job)
    if request.method == "POST" and form.is_valid():
        try:
            services.import_job_set_mapping(actor=request.user, job=job, mapping=form.mapping())
            services.import_job_check(actor=request.user, job=job)
        except ValidationError as exc:
            for field, errors in getattr(exc, "message_dict", {"__all__": exc.messages}).items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return redirect("import-detail", pk=job.pk)
    filters = ResultFilterForm(request.GET or None)
    action = filters.cleaned_data.get("action", "") if filters.is_valid() else ""
    applied = job.state == ImportJob.State.APPLIED
    page = Paginator(selectors.job_results(job, applied=applied, action=action), RESULTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    counts = job.applied_counts if applied else job.checked_counts
    return render(
        request,
        "imports/detail.html",
        {
            "job": job,
            "form": form,
            "filters": filters,
            "page": page,
            "counts": counts,
            "kind": KINDS[job.kind],
            "has_failed_rows": bool(counts.get("error")),
        },
        status=422 if form.errors else 200,
    )


@require_POST
@login_required_htmx
def import_apply(request, pk):
    job = _job(request, pk)
    try:
        job = services.import_job_apply(actor=request.user, job=job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if job.state == ImportJob.State.APPLIED:
            counts = job.applied_counts
            messages.success(
                request,
                _("Applied: %(create)d created, %(update)d updated, %(unchanged)d unchanged, %(error)d refused.") % counts,
            )
    return redirect("import-detail", pk=job.pk)


@require_safe
@login_required_htmx
def import_progress(request, pk):
    """The progress bar, polled by htmx while a task runs; once it has finished, the page is reloaded."""
    job = _job(request, pk)
    if not job.is_running:
        response = HttpResponse(status=200)
        response["HX-Redirect"] = reverse("import-detail", args=[job.pk])
        return response
    return render(request, "imports/_progress.html", {"job": job})


@require_safe
@login_required_htmx
def import_failed_rows(request, pk):
    """The rows refused, as they were in the file, with the line, column and reason after them (streamed CSV; a cell
    that a spreadsheet would run as a formula is written as text, as every download of the portal does)."""
    job = _job(request, pk)
    width = len(job.header)

    def rows():
        for result in selectors.failed_rows(job).iterator(chunk_size=500):
            yield [*(list(result.cells) + [""] * width)[:width], result.line, result.column, result.message]

    headers = [*job.header, _("Line"), _("Column"), _("Reason")]
    return export_response("csv", f"import-{job.pk}-failed-rows", headers, rows())


@require_safe
@login_required_htmx
def import_template(request, kind, fmt):
    ensure_can_import(request.user)
    if kind not in KINDS or fmt not in ("csv", "xlsx"):
        raise Http404
    if fmt == "csv":
        response = HttpResponse(template_csv(kind), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            template_xlsx(kind), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.{fmt}"'
    return response
