"""The pipeline matrix's rows as HTML, built in Python.

The matrix is the portal's largest table (250 countries x 4 tracks, each cell a stage, a health and a
day count). Through the template engine its rows cost about five times the rest of the page
(`make bench-dashboard`); built here with ``format_html`` (every value escaped) they cost a fraction.
The markup is the same as the template would give; ``templates/dashboards/pipeline.html`` holds the rest.
"""

from django.urls import reverse
from django.utils.formats import date_format, number_format
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import ngettext

from countries.regions import Region


def matrix_rows(rows) -> str:
    """``<tr>`` elements of the matrix body, one per row of ``dashboards.selectors.matrix``."""
    days_cache = {}

    def days_text(days: int) -> str:
        if days not in days_cache:
            days_cache[days] = escape(ngettext("%(days)s day", "%(days)s days", days) % {"days": days})
        return days_cache[days]

    # Cells share their stage and health: that part of each cell is built once, then only the days change.
    heads = {}

    def cell_html(cell) -> str:
        if cell is None:
            return '<td class="cell muted">—</td>'
        key = (cell.stage.pk, cell.css, cell.health)
        if key not in heads:
            heads[key] = format_html(
                '<td class="cell"><span class="stage-chip {}">{}</span><span class="health-text health-text-{}">{}</span>',
                cell.css,
                cell.stage.name,
                cell.health,
                cell.health_label,
            )
        return f'{heads[key]}<span class="days">{days_text(cell.days_in_stage)}</span></td>'

    regions = {code: str(label) for code, label in Region.choices}  # get_region_display() per row is slow
    no_date = mark_safe("—")
    html = []
    for row in rows:
        country = row.country
        last = row.last_engagement_on
        html.append(
            format_html(
                '<tr><th scope="row"><a href="{}">{}</a></th><td>{}</td><td class="num">{} %</td><td>{}</td>{}</tr>',
                reverse("country-detail", args=[country.iso2.lower()]),
                country.name,
                regions.get(country.region, "—"),
                number_format(row.readiness, 1),  # as floatformat:1 would, in the reader's language
                format_html('<time datetime="{}">{}</time>', last.isoformat(), date_format(last, "SHORT_DATE_FORMAT"))
                if last
                else no_date,
                mark_safe("".join(cell_html(cell) for cell in row.cells)),
            )
        )
    return mark_safe("\n".join(html))
