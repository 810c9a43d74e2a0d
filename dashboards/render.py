"""The pipeline matrix's rows as HTML, built in Python.

The matrix is the portal's largest table (250 countries x 4 tracks, each cell a stage, a health and a
day count). Through the template engine its rows cost about five times the rest of the page
(`make bench-dashboard`); built here (every value escaped) they cost a fraction. What repeats from row to row
(a date, a day count, a readiness figure, a stage chip) is formatted once per page. The markup is the same as the
template would give; ``templates/dashboards/pipeline.html`` holds the rest.
"""

from django.urls import reverse
from django.utils.dateformat import format as format_date
from django.utils.formats import get_format, number_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import ngettext

from countries.regions import Region

_CODE = "zz"  # stands for a country's code in the address of its page, filled in per row


def matrix_rows(rows) -> str:
    """``<tr>`` elements of the matrix body, one per row of ``dashboards.selectors.matrix``."""
    days_cache, dates, figures, heads = {}, {}, {}, {}

    def days_text(days: int) -> str:
        if days not in days_cache:
            days_cache[days] = escape(ngettext("%(days)s day", "%(days)s days", days) % {"days": days})
        return days_cache[days]

    short_date = get_format("SHORT_DATE_FORMAT")  # the reader's language, looked up once

    def date_html(day) -> str:
        if day is None:
            return "—"
        if day not in dates:
            dates[day] = f'<time datetime="{day.isoformat()}">{escape(format_date(day, short_date))}</time>'
        return dates[day]

    def figure(value) -> str:
        if value not in figures:
            figures[value] = escape(number_format(value, 1))  # as floatformat:1 would, in the reader's language
        return figures[value]

    def cell_html(cell) -> str:
        if cell is None:
            return '<td class="cell muted">—</td>'
        # Cells share their stage and health: that part of each cell is built once, then only the days change.
        key = (cell.stage.pk, cell.css, cell.health)
        if key not in heads:
            heads[key] = (
                f'<td class="cell"><span class="stage-chip {escape(cell.css)}">{escape(cell.stage.name)}</span>'
                f'<span class="health-text health-text-{escape(cell.health)}">{escape(cell.health_label)}</span>'
            )
        return f'{heads[key]}<span class="days">{days_text(cell.days_in_stage)}</span></td>'

    regions = {code: escape(label) for code, label in Region.choices}  # get_region_display() per row is slow
    address = reverse("country-detail", args=[_CODE])
    head, tail = address[: address.rindex(_CODE)], address[address.rindex(_CODE) + len(_CODE) :]
    html = []
    for row in rows:
        country = row.country
        html.append(
            f'<tr><th scope="row"><a href="{escape(head + country.iso2.lower() + tail)}">{escape(country.name)}</a></th>'
            f'<td>{regions.get(country.region, "—")}</td><td class="num">{figure(row.readiness)} %</td>'
            f"<td>{date_html(row.last_engagement_on)}</td>{''.join(cell_html(cell) for cell in row.cells)}</tr>"
        )
    return mark_safe("\n".join(html))
