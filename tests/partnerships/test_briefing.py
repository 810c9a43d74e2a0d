"""The country briefing: the print page, the PDF and the Word document, each generated for its reader."""

import builtins
import datetime
import io
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from docx import Document
from pypdf import PdfReader

from announcements.services import announcement_create, announcement_publish
from countries.services import counterpart_create
from engagements.models import Engagement
from engagements.services import agreement_create, engagement_log, engagement_void
from infrastructure.services import capacity_phase_add, facility_create
from partnerships.models import CountryTrack
from partnerships.rollup import rollup_countries
from partnerships.services import country_track_move, country_track_update, partnership_create
from tests import factories

pytestmark = pytest.mark.django_db

MARK = "Confidential: contains engagements for restricted readers. Do not circulate."
EMAIL = "ada.minister@dsit.example.gov"
A4 = (595, 842)  # points


def _days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.fixture
def gb_brief(staff_user, gb_liaison):
    gb = factories.country("GB")
    partnership_create(actor=staff_user, country=gb)
    workforce = factories.track("workforce")
    ada = counterpart_create(actor=gb_liaison, country=gb, name="Ada Minister", title="Minister for AI", email=EMAIL)
    factories.CounterpartFactory(country=gb, name="Old Official", active_from=_days(-400), active_to=_days(-30))
    engagement_log(actor=gb_liaison, country=gb, occurred_on=_days(-10), kind="meeting", summary="Skills kick-off",
                   tracks=[workforce], counterparts=[ada],
                   follow_ups=[{"description": "Send the skills framework", "due_on": _days(-1)}])  # fmt: skip
    engagement_log(actor=gb_liaison, country=gb, occurred_on=_days(-5), kind="call", summary="Secret budget call",
                   tracks=[workforce], sensitivity=Engagement.Sensitivity.CONFIDENTIAL,
                   follow_ups=[{"description": "Cost the secret option", "due_on": _days(20)}])  # fmt: skip
    mistake = engagement_log(actor=gb_liaison, country=gb, occurred_on=_days(-4), kind="call", summary="Logged twice")
    engagement_void(actor=gb_liaison, engagement=mistake, reason="Duplicate")
    cell = CountryTrack.objects.get(country=gb, track=workforce)
    cell = country_track_move(actor=gb_liaison, country_track=cell, to_stage=factories.stage("workforce", "exploring"))
    country_track_update(actor=gb_liaison, country_track=CountryTrack.objects.get(pk=cell.country_track_id),
                         next_step="Draft the skills compact", next_step_due=_days(30))  # fmt: skip
    agreement_create(actor=staff_user, country=gb, kind="mou", title="MoU on AI skills", signed_on=_days(-2),
                     expires_on=_days(60), tracks=[workforce])  # fmt: skip
    facility = facility_create(actor=staff_user, country=gb, name="Isambard North", city="Bristol")
    capacity_phase_add(actor=staff_user, facility=facility, name="Phase 1", online_on=_days(90), power_mw=Decimal(42))
    news = announcement_create(actor=staff_user, title="Skills partnership announced", countries=[gb])
    announcement_publish(actor=staff_user, announcement=news)
    announcement_create(actor=staff_user, title="Draft news not for the brief", countries=[gb])
    rollup_countries()
    return gb


def get(client, user, name="country-briefing", code="gb", **headers):
    client.force_login(user)
    return client.get(reverse(name, args=[code]), **headers)


def pdf_text(response) -> tuple[PdfReader, list[str]]:
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return reader, [page.extract_text() for page in reader.pages]


def docx_text(response) -> tuple[Document, str]:
    document = Document(io.BytesIO(response.content))
    body = "\n".join(p.text for p in document.paragraphs)
    body += "\n".join(cell.text for table in document.tables for row in table.rows for cell in row.cells)
    return document, body


# --- contents per role ---------------------------------------------------------------------------------------


def test_a_viewers_brief_has_no_confidential_engagement_nor_contact_details(client, gb_brief, viewer_user):
    html = get(client, viewer_user).content.decode()
    assert "Skills kick-off" in html and "Secret budget call" not in html and "Cost the secret option" not in html
    assert MARK not in html
    assert "Ada Minister" in html and EMAIL not in html
    assert "Old Official" not in html  # no longer in post
    assert "Logged twice" not in html  # voided
    assert "Draft news not for the brief" not in html and "Skills partnership announced" in html


def test_a_liaisons_brief_for_their_country_has_it_and_says_so_on_every_page(client, gb_brief, gb_liaison):
    html = get(client, gb_liaison).content.decode()
    assert "Secret budget call" in html and "Cost the secret option" in html
    # Once at the top of the page; the stylesheet repeats it in the margin of every printed page (the PDF's test).
    assert html.count(MARK) == 1
    assert EMAIL in html
    assert "Logged twice" not in html


def test_another_countrys_liaison_sees_the_viewers_brief(client, gb_brief, fr_liaison):
    html = get(client, fr_liaison).content.decode()
    assert "Secret budget call" not in html and MARK not in html and EMAIL not in html


def test_the_brief_shows_status_tracks_and_what_is_ahead_with_links(client, gb_brief, gb_liaison):
    html = get(client, gb_liaison).content.decode()
    for heading in ("Status", "Tracks", "Counterparts in post", "Latest engagements", "Open follow-ups", "Agreements",
                    "Facilities", "Published announcements", "Dates ahead"):  # fmt: skip
        assert f">{heading}" in html, heading
    assert "Exploring" in html and "Draft the skills compact" in html
    assert "1 follow-up overdue" in html  # why the track is at risk
    assert "MoU on AI skills" in html and "expires" in html
    assert "Isambard North" in html and "42 MW, 0 MW operational" in html
    assert "Generated on" in html
    engagement = Engagement.objects.get(summary="Skills kick-off")
    assert f'href="{reverse("engagement-detail", args=[engagement.pk])}"' in html
    assert f'href="{reverse("country-detail", args=["gb"])}#track-' in html
    assert "<form" not in html and "site-header" not in html  # a page for print: no navigation, no forms


def test_the_brief_is_in_the_readers_language(client, gb_brief, viewer_user):
    html = get(client, viewer_user, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<html lang="fr">' in html
    assert "Maturité" in html and "Volets" in html and "Readiness" not in html
    document, text = docx_text(get(client, viewer_user, "country-briefing-word", HTTP_ACCEPT_LANGUAGE="fr"))
    assert "Maturité" in text and "Volets" in [p.text for p in document.paragraphs]
    html = get(client, viewer_user, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in html and "Readiness" in html


def test_the_country_page_links_to_the_briefing_in_each_form(client, gb_brief, viewer_user):
    client.force_login(viewer_user)
    html = client.get(reverse("country-detail", args=["gb"])).content.decode()
    for name in ("country-briefing", "country-briefing-pdf", "country-briefing-word"):
        assert f'href="{reverse(name, args=["gb"])}"' in html


def test_a_signed_in_user_with_no_role_is_refused(client, gb_brief):
    for name in ("country-briefing", "country-briefing-pdf", "country-briefing-word"):
        assert get(client, factories.make_user(None, username=f"nobody-{name}"), name).status_code == 403


# --- the PDF ---------------------------------------------------------------------------------------------------


def test_the_pdf_has_the_headings_and_figures_and_the_mark_on_every_page(client, gb_brief, gb_liaison):
    response = get(client, gb_liaison, "country-briefing-pdf")
    assert response.status_code == 200
    reader, pages = pdf_text(response)
    text = "\n".join(pages)
    for expected in ("Country briefing", "Tracks", "Counterparts in post", "Latest engagements", "Dates ahead",
                     "Secret budget call", "MoU on AI skills", "Isambard North", "42 MW", "Generated on"):  # fmt: skip
        assert expected in text, expected
    assert all(MARK in page for page in pages)
    assert {(round(p.mediabox.width), round(p.mediabox.height)) for p in reader.pages} == {A4}


def test_a_viewers_pdf_has_no_mark_and_no_confidential_engagement(client, gb_brief, viewer_user):
    _reader, pages = pdf_text(get(client, viewer_user, "country-briefing-pdf"))
    text = "\n".join(pages)
    assert "Skills kick-off" in text and "Secret budget call" not in text and MARK not in text


def test_the_demo_uk_brief_fits_on_two_a4_pages(client):
    call_command("seed_demo", countries=10, engagements=200, allow_production=True, stdout=io.StringIO())
    from django.contrib.auth import get_user_model

    liaison = get_user_model().objects.get(username="demo-liaison")  # GB's liaison: sees its confidential ones too
    reader, pages = pdf_text(get(client, liaison, "country-briefing-pdf"))
    assert 1 <= len(reader.pages) <= 2
    assert "United Kingdom" in pages[0] and "Dates ahead" in "\n".join(pages)


def test_without_pango_the_pdf_link_says_pdf_is_unavailable(client, gb_brief, viewer_user, monkeypatch):
    real_import = builtins.__import__

    def import_without_pango(name, *args, **kwargs):
        if name == "weasyprint" or name.startswith("weasyprint."):
            raise OSError("cannot load library 'libpango-1.0-0': No such file")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", import_without_pango)
    response = get(client, viewer_user, "country-briefing-pdf")
    assert response.status_code == 503
    assert "PDF is unavailable on this server" in response.content.decode()
    assert reverse("country-briefing-word", args=["gb"]) in response.content.decode()


# --- the Word document -----------------------------------------------------------------------------------------


def test_the_word_document_opens_with_its_contents_and_the_mark_in_every_header(client, gb_brief, gb_liaison):
    response = get(client, gb_liaison, "country-briefing-word")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment;")
    document, text = docx_text(response)
    assert "Country briefing" in text and "Secret budget call" in text and EMAIL in text and "Exploring" in text
    assert all(section.header.paragraphs[0].text == MARK for section in document.sections)
    assert "Generated on" in document.sections[0].footer.paragraphs[0].text


def test_a_viewers_word_document_has_no_mark(client, gb_brief, viewer_user):
    document, text = docx_text(get(client, viewer_user, "country-briefing-word"))
    assert "Secret budget call" not in text and EMAIL not in text
    assert document.sections[0].header.paragraphs[0].text == ""


# --- queries do not grow with rows ----------------------------------------------------------------------------


def _queries(client, user, name) -> int:
    client.force_login(user)
    path = reverse(name, args=["gb"])
    client.get(path)  # warm: sessions, the role groups
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


@pytest.mark.parametrize("name", ["country-briefing", "country-briefing-word"])
def test_queries_are_the_same_with_5_and_with_50_engagements(client, gb_brief, gb_liaison, name):
    gb, workforce = gb_brief, factories.track("workforce")
    people = [factories.CounterpartFactory(country=gb) for _ in range(3)]

    def log(count):
        for i in range(count):
            engagement = engagement_log(actor=gb_liaison, country=gb, occurred_on=_days(-20 - i), kind="call",
                                        summary=f"Call {i}", tracks=[workforce], counterparts=people,
                                        follow_ups=[{"description": f"Do {i}", "due_on": _days(i - 3)}])  # fmt: skip
            assert engagement.pk

    log(5)
    with_5 = _queries(client, gb_liaison, name)
    log(45)
    assert _queries(client, gb_liaison, name) == with_5


class _Nesting(HTMLParser):
    """Every element closed in order, and every id once (what a validator would first complain of)."""

    VOID = {"meta", "link", "br", "img", "input", "hr", "source", "wbr"}

    def __init__(self):
        super().__init__()
        self.open, self.ids, self.problems = [], set(), []

    def handle_starttag(self, tag, attrs):
        found = dict(attrs).get("id")
        if found:
            if found in self.ids:
                self.problems.append(f"id {found} twice")
            self.ids.add(found)
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.open[-1] if self.open else None}>")
        else:
            self.open.pop()


@pytest.mark.parametrize("role", ["viewer_user", "gb_liaison"])
def test_the_brief_is_well_formed_html(client, gb_brief, role, request):
    parser = _Nesting()
    parser.feed(get(client, request.getfixturevalue(role)).content.decode())
    assert parser.problems == [] and parser.open == []
