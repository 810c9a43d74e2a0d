"""The programme dashboards: pictures first, tables second, every table downloadable as CSV or XLSX."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from announcements.services import release_due_without_beat
from core import roles
from core.exports import FORMATS, export_response
from core.i18n import sort_key
from core.pagecache import cached_page
from core.querystrings import query_without
from countries.models import Country
from countries.policies import user_can_write_country
from countries.regions import Region

from . import charts, selectors
from .forms import DashboardFilterForm, FacilityFilterForm
from .render import matrix_rows
from .worldmap import HEIGHT as MAP_HEIGHT
from .worldmap import WIDTH as MAP_WIDTH
from .worldmap import shapes


def reader_required(view):
    """Signed in, with a role in the portal (anyone else gets the 'ask for access' page)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not roles.can_read(request.user):
            return render(request, "core/no_role.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _export_format(request) -> str | None:
    fmt = request.GET.get("export")
    return fmt if fmt in FORMATS else None


def _file_filters(form, *names) -> dict:
    """The filters of ``names`` that apply (valid and given), as the export's file name shows them: the region by its
    name, the liaison by their user name, the others by the key in the address."""
    data = getattr(form, "cleaned_data", {})
    shown = {}
    for name in names:
        value = data.get(name)
        if not value:
            continue
        if name == "region":
            value = dict(form.fields["region"].choices).get(value, value)
        elif name == "liaison":
            value = value.get_username()
        shown[name] = value
    return shown


def _filter_form(request, tracks):
    form = DashboardFilterForm(request.GET or None, tracks=tracks)
    if form.is_bound:
        form.is_valid()  # errors are shown; the valid filters still apply
    return form


def _cells_page(request):
    """What the funnels and the map start from: the filters, the ladders, and the cells of the chosen day."""
    tracks = selectors.active_tracks()
    form = _filter_form(request, tracks)
    filters = form.filters()
    stages = selectors.stage_map()
    cells = selectors.cells_on(tracks, stages, as_of=filters.as_of)
    return tracks, form, filters, stages, selectors.ladder_tops(stages), filters.as_of or timezone.localdate(), cells


@reader_required
@cached_page(before=release_due_without_beat)
def pipeline(request):
    """The pipeline matrix (countries x tracks), optionally as it stood on a past date; latest announcements."""
    tracks = selectors.active_tracks()
    form = _filter_form(request, tracks)
    filters = form.filters()
    data = selectors.matrix(filters)
    fmt = _export_format(request)
    if fmt:
        headers = [_("Country"), _("ISO code"), _("Region"), _("Readiness (%)"), _("Last engagement")]
        for track in data["tracks"]:
            headers += [f"{track.name}: {_('stage')}", f"{track.name}: {_('health')}", f"{track.name}: {_('days in stage')}"]
        regions = dict(Region.choices)
        rows = []
        for row in data["rows"]:
            country = row.country
            line = [country.name, country.iso2, str(regions.get(country.region, "")), row.readiness, row.last_engagement_on]
            for cell in row.cells:
                line += [cell.stage.name, cell.health_label, cell.days_in_stage] if cell else ["", "", ""]
            rows.append(line)
        return export_response(
            fmt,
            "pipeline-matrix",
            headers,
            rows,
            filters=_file_filters(form, "region", "track", "stage", "health", "liaison"),
            as_of=filters.as_of,
        )
    tops = selectors.ladder_tops(data["stages"])
    for row in data["rows"]:
        for cell in row.cells:
            if cell:
                cell.css = charts.stage_class(cell.stage, tops.get(cell.track.pk, 0))
    return render(
        request,
        "dashboards/pipeline.html",
        {
            "form": form,
            "filters": filters,
            "data": data,
            "matrix_rows": matrix_rows(data["rows"]),
            "announcements": selectors.latest_announcements(user=request.user, limit=5),
            "query": query_without(request.GET, "export"),
            "section": "pipeline",
        },
    )


@reader_required
def funnels(request):
    """Per track: countries at each stage (today or as of a date) and the movement of the last 30 and 90 days."""
    tracks, form, filters, stages, tops, day, cells = _cells_page(request)
    if filters.region:
        keep = set(Country.objects.filter(pk__in=list(cells), region=filters.region).values_list("pk", flat=True))
        cells = {k: v for k, v in cells.items() if k in keep}
    shown = [t for t in tracks if not filters.track or t.key == filters.track]
    result = selectors.funnels(cells, shown, stages)
    moves = selectors.movement(shown, day=day, region=filters.region)
    fmt = _export_format(request)
    if fmt:
        if request.GET.get("table") == "movement":
            headers = [_("Track")]
            for days in selectors.MOVEMENT_WINDOWS:
                headers += [f"{label} ({days} d)" for label in (_("Moved forward"), _("Moved back"), _("Newly paused"))]
            rows = [
                [
                    f["track"].name,
                    *(
                        moves[f["track"].pk][f"{kind}_{days}"]
                        for days in selectors.MOVEMENT_WINDOWS
                        for kind in ("forward", "back", "paused")
                    ),
                ]  # fmt: skip
                for f in result
            ]
            return export_response(
                fmt, "movement", headers, rows, filters=_file_filters(form, "region", "track"), as_of=filters.as_of
            )
        headers = [_("Track"), _("Stage"), _("Countries"), _("Share (%)")]
        rows = [[f["track"].name, s["stage"].name, s["count"], s["share"]] for f in result for s in f["steps"]]
        return export_response(fmt, "funnels", headers, rows, filters=_file_filters(form, "region", "track"), as_of=filters.as_of)
    for funnel in result:
        funnel["chart"] = charts.funnel_bars(funnel, tops.get(funnel["track"].pk, 0))
        funnel["moves"] = moves[funnel["track"].pk]
    return render(
        request,
        "dashboards/funnels.html",
        {"form": form, "filters": filters, "funnels": result, "day": day, "query": query_without(request.GET, "export"),
         "section": "funnels", "windows": selectors.MOVEMENT_WINDOWS},
    )  # fmt: skip


ATTENTION_TABLES = ("troubled", "paused", "agreements")


def _people(users) -> str:
    return ", ".join(user.get_full_name() or user.get_username() for user in users)


@reader_required
def attention(request):
    """The tracks that need a look (stalled, overdue follow-ups, next step past its date), with their liaisons and
    reasons and the count per reason; paused tracks; agreements expiring soon. Filters: region, track, liaison,
    reason."""
    form = _filter_form(request, selectors.active_tracks())
    filters = form.filters()
    data = selectors.attention(region=filters.region, track=filters.track, liaison=filters.liaison, reason=filters.reason)
    fmt = _export_format(request)
    if fmt:
        table = request.GET.get("table")
        if table == "paused":
            headers = [_("Country"), _("Track"), _("Liaison"), _("Resume on"), _("Reason")]
            rows = [
                [ct.country.name, ct.track.name, _people(ct.liaisons), ct.resume_on, ct.pause_reason] for ct in data["paused"]
            ]
        elif table == "agreements":
            headers = [_("Country"), _("Agreement"), _("Kind"), _("Signed on"), _("Expires on")]
            rows = [[a.country.name, a.title, a.get_kind_display(), a.signed_on, a.expires_on] for a in data["agreements"]]
        else:
            table = "troubled"
            labels = dict(selectors.AttentionReason.CHOICES)
            headers = [_("Country"), _("Track"), _("Stage"), _("Health"), _("Liaison"), _("Reasons"),
                       _("Days without engagement"), _("Stage threshold (days)"), _("Overdue follow-ups"),
                       _("Next step"), _("Next step due")]  # fmt: skip
            rows = [
                [
                    ct.country.name,
                    ct.track.name,
                    ct.stage.name,
                    ct.get_health_display(),
                    _people(ct.liaisons),
                    "; ".join(str(labels[key]) for key in ct.reasons),
                    ct.quiet_days,
                    ct.threshold,
                    ct.overdue_follow_ups,
                    ct.next_step,
                    ct.next_step_due,
                ]  # fmt: skip
                for ct in data["troubled"]
            ]
        return export_response(
            fmt, f"attention-{table}", headers, rows, filters=_file_filters(form, "region", "track", "liaison", "reason")
        )
    for ct in data["troubled"]:
        ct.can_log = user_can_write_country(request.user, ct.country_id)
    return render(
        request,
        "dashboards/attention.html",
        {
            **data,
            "form": form,
            "filters": filters,
            "query": query_without(request.GET, "export", "table"),
            "section": "attention",
            "reason_links": _reason_links(request, data["reason_counts"], filters.reason),
        },
    )


def _reason_links(request, counts, current: str) -> list[dict]:
    """ "All reasons" and one link per reason with its count; each keeps the other filters."""
    links = []
    for key, label, count in [("", _("All reasons"), None), *counts]:
        query = QueryDict(query_without(request.GET, "reason", "export", "table"), mutable=True)
        if key:
            query["reason"] = key
        links.append({"label": label, "count": count, "query": query.urlencode(), "current": key == current})
    return links


@reader_required
def infrastructure(request):
    """Capacity planned, under construction and operational, by region and country; by quarter; the facilities."""
    form = FacilityFilterForm(request.GET or None)
    if form.is_bound:
        form.is_valid()
    region = form.cleaned_data.get("region", "") if form.is_bound else ""
    status = form.cleaned_data.get("status", "") if form.is_bound else ""
    totals = selectors.capacity(region=region)
    quarters = selectors.capacity_by_quarter(region=region)
    facilities = selectors.facility_list(region=region, status=status)
    fmt = _export_format(request)
    if fmt:
        table = request.GET.get("table")
        by_region = _file_filters(form, "region")
        units = [
            f"{unit} {state}" for state in (_("planned"), _("under construction"), _("operational")) for unit in ("MW", "H100")
        ]
        keys = [f"{u}_{s}" for s in selectors.CAPACITY_STATES for u in ("mw", "h100")]
        if table == "regions":
            rows = [[r["region"], *(r[k] for k in keys)] for r in totals["by_region"]]
            return export_response(fmt, "capacity-by-region", [_("Region"), *units], rows, filters=by_region)
        if table == "quarters":
            rows = [[q["label"], q["planned"], q["online"]] for q in quarters]
            return export_response(
                fmt, "capacity-by-quarter", [_("Quarter"), _("MW planned"), _("MW online")], rows, filters=by_region
            )
        if table == "facilities":
            rows = [
                [
                    f.name,
                    f.country.name,
                    f.get_kind_display(),
                    f.get_status_display(),
                    f.city,
                    f.mw,
                    f.h100,
                    "; ".join(f"{p.organisation.name} ({p.get_role_display()})" for p in f.partner_roles.all()),
                ]  # fmt: skip
                for f in facilities
            ]
            headers = [_("Facility"), _("Country"), _("Kind"), _("Status"), _("City"), "MW", "H100", _("Partners and roles")]
            return export_response(fmt, "facilities", headers, rows, filters=_file_filters(form, "region", "status"))
        rows = [[r["country"].name, r["country"].iso2, *(r[k] for k in keys)] for r in totals["by_country"]]
        return export_response(fmt, "capacity-by-country", [_("Country"), _("ISO code"), *units], rows, filters=by_region)
    chart = charts.stacked_columns(
        [{"label": q["label"], "values": {"online": q["online"], "planned": q["planned"]}} for q in quarters],
        [
            {"key": "online", "label": _("Online"), "colour": charts.ONLINE_COLOUR},
            {"key": "planned", "label": _("Planned"), "colour": charts.PLANNED_COLOUR},
        ],
        x_title=_("Quarter"),
        y_title=_("Megawatts (MW)"),
    )
    page = Paginator(facilities, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboards/infrastructure.html",
        {"form": form, "totals": totals, "quarters": quarters, "chart": chart, "page": page,
         "query": query_without(request.GET, "export", "table", "page"), "section": "infrastructure"},
    )  # fmt: skip


@reader_required
def world_map(request):
    """Countries shaded by their furthest stage overall, or by their stage on one track; legend and table."""
    tracks, form, filters, stages, tops, day, cells = _cells_page(request)
    track = next((t for t in tracks if t.key == filters.track), None)
    countries = {c.pk: c for c in Country.objects.filter(pk__in=list(cells))}
    paths = shapes()
    entries = []
    for country_id, by_track in cells.items():
        country = countries[country_id]
        if track is not None:
            cell = by_track.get(track.pk)
            if cell is None:
                continue
            stage, top = cell.stage, tops.get(track.pk, 0)
        else:
            # Overall: the furthest ladder stage reached on a track that is not withdrawn (the rollup's rule);
            # a country whose every track is withdrawn shows as withdrawn.
            live = [c for c in by_track.values() if c.stage.kind != "withdrawn"]
            if live:
                best = max(live, key=lambda c: c.ladder_position / (tops.get(c.track.pk) or 1))
                stage = next((s for s in stages.values() if s.track_id == best.track.pk and s.kind == "ladder"
                              and s.position == best.ladder_position), best.stage)  # fmt: skip
            else:
                best = next(iter(by_track.values()))
                stage = best.stage
            top = tops.get(best.track.pk, 0)
        fill = charts.map_fill(stage, top)
        entries.append({"country": country, "stage": stage, "fill": fill, "path": paths.get(country.numeric, "")})
    entries.sort(key=lambda e: sort_key(e["country"].name))
    fmt = _export_format(request)
    if fmt:
        rows = [[e["country"].name, e["country"].iso2, e["country"].get_region_display(), e["stage"].name] for e in entries]
        return export_response(
            fmt,
            "map",
            [_("Country"), _("ISO code"), _("Region"), _("Stage")],
            rows,
            filters=_file_filters(form, "track"),
            as_of=filters.as_of,
        )
    legend = {}  # fill id -> (fill, the names of the stages drawn with it)
    for entry in sorted(entries, key=lambda e: (e["stage"].kind != "ladder", e["stage"].position)):
        fill, names = legend.setdefault(entry["fill"]["id"], (entry["fill"], []))
        if entry["stage"].name not in names:
            names.append(entry["stage"].name)
    legend = [{"fill": fill, "label": " / ".join(names)} for fill, names in legend.values()]
    shaded = {e["country"].numeric for e in entries}
    background = [{"code": code, "path": path} for code, path in paths.items() if code not in shaded]
    return render(
        request,
        "dashboards/map.html",
        {"form": form, "filters": filters, "track": track, "entries": entries, "legend": legend, "background": background,
         "width": MAP_WIDTH, "height": MAP_HEIGHT, "sea": charts.MAP_SEA, "border": charts.MAP_BORDER,
         "outside": charts.MAP_NOT_IN_PROGRAMME_COLOUR, "day": day,
         "missing": [e for e in entries if not e["path"]], "section": "map", "query": query_without(request.GET, "export")},
    )  # fmt: skip


@reader_required
def history(request):
    """Countries per stage of a track, week by week (from the stage history); links to the matrix as of a date."""
    tracks = selectors.active_tracks()
    form = _filter_form(request, tracks)
    filters = form.filters()
    chosen = [t for t in tracks if t.key == filters.track] if filters.track else list(tracks)
    day = filters.as_of or timezone.localdate()
    stages = selectors.stage_map()
    tops = selectors.ladder_tops(stages)
    trends = []
    for track in chosen:
        data = selectors.trend(track, stages, day=day)
        series = [{"key": s.pk, "label": s.name, "colour": charts.stage_colour(s, tops.get(track.pk, 0))} for s in data["stages"]]
        columns = [{"label": date_format(p["week"], "SHORT_DATE_FORMAT"), "values": p["counts"]} for p in data["series"]]
        chart = charts.stacked_columns(columns, series, x_title=_("Week ending"), y_title=_("Countries"))
        trends.append({"track": track, "data": data, "chart": chart})
    fmt = _export_format(request)
    if fmt and trends:
        # One track: its weeks; every track: one block of weeks per track, with a "Track" column first.
        several = len(trends) > 1
        names = list(dict.fromkeys(s.name for t in trends for s in t["data"]["stages"]))  # every stage, in order
        headers = [*([_("Track")] if several else []), _("Week ending"), *names]
        rows = []
        for t in trends:
            by_name = {s.pk: s.name for s in t["data"]["stages"]}
            for p in t["data"]["series"]:
                counts = {by_name[pk]: n for pk, n in p["counts"].items() if pk in by_name}
                first = [t["track"].name] if several else []
                rows.append([*first, p["week"], *(counts.get(name, 0) for name in names)])
        name = "trend-all-tracks" if several else f"trend-{trends[0]['track'].key}"
        return export_response(fmt, name, headers, rows, as_of=filters.as_of)
    return render(
        request,
        "dashboards/history.html",
        {"form": form, "filters": filters, "trends": trends, "day": day,
         "query": query_without(request.GET, "export"), "section": "history"},
    )  # fmt: skip
