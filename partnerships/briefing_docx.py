"""The country briefing as an editable Word document (python-docx): the same content as the page, in the reader's
language; a brief holding something confidential says so in the header of every page."""

import io

from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.shared import Mm, Pt


def _day(value) -> str:
    return date_format(value, "SHORT_DATE_FORMAT") if value else "—"


def _bullets(document, items, empty: str) -> None:
    if not items:
        document.add_paragraph(empty)
        return
    for text in items:
        document.add_paragraph(text, style="List Bullet")


def briefing_docx(brief) -> bytes:
    """The ``.docx`` bytes of a brief built by ``partnerships.briefing.country_briefing``."""
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(15)
    section.top_margin = section.bottom_margin = Mm(15)
    document.styles["Normal"].font.size = Pt(9.5)

    generated = date_format(timezone.localtime(brief.generated_at), "DATETIME_FORMAT")
    header = section.header.paragraphs[0]
    if brief.holds_confidential:
        header.text = _("Confidential: contains engagements for restricted readers. Do not circulate.")
        header.runs[0].bold = True
    section.footer.paragraphs[0].text = _("Generated on %(when)s") % {"when": generated}

    country = brief.country
    document.add_heading(f"{country.name} ({country.iso2}) · {_('Country briefing')}", level=1)
    document.add_paragraph(_("Generated on %(when)s") % {"when": generated})

    document.add_heading(_("Status"), level=2)
    status = brief.status
    if status is None:
        document.add_paragraph(_("This country is not in the programme."))
    else:
        facts = [
            (_("Readiness"), f"{number_format(status.readiness, 1)} %"),
            (_("Health"), status.get_worst_health_display()),
            (_("Engagements"), number_format(status.engagement_count, force_grouping=True)),
            (_("Last engagement"), _day(status.last_engagement_on)),
            (_("Open follow-ups"), str(brief.open_follow_up_count)),
            (_("Overdue follow-ups"), str(brief.overdue_follow_up_count)),
            (_("MW planned"), number_format(status.mw_planned, 0, force_grouping=True)),
            (_("MW operational"), number_format(status.mw_operational, 0, force_grouping=True)),
        ]
        document.add_paragraph(" · ".join(f"{label}: {value}" for label, value in facts))
        if brief.health_reasons:
            why = "; ".join(f"{cell.track.name}: {cell.health_reason}" for cell in brief.health_reasons)
            document.add_paragraph(f"{_('Why')}: {why}")

    if brief.cells:
        document.add_heading(_("Tracks"), level=2)
        table = document.add_table(rows=1, cols=5)
        table.style = "Table Grid"
        labels = [_("Track"), _("Stage"), _("Since"), _("Health"), _("Next step")]
        for cell, label in zip(table.rows[0].cells, labels, strict=True):
            cell.text = str(label)
        for ct in brief.cells:
            next_step = "—"
            if ct.next_step:
                next_step = ct.next_step + (f" ({_day(ct.next_step_due)})" if ct.next_step_due else "")
                if ct.next_step_overdue:
                    next_step += f" · {_('Overdue')}"
            row = table.add_row().cells
            values = [
                ct.track.name,
                ct.stage.name,
                _day(timezone.localdate(ct.stage_changed_at)),
                f"{ct.get_health_display()}: {ct.health_reason}",
                next_step,
            ]
            for cell, value in zip(row, values, strict=True):
                cell.text = value

    document.add_heading(_("Counterparts in post"), level=2)
    people = []
    for person in brief.counterparts:
        parts = [person.name, person.title, person.organisation]
        if brief.show_contact_details:
            parts += [person.email, person.phone]
        people.append(" · ".join(p for p in parts if p))
    _bullets(document, people, _("No counterpart recorded."))

    document.add_heading(_("Latest engagements"), level=2)
    _bullets(
        document,
        [
            f"{_day(e.occurred_on)} · {e.get_kind_display()}"
            + (f" [{_('Confidential')}]" if e.confidential else "")
            + f": {e.summary}"
            + (f" — {e.outcome}" if e.outcome else "")
            for e in brief.engagements
        ],
        _("No engagement yet."),
    )

    document.add_heading(
        f"{_('Open follow-ups')} ({brief.open_follow_up_count}, {_('Overdue').lower()}: {brief.overdue_follow_up_count})", level=2
    )
    _bullets(
        document,
        [
            (f"{_('Overdue')} · " if f.overdue else "")
            + f"{_day(f.due_on)} · {f.description}"
            + (f" [{_('Confidential')}]" if f.confidential else "")
            + (f" · {f.owner.get_full_name() or f.owner.username}" if f.owner else "")
            for f in brief.follow_ups
        ],
        _("No open follow-up."),
    )

    document.add_heading(_("Agreements"), level=2)
    agreements = []
    for a in brief.agreements:
        signed = _("signed %(date)s") % {"date": _day(a.signed_on)}
        if a.expires_on:
            expiry = (_("expired %(date)s") if a.expired else _("expires %(date)s")) % {"date": _day(a.expires_on)}
        else:
            expiry = _("no expiry")
        agreements.append(f"{a.title} ({a.get_kind_display()}, {signed}, {expiry})")
    _bullets(document, agreements, _("No agreement recorded."))

    document.add_heading(_("Facilities"), level=2)
    facilities = []
    for f in brief.facilities:
        capacity = _("%(total)s MW, %(operational)s MW operational") % {
            "total": number_format(f.mw_total, 0, force_grouping=True),
            "operational": number_format(f.mw_operational, 0, force_grouping=True),
        }
        where = f", {f.city}" if f.city else ""
        facilities.append(f"{f.name} ({f.get_kind_display()}, {f.get_status_display()}){where} · {capacity}")
    _bullets(document, facilities, _("No facility recorded."))

    document.add_heading(_("Published announcements"), level=2)
    _bullets(
        document,
        [f"{_day(timezone.localdate(a.published_at))} · {a.title}" for a in brief.announcements],
        _("No announcement published."),
    )

    document.add_heading(_("Dates ahead"), level=2)
    _bullets(document, [f"{_day(d.on)} · {d.what}" for d in brief.dates_ahead], _("Nothing dated in the coming six months."))

    document.add_paragraph(_("Generated for its reader: it shows only what they may see."))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
