"""The dashboards (pipeline matrix, funnels, needs attention, infrastructure, world map, history) on
small hand-built programmes, with the expected figures written out."""

import csv
import datetime
import io
import itertools
import re
from html.parser import HTMLParser

import openpyxl
import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from announcements.models import Announcement
from countries.models import Country, CountryStatus, LiaisonAssignment
from engagements.models import Engagement
from infrastructure.models import CapacityPhase, Facility
from partnerships.models import CountryTrack
from partnerships.rollup import rollup_countries
from partnerships.services import country_track_move, country_track_pause, country_track_withdraw, partnership_create
from tests import factories

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2025, 6, 30, 12, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2025, 6, 30)
START = datetime.date(2025, 3, 1)  # 121 days before TODAY
PAGES = [
    "dashboard",
    "dashboard-funnels",
    "dashboard-attention",
    "dashboard-infrastructure",
    "dashboard-map",
    "dashboard-history",
]


@pytest.fixture(autouse=True)
def _frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


def on(day):
    """Travel to noon of ``day`` (services stamp ``timezone.now()``)."""
    return time_machine.travel(datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC), tick=False)


def d(month, day):
    return datetime.date(2025, month, day)


def join(code, actor, day=START):
    with on(day):
        return partnership_create(actor=actor, country=factories.country(code))


def move(code, track_key, stage_key, day, actor, note=""):
    ct = CountryTrack.objects.get(country__iso2=code, track__key=track_key)
    with on(day):
        country_track_move(actor=actor, country_track=ct, to_stage=factories.stage(track_key, stage_key), note=note)


def pause(code, track_key, day, actor, resume_on):
    ct = CountryTrack.objects.get(country__iso2=code, track__key=track_key)
    with on(day):
        country_track_pause(actor=actor, country_track=ct, reason="Elections", resume_on=resume_on)


# --- reading the HTML ---------------------------------------------------------------------------


class _Rows(HTMLParser):
    """Every table row of a page as the list of its cells' text (th and td), whitespace collapsed."""

    def __init__(self):
        super().__init__()
        self.rows, self.row, self.cell = [], None, None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif self.cell is not None:
            self.cell.append(" ")  # text of sibling elements reads as separate words

    def handle_endtag(self, tag):
        if self.cell is not None and tag not in ("td", "th"):
            self.cell.append(" ")
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def rows(html):
    parser = _Rows()
    parser.feed(html)
    return parser.rows


def body_rows(html):
    """Rows whose first cell is a row header (leaves out the header rows)."""
    return [r for r in rows(html) if r and r[0]]


def row_of(html, name):
    found = [r for r in rows(html) if r and r[0] == name]
    assert len(found) == 1, f"expected one row for {name!r}, found {found}"
    return found[0]


def section(html, heading_id):
    """The HTML of the <section> labelled by ``heading_id``."""
    return between(html, f'aria-labelledby="{heading_id}"', "</section>")


def between(html, start, end):
    begin = html.index(start)
    return html[begin : html.index(end, begin)]


def matrix_rows(html):
    """The body rows of the pipeline matrix ([] when the page says no country matches)."""
    if '<table class="matrix">' not in html:
        assert "No country matches these filters." in html
        return []
    return rows(between(html, '<table class="matrix">', "</table>"))[1:]


def matrix_names(html):
    return [r[0] for r in matrix_rows(html)]


def facts(html):
    """The <dl class="facts"> as {dt: dd}."""
    return dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", between(html, '<dl class="facts">', "</dl>")))


def get(client, user, name, **params):
    client.force_login(user)
    response = client.get(reverse(name), params)
    return response, response.getvalue().decode()


# --- the programme ------------------------------------------------------------------------------


@pytest.fixture
def programme(staff_user):
    """Three countries, all joined on 1 March 2025 (121 days before 30 June 2025, "today").

    United Kingdom (Europe): workforce exploring since 20 Jun; public services negotiating since 21 Mar,
      no engagement on that track (stalled: 101 days, the stage allows 60); safety not started; data centres exploring
      on 1 May then paused on 10 Jun until 1 Sep. Last engagement (no track) 25 Jun.  readiness (1+2+0+1)/5/4 = 20.0 %
    Kenya (Africa): workforce agreed on 1 Jun, with an overdue follow-up (at risk); public services
      negotiating since 25 Jun; safety not started; data centres operational since 1 May.
      Last engagement 20 Jun.                                                   readiness (3+2+0+5)/5/4 = 50.0 %
    Brazil (Americas): workforce negotiating on 1 May, back to exploring on 20 Jun; others not started.
      Last (normal) engagement 1 May; a confidential one on 28 Jun.             readiness 1/5/4 = 5.0 %
    """
    for code in ("GB", "KE", "BR"):
        join(code, staff_user)
    move("GB", "workforce", "exploring", d(6, 20), staff_user)
    move("GB", "public_services", "negotiating", d(3, 21), staff_user)
    move("GB", "data_centres", "exploring", d(5, 1), staff_user)
    pause("GB", "data_centres", d(6, 10), staff_user, resume_on=d(9, 1))
    move("KE", "workforce", "agreed", d(6, 1), staff_user)
    move("KE", "public_services", "negotiating", d(6, 25), staff_user)
    move("KE", "data_centres", "operational", d(5, 1), staff_user)
    move("BR", "workforce", "negotiating", d(5, 1), staff_user)
    move("BR", "workforce", "exploring", d(6, 20), staff_user, note="The minister changed")
    kenya, brazil = factories.country("KE"), factories.country("BR")
    factories.EngagementFactory(country=kenya, occurred_on=d(6, 20), tracks=[factories.track("workforce")])
    factories.FollowUpFactory(country=kenya, track=factories.track("workforce"), due_on=d(6, 25), description="Send the draft")
    factories.EngagementFactory(country=brazil, occurred_on=d(5, 1), summary="Intro call")
    factories.EngagementFactory(country=factories.country("GB"), occurred_on=d(6, 25), summary="General catch-up")
    factories.EngagementFactory(
        country=brazil, occurred_on=d(6, 28), summary="Secret talk", sensitivity=Engagement.Sensitivity.CONFIDENTIAL
    )
    rollup_countries()
    return staff_user


GB_ROW = ["United Kingdom", "Europe", "20.0 %", "25 Jun 2025", "Exploring On track 10 days", "Negotiating Stalled 101 days",
          "Not started Not active 121 days", "Paused Paused 20 days"]  # fmt: skip
KE_ROW = ["Kenya", "Africa", "50.0 %", "20 Jun 2025", "Agreed At risk 29 days", "Negotiating On track 5 days",
          "Not started Not active 121 days", "Operational On track 60 days"]  # fmt: skip
BR_ROW = ["Brazil", "Americas", "5.0 %", "1 May 2025", "Exploring On track 10 days", "Not started Not active 121 days",
          "Not started Not active 121 days", "Not started Not active 121 days"]  # fmt: skip


def funnel_card(html, track_key):
    return between(html, f'aria-labelledby="funnel-{track_key}"', "</article>")


def csv_rows(response):
    return list(csv.reader(io.StringIO(response.getvalue().decode("utf-8-sig"))))


def xlsx_rows(response):
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]


# --- 1. the pipeline matrix ---------------------------------------------------------------------


def test_matrix_shows_each_cell_stage_health_and_days(client, programme):
    response, html = get(client, programme, "dashboard")
    assert response.status_code == 200
    assert '<h2 id="matrix-title">3 countries</h2>' in html
    header = rows(between(html, '<table class="matrix">', "</thead>"))[0]
    assert header == ["Country", "Region", "Readiness", "Last engagement", "Workforce training", "Public-service improvement",
                      "AI safety standards", "Data centres and supercomputers"]  # fmt: skip
    assert matrix_rows(html) == [BR_ROW, KE_ROW, GB_ROW]
    assert row_of(html, "United Kingdom") == GB_ROW
    assert row_of(html, "Kenya") == KE_ROW


def test_matrix_region_filter_keeps_that_region(client, programme):
    _, html = get(client, programme, "dashboard", region="150")
    assert matrix_rows(html) == [GB_ROW]
    _, html = get(client, programme, "dashboard", region="002")
    assert matrix_rows(html) == [KE_ROW]
    _, html = get(client, programme, "dashboard", region="142")
    assert matrix_rows(html) == []
    assert '<h2 id="matrix-title">0 countries</h2>' in html


def test_matrix_track_filter_shows_one_track_column(client, programme):
    _, html = get(client, programme, "dashboard", track="data_centres")
    header = rows(between(html, '<table class="matrix">', "</thead>"))[0]
    assert header == ["Country", "Region", "Readiness", "Last engagement", "Data centres and supercomputers"]
    assert matrix_rows(html) == [
        ["Brazil", "Americas", "5.0 %", "1 May 2025", "Not started Not active 121 days"],
        ["Kenya", "Africa", "50.0 %", "20 Jun 2025", "Operational On track 60 days"],
        ["United Kingdom", "Europe", "20.0 %", "25 Jun 2025", "Paused Paused 20 days"],
    ]


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"stage": "negotiating"}, ["Kenya", "United Kingdom"]),
        ({"stage": "agreed"}, ["Kenya"]),
        ({"stage": "not_started"}, ["Brazil", "Kenya", "United Kingdom"]),
        ({"stage": "paused"}, ["United Kingdom"]),
        ({"health": "stalled"}, ["United Kingdom"]),
        ({"health": "at_risk"}, ["Kenya"]),
        ({"health": "paused"}, ["United Kingdom"]),
        ({"health": "on_track"}, ["Brazil", "Kenya", "United Kingdom"]),
        ({"stage": "negotiating", "health": "stalled"}, ["United Kingdom"]),  # one cell must match both
        ({"stage": "exploring", "health": "stalled"}, []),
        ({"track": "workforce", "stage": "exploring"}, ["Brazil", "United Kingdom"]),
        ({"track": "workforce", "stage": "not_started"}, []),
        ({"track": "data_centres", "health": "on_track"}, ["Kenya"]),
    ],
)
def test_matrix_stage_and_health_filters(client, programme, params, expected):
    response, html = get(client, programme, "dashboard", **params)
    assert response.status_code == 200
    assert "Some filters were not understood" not in html
    assert matrix_names(html) == expected


def test_matrix_liaison_filter(client, programme, gb_liaison):
    ke_liaison = factories.liaison("KE", "BR", username="ke-liaison")
    _, html = get(client, programme, "dashboard", liaison=gb_liaison.pk)
    assert matrix_rows(html) == [GB_ROW]
    _, html = get(client, programme, "dashboard", liaison=ke_liaison.pk)
    assert matrix_rows(html) == [BR_ROW, KE_ROW]


@pytest.mark.parametrize(
    "order, expected",
    [
        ("name", ["Brazil", "Kenya", "United Kingdom"]),
        ("-readiness", ["Kenya", "United Kingdom", "Brazil"]),  # 50.0, 20.0, 5.0
        ("region", ["Kenya", "Brazil", "United Kingdom"]),  # Africa, Americas, Europe
        ("-last_engagement", ["United Kingdom", "Kenya", "Brazil"]),  # 25 Jun, 20 Jun, 1 May
    ],
)
def test_matrix_order(client, programme, order, expected):
    _, html = get(client, programme, "dashboard", order=order)
    assert matrix_names(html) == expected


def test_matrix_unknown_region_is_reported_and_the_valid_filters_still_apply(client, programme):
    response, html = get(client, programme, "dashboard", region="999")
    assert response.status_code == 200
    assert "Some filters were not understood and are ignored:" in html
    assert '<li id="id_region_error">Region: Select a valid choice. 999 is not one of the available choices.</li>' in html
    assert matrix_rows(html) == [BR_ROW, KE_ROW, GB_ROW]
    response, html = get(client, programme, "dashboard", region="999", stage="agreed")
    assert response.status_code == 200
    assert "Some filters were not understood" in html
    assert matrix_names(html) == ["Kenya"]


def test_matrix_as_of_in_the_future_is_refused(client, programme):
    response, html = get(client, programme, "dashboard", as_of="2025-07-01")
    assert response.status_code == 200
    assert "Some filters were not understood and are ignored:" in html
    assert "As of: Choose today or a past date: the future has no history yet." in html
    assert 'class="as-of"' not in html  # today's matrix instead
    assert matrix_rows(html) == [BR_ROW, KE_ROW, GB_ROW]
    response, html = get(client, programme, "dashboard", as_of="yesterday")
    assert response.status_code == 200
    assert "As of: Enter a valid date." in html


# --- 2. as of a past date -----------------------------------------------------------------------


@pytest.fixture
def history_of_moves(staff_user):
    """United Kingdom joins 1 Mar; workforce exploring on 25 Mar, negotiating on 1 Jun; a follow-up on the
    track due 10 May, done 25 May; an engagement on the track on 10 Jun.
    Kenya joins on 15 May, Brazil on 15 Jun (after the as-of dates below)."""
    join("GB", staff_user, d(3, 1))
    move("GB", "workforce", "exploring", d(3, 25), staff_user)
    move("GB", "workforce", "negotiating", d(6, 1), staff_user)
    factories.EngagementFactory(country=factories.country("GB"), occurred_on=d(6, 10), tracks=[factories.track("workforce")])
    with on(d(5, 1)):  # due 10 May, done 25 May: overdue from 11 to 24 May
        factories.FollowUpFactory(country=factories.country("GB"), track=factories.track("workforce"), due_on=d(5, 10),
                                  done_at=datetime.datetime(2025, 5, 25, 9, tzinfo=datetime.UTC))  # fmt: skip
    join("KE", staff_user, d(5, 15))
    join("BR", staff_user, d(6, 15))
    rollup_countries()
    return staff_user


def test_matrix_as_of_rebuilds_the_stage_days_and_health_of_that_day(client, history_of_moves):
    user = history_of_moves
    not_started_gb = "Not started Not active 91 days"  # 1 Mar to 31 May
    _, html = get(client, user, "dashboard", as_of="2025-05-31")
    assert '<span class="as-of">as of 31 May 2025</span>' in html
    assert '<h2 id="matrix-title">2 countries</h2>' in html
    assert matrix_rows(html) == [
        ["Kenya", "Africa", "0.0 %", "—"] + ["Not started Not active 16 days"] * 4,
        # exploring since 25 Mar: 67 days without engagement on 31 May (> 60): stalled that day
        ["United Kingdom", "Europe", "5.0 %", "—", "Exploring Stalled 67 days"] + [not_started_gb] * 3,
    ]
    _, html = get(client, user, "dashboard", as_of="2025-05-20")
    assert row_of(html, "United Kingdom")[4] == "Exploring At risk 56 days"  # the follow-up was overdue that day
    assert matrix_names(html) == ["Kenya", "United Kingdom"]
    _, html = get(client, user, "dashboard", as_of="2025-05-09")
    assert row_of(html, "United Kingdom")[4] == "Exploring On track 45 days"  # not yet due
    _, html = get(client, user, "dashboard", as_of="2025-05-14")
    assert matrix_names(html) == ["United Kingdom"]
    _, html = get(client, user, "dashboard", as_of="2025-06-01")
    assert matrix_rows(html)[1][:5] == ["United Kingdom", "Europe", "10.0 %", "—", "Negotiating On track 0 days"]
    assert "Brazil" not in matrix_names(html)
    _, html = get(client, user, "dashboard")
    assert matrix_names(html) == ["Brazil", "Kenya", "United Kingdom"]
    assert row_of(html, "United Kingdom")[:5] == [
        "United Kingdom",
        "Europe",
        "10.0 %",
        "10 Jun 2025",
        "Negotiating On track 29 days",
    ]


def test_matrix_as_of_counts_the_activity_on_the_track_up_to_that_day(client, history_of_moves):
    """Exploring stalls after 60 days: an engagement on the track on 10 May keeps it on track on 31 May; one on
    another track, a voided one, or one dated after the day, does not."""
    gb = factories.country("GB")
    factories.EngagementFactory(country=gb, occurred_on=d(5, 10), tracks=[factories.track("public_services")])
    factories.EngagementFactory(country=gb, occurred_on=d(5, 12), tracks=[factories.track("workforce")], voided_at=timezone.now())
    _, html = get(client, history_of_moves, "dashboard", as_of="2025-05-31")
    assert row_of(html, "United Kingdom")[4] == "Exploring Stalled 67 days"
    factories.EngagementFactory(country=gb, occurred_on=d(5, 10), tracks=[factories.track("workforce")])
    _, html = get(client, history_of_moves, "dashboard", as_of="2025-05-31")
    assert row_of(html, "United Kingdom")[4] == "Exploring On track 67 days"
    _, html = get(client, history_of_moves, "dashboard", as_of="2025-05-09")
    assert row_of(html, "United Kingdom")[4] == "Exploring On track 45 days"  # within 60 days of the move anyway


def test_funnels_as_of_count_the_stage_of_that_day(client, history_of_moves):
    _, html = get(client, history_of_moves, "dashboard-funnels", as_of="2025-05-31")
    assert "as of 31 May 2025" in html
    workforce = rows(funnel_card(html, "workforce"))
    assert workforce[1:4] == [["Not started", "1", "50 %"], ["Exploring", "1", "50 %"], ["Negotiating", "0", "0 %"]]
    assert "Workforce training: countries at each stage, 2 in all" in funnel_card(html, "workforce")
    _, html = get(client, history_of_moves, "dashboard-funnels", as_of="2025-06-01")
    assert rows(funnel_card(html, "workforce"))[1:4] == [["Not started", "1", "50 %"], ["Exploring", "0", "0 %"],
                                                          ["Negotiating", "1", "50 %"]]  # fmt: skip
    _, html = get(client, history_of_moves, "dashboard-funnels")
    assert rows(funnel_card(html, "workforce"))[1:4] == [["Not started", "2", "67 %"], ["Exploring", "0", "0 %"],
                                                          ["Negotiating", "1", "33 %"]]  # fmt: skip


# --- 3. funnels and movement --------------------------------------------------------------------

FUNNEL_HEAD = ["Stage", "Countries", "Share"]


def _steps(*counts):
    names = ["Not started", "Exploring", "Negotiating", "Agreed", "Implementing", "Operational", "Paused", "Withdrawn"]
    return [[name, str(n), f"{share} %"] for name, (n, share) in zip(names, counts, strict=True)]


def test_funnels_count_countries_at_each_stage(client, programme):
    response, html = get(client, programme, "dashboard-funnels")
    assert response.status_code == 200
    expected = {
        "workforce": _steps((0, 0), (2, 67), (0, 0), (1, 33), (0, 0), (0, 0), (0, 0), (0, 0)),
        "public_services": _steps((1, 33), (0, 0), (2, 67), (0, 0), (0, 0), (0, 0), (0, 0), (0, 0)),
        "safety_standards": _steps((3, 100), (0, 0), (0, 0), (0, 0), (0, 0), (0, 0), (0, 0), (0, 0)),
        "data_centres": _steps((1, 33), (0, 0), (0, 0), (0, 0), (0, 0), (1, 33), (1, 33), (0, 0)),
    }
    for key, steps in expected.items():
        table = rows(funnel_card(html, key))
        assert table[0] == FUNNEL_HEAD
        assert table[1:9] == steps, key


MOVE_HEAD = ["", "last 30 days", "last 90 days"]


def test_funnels_movement_over_30_and_90_days(client, programme):
    """Moves 10 days ago (GB, BR back), 29 days ago (KE), 60 days ago (GB, KE, BR), pause 20 days ago (GB);
    GB's move 101 days ago is outside both windows."""
    _, html = get(client, programme, "dashboard-funnels")
    expected = {
        "workforce": [["Moved forward", "2", "3"], ["Moved back", "1", "1"], ["Newly paused", "0", "0"]],
        "public_services": [["Moved forward", "1", "1"], ["Moved back", "0", "0"], ["Newly paused", "0", "0"]],
        "safety_standards": [["Moved forward", "0", "0"], ["Moved back", "0", "0"], ["Newly paused", "0", "0"]],
        "data_centres": [["Moved forward", "0", "2"], ["Moved back", "0", "0"], ["Newly paused", "1", "1"]],
    }
    for key, movement in expected.items():
        table = rows(funnel_card(html, key))
        assert table[9] == MOVE_HEAD
        assert table[10:] == movement, key


def test_funnels_track_filter_shows_one_funnel(client, programme):
    _, html = get(client, programme, "dashboard-funnels", track="data_centres")
    assert 'aria-labelledby="funnel-data_centres"' in html
    assert 'aria-labelledby="funnel-workforce"' not in html


def test_funnels_region_filter_applies_to_counts_and_movement(client, programme):
    """Europe is the United Kingdom alone: its workforce moved forward once in 30 days (20 Jun), never back."""
    _, html = get(client, programme, "dashboard-funnels", region="150")
    table = rows(funnel_card(html, "workforce"))
    assert table[1:3] == [["Not started", "0", "0 %"], ["Exploring", "1", "100 %"]]
    assert table[10:] == [["Moved forward", "1", "1"], ["Moved back", "0", "0"], ["Newly paused", "0", "0"]], (
        "the movement table ignores the region filter: it counts the moves of every country (Kenya and Brazil too)"
    )


# --- 4. needs attention -------------------------------------------------------------------------


@pytest.fixture
def agreements(programme):
    kenya = factories.country("KE")
    factories.AgreementFactory(country=kenya, title="Skills MoU", expires_on=TODAY + datetime.timedelta(days=30))
    factories.AgreementFactory(country=kenya, title="Long MoU", expires_on=TODAY + datetime.timedelta(days=120))
    factories.AgreementFactory(country=kenya, title="Lapsed MoU", expires_on=TODAY - datetime.timedelta(days=1))
    factories.AgreementFactory(
        country=factories.country("GB"), title='=HYPERLINK("http://evil.example","x")', expires_on=d(7, 20)
    )
    return programme


def test_attention_lists_stalled_at_risk_paused_and_expiring(client, agreements):
    response, html = get(client, agreements, "dashboard-attention")
    assert response.status_code == 200
    troubled = section(html, "troubled-title")
    assert 'Tracks that need a look <span class="count-label">(2)</span>' in troubled
    liaisons = {code: ", ".join(u.get_full_name() for u in factories.country(code).liaisons.all()) or "No liaison"
                for code in ("GB", "KE")}  # fmt: skip
    assert body_rows(troubled)[1:] == [
        [
            "United Kingdom",
            "Public-service improvement",
            "Negotiating",
            "Stalled",
            liaisons["GB"],
            "No engagement for 101 days (the stage allows 60).",
            "Log an engagement",  # the reader here is programme staff, who write for every country
        ],
        ["Kenya", "Workforce training", "Agreed", "At risk", liaisons["KE"], "1 overdue follow-up.", "Log an engagement"],
    ]
    assert "No engagement for too long (1)" in troubled and "Overdue follow-ups (1)" in troubled
    assert "Next step past its date (0)" in troubled
    assert "/follow-ups/?show=overdue&amp;country=ke&amp;track=workforce" in troubled
    paused = section(html, "paused-title")
    assert body_rows(paused)[1:] == [
        ["United Kingdom", "Data centres and supercomputers", liaisons["GB"], "1 Sep 2025", "Elections"]
    ]
    assert '<time datetime="2025-09-01">' in paused
    expiring = section(html, "agreements-title")
    assert "Agreements expiring in the next 90 days" in expiring
    assert body_rows(expiring)[1:] == [
        ["United Kingdom", '=HYPERLINK("http://evil.example","x")', "Memorandum of understanding", "20 Jul 2025"],
        ["Kenya", "Skills MoU", "Memorandum of understanding", "30 Jul 2025"],
    ]
    assert "Long MoU" not in html and "Lapsed MoU" not in html


def test_attention_region_filter(client, agreements):
    _, html = get(client, agreements, "dashboard-attention", region="002")
    assert [r[0] for r in body_rows(section(html, "troubled-title"))[1:]] == ["Kenya"]
    assert "No track is paused." in section(html, "paused-title")
    assert [r[1] for r in body_rows(section(html, "agreements-title"))[1:]] == ["Skills MoU"]


def test_attention_filters_by_track_liaison_and_reason_and_names_the_liaison(client, agreements):
    ke_liaison = factories.liaison("KE", username="ke-liaison", first_name="Wanjiru", last_name="Kamau")
    _, html = get(client, agreements, "dashboard-attention")
    assert [r[4] for r in body_rows(section(html, "troubled-title"))[1:]] == ["No liaison", "Wanjiru Kamau"]
    _, html = get(client, agreements, "dashboard-attention", reason="stalled")
    assert [r[0] for r in body_rows(section(html, "troubled-title"))[1:]] == ["United Kingdom"]
    assert 'aria-current="page">No engagement for too long (1)' in html
    _, html = get(client, agreements, "dashboard-attention", track="workforce")
    troubled = section(html, "troubled-title")
    assert [r[0] for r in body_rows(troubled)[1:]] == ["Kenya"]
    assert "No engagement for too long (0)" in troubled  # the counts follow the other filters
    _, html = get(client, agreements, "dashboard-attention", liaison=str(ke_liaison.pk))
    assert [r[0] for r in body_rows(section(html, "troubled-title"))[1:]] == ["Kenya"]
    assert "No track is paused." in section(html, "paused-title")  # the UK's pause is not this liaison's
    _, html = get(client, agreements, "dashboard-attention", liaison=str(ke_liaison.pk), reason="next_step")
    assert "No track needs a look for these filters." in html
    assert "reason=stalled" in html.split('aria-label="By reason"')[1].split("</nav>")[0]


def test_attention_exports(client, agreements):
    client.force_login(agreements)
    gb_liaisons, ke_liaisons = (
        ", ".join(u.get_full_name() for u in factories.country(code).liaisons.all()) for code in ("GB", "KE")
    )
    url = reverse("dashboard-attention")
    response = client.get(url, {"export": "csv", "table": "troubled"})
    assert response["Content-Disposition"] == 'attachment; filename="attention-troubled-2025-06-30.csv"'
    assert csv_rows(response) == [
        ["Country", "Track", "Stage", "Health", "Liaison", "Reasons", "Days without engagement", "Stage threshold (days)",
         "Overdue follow-ups", "Next step", "Next step due"],
        ["United Kingdom", "Public-service improvement", "Negotiating", "Stalled", gb_liaisons, "No engagement for too long",
         "101", "60", "0", "", ""],
        # engagement on the track on 20 Jun
        ["Kenya", "Workforce training", "Agreed", "At risk", ke_liaisons, "Overdue follow-ups", "10", "60", "1", "", ""],
    ]  # fmt: skip
    response = client.get(url, {"export": "csv", "table": "paused"})
    assert csv_rows(response) == [
        ["Country", "Track", "Liaison", "Resume on", "Reason"],
        ["United Kingdom", "Data centres and supercomputers", gb_liaisons, "2025-09-01", "Elections"],
    ]


def test_exports_neutralise_formulas(client, agreements):
    """A title starting with "=" would run as a formula in a spreadsheet: it is exported with a quote first."""
    client.force_login(agreements)
    url = reverse("dashboard-attention")
    response = client.get(url, {"export": "csv", "table": "agreements"})
    assert response["Content-Disposition"] == 'attachment; filename="attention-agreements-2025-06-30.csv"'
    assert csv_rows(response) == [
        ["Country", "Agreement", "Kind", "Signed on", "Expires on"],
        ["United Kingdom", '\'=HYPERLINK("http://evil.example","x")', "Memorandum of understanding", "2025-05-31", "2025-07-20"],
        ["Kenya", "Skills MoU", "Memorandum of understanding", "2025-05-31", "2025-07-30"],
    ]
    response = client.get(url, {"export": "xlsx", "table": "agreements"})
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    table = xlsx_rows(response)
    assert table[1][:2] == ["United Kingdom", '\'=HYPERLINK("http://evil.example","x")']
    assert table[1][3:] == [datetime.datetime(2025, 5, 31), datetime.datetime(2025, 7, 20)]
    assert len(table) == 3


# --- 5. infrastructure --------------------------------------------------------------------------


@pytest.fixture
def facilities(staff_user):
    gb, ke, br = (factories.country(c) for c in ("GB", "KE", "BR"))
    isambard = factories.FacilityFactory(country=gb, name="Isambard North", city="Bristol", status=Facility.Status.OPERATIONAL)
    factories.CapacityPhaseFactory(facility=isambard, state=CapacityPhase.State.ACTUAL, power_mw=100, h100_equivalents=5000,
                                   online_on=d(3, 15))  # fmt: skip
    factories.FacilityPartnerFactory(facility=isambard, organisation=factories.OrganisationFactory(name="Green Power"),
                                     role="financier")  # fmt: skip
    factories.FacilityPartnerFactory(facility=isambard, organisation=factories.OrganisationFactory(name="Compute Co"),
                                     role="builder")  # fmt: skip
    nairobi = factories.FacilityFactory(country=ke, name="Nairobi Compute", status=Facility.Status.UNDER_CONSTRUCTION)
    factories.CapacityPhaseFactory(facility=nairobi, power_mw=50, h100_equivalents=2500, online_on=datetime.date(2027, 2, 1))
    factories.FacilityPartnerFactory(facility=nairobi, organisation=factories.OrganisationFactory(name="Savanna Telecom"),
                                     role="operator")  # fmt: skip
    sao_paulo = factories.FacilityFactory(country=br, name="Sao Paulo AI", status=Facility.Status.PLANNED)
    factories.CapacityPhaseFactory(facility=sao_paulo, power_mw=20, h100_equivalents=1000, online_on=datetime.date(2027, 1, 15))
    cancelled = factories.FacilityFactory(country=gb, name="Old Plant", status=Facility.Status.CANCELLED)
    factories.CapacityPhaseFactory(facility=cancelled, power_mw=999, h100_equivalents=99999, online_on=datetime.date(2026, 5, 1))
    return staff_user


def test_infrastructure_totals_regions_countries_quarters(client, facilities):
    response, html = get(client, facilities, "dashboard-infrastructure")
    assert response.status_code == 200
    assert facts(html) == {
        "MW planned": "20",
        "MW under construction": "50",
        "MW operational": "100",
        "H100-equivalents planned": "1,000",
        "H100-equivalents under construction": "2,500",
        "H100-equivalents operational": "5,000",
    }
    assert body_rows(section(html, "regions-title"))[1:] == [
        ["Africa", "0", "50", "0", "0", "2,500", "0"],
        ["Americas", "20", "0", "0", "1,000", "0", "0"],
        ["Europe", "0", "0", "100", "0", "0", "5,000"],
    ]
    assert body_rows(section(html, "countries-title"))[1:] == [
        ["Brazil", "20", "0", "0", "1,000", "0", "0"],
        ["Kenya", "0", "50", "0", "0", "2,500", "0"],
        ["United Kingdom", "0", "0", "100", "0", "0", "5,000"],
    ]
    assert body_rows(section(html, "quarters-title"))[1:] == [["2025 Q1", "100", "0"], ["2027 Q1", "0", "70"]]
    assert "999" not in between(html, 'aria-labelledby="totals-title"', 'aria-labelledby="facilities-title"')


def test_infrastructure_facilities_list_partners_and_roles(client, facilities):
    _, html = get(client, facilities, "dashboard-infrastructure")
    table = section(html, "facilities-title")
    assert 'Facilities <span class="count-label">(4)</span>' in table
    assert row_of(table, "Isambard North (Bristol)") == [
        "Isambard North (Bristol)", "United Kingdom", "Data centre", "Operational", "100", "5,000",
        "Compute Co (Builder), Green Power (Financier)",
    ]  # fmt: skip
    assert row_of(table, "Nairobi Compute") == [
        "Nairobi Compute",
        "Kenya",
        "Data centre",
        "Under construction",
        "50",
        "2,500",
        "Savanna Telecom (Operator)",
    ]
    assert row_of(table, "Sao Paulo AI")[3:] == ["Planned", "20", "1,000", "—"]
    _, html = get(client, facilities, "dashboard-infrastructure", status="under_construction")
    assert [r[0] for r in body_rows(section(html, "facilities-title"))[1:]] == ["Nairobi Compute"]


def test_infrastructure_region_filter(client, facilities):
    _, html = get(client, facilities, "dashboard-infrastructure", region="150")
    assert facts(html)["MW planned"] == "0"
    assert facts(html)["MW under construction"] == "0"
    assert facts(html)["MW operational"] == "100"
    assert [r[0] for r in body_rows(section(html, "countries-title"))[1:]] == ["United Kingdom"]
    assert [r[0] for r in body_rows(section(html, "facilities-title"))[1:]] == ["Isambard North (Bristol)", "Old Plant"]


def test_infrastructure_exports(client, facilities):
    client.force_login(facilities)
    url = reverse("dashboard-infrastructure")
    response = client.get(url, {"export": "csv", "table": "quarters"})
    assert response["Content-Disposition"] == 'attachment; filename="capacity-by-quarter-2025-06-30.csv"'
    assert [r[0] for r in csv_rows(response)] == ["Quarter", "2025 Q1", "2027 Q1"]
    response = client.get(url, {"export": "xlsx", "table": "countries"})
    table = xlsx_rows(response)
    assert table[0] == ["Country", "ISO code", "MW planned", "H100 planned", "MW under construction",
                        "H100 under construction", "MW operational", "H100 operational"]  # fmt: skip
    assert table[1:] == [
        ["Brazil", "BR", 20, 1000, 0, 0, 0, 0],
        ["Kenya", "KE", 0, 0, 50, 2500, 0, 0],
        ["United Kingdom", "GB", 0, 0, 0, 0, 100, 5000],
    ]
    response = client.get(url, {"export": "csv", "table": "facilities"})
    partners = {r[0]: r[7] for r in csv_rows(response)[1:]}
    assert partners["Isambard North"] == "Compute Co (Builder); Green Power (Financier)"


# --- 6. exports of the matrix -------------------------------------------------------------------

MATRIX_HEADER = ["Country", "ISO code", "Region", "Readiness (%)", "Last engagement"] + [
    f"{track}: {what}"
    for track in ("Workforce training", "Public-service improvement", "AI safety standards", "Data centres and supercomputers")
    for what in ("stage", "health", "days in stage")
]


def test_matrix_csv_export_has_the_filtered_rows(client, programme):
    client.force_login(programme)
    response = client.get(reverse("dashboard"), {"region": "150", "export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="pipeline-matrix-region-europe-2025-06-30.csv"'
    assert response.streaming  # written as it is read, never held whole
    body = response.getvalue()
    assert body.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(io.StringIO(body.decode("utf-8-sig")))) == [
        MATRIX_HEADER,
        ["United Kingdom", "GB", "Europe", "20.0", "2025-06-25", "Exploring", "On track", "10", "Negotiating", "Stalled", "101",
         "Not started", "Not active", "121", "Paused", "Paused", "20"],
    ]  # fmt: skip
    response = client.get(reverse("dashboard"), {"order": "-readiness", "track": "workforce", "export": "csv"})
    assert csv_rows(response) == [
        ["Country", "ISO code", "Region", "Readiness (%)", "Last engagement", "Workforce training: stage",
         "Workforce training: health", "Workforce training: days in stage"],
        ["Kenya", "KE", "Africa", "50.0", "2025-06-20", "Agreed", "At risk", "29"],
        ["United Kingdom", "GB", "Europe", "20.0", "2025-06-25", "Exploring", "On track", "10"],
        ["Brazil", "BR", "Americas", "5.0", "2025-05-01", "Exploring", "On track", "10"],
    ]  # fmt: skip


def test_matrix_xlsx_export_has_the_filtered_rows(client, programme):
    client.force_login(programme)
    response = client.get(reverse("dashboard"), {"region": "002", "export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="pipeline-matrix-region-africa-2025-06-30.xlsx"'
    table = xlsx_rows(response)
    assert table == [
        MATRIX_HEADER,
        ["Kenya", "KE", "Africa", 50, datetime.datetime(2025, 6, 20), "Agreed", "At risk", 29, "Negotiating", "On track", 5,
         "Not started", "Not active", 121, "Operational", "On track", 60],
    ]  # fmt: skip


def test_matrix_export_as_of_a_past_date(client, history_of_moves):
    client.force_login(history_of_moves)
    response = client.get(reverse("dashboard"), {"as_of": "2025-05-31", "track": "workforce", "export": "csv"})
    # Named by the day it shows and its filter: not the day of the download, the name of an export of today.
    assert response["Content-Disposition"] == 'attachment; filename="pipeline-matrix-track-workforce-as-of-2025-05-31.csv"'
    assert csv_rows(response)[1:] == [
        ["Kenya", "KE", "Africa", "0.0", "", "Not started", "Not active", "16"],
        ["United Kingdom", "GB", "Europe", "5.0", "", "Exploring", "Stalled", "67"],
    ]


# --- 7. the world map ---------------------------------------------------------------------------


def _map_path(html, title):
    """The outline of the country titled ``title`` and its fill as "#colour pattern" (the pattern a non-colour cue);
    the shape is a link to the country's page."""
    match = re.search(
        r'<a href="/countries/[a-z]{2}/" aria-label="' + re.escape(title) + r'"><path d="([^"]+)" '
        r'fill="url\(#fill-([0-9a-f]{6})-([a-z]+)\)" stroke="#ffffff" stroke-width="0.5"><title>' + re.escape(title),
        html,
    )
    assert match, f"no shaded path titled {title!r}"
    return match.group(1), f"#{match.group(2)} {match.group(3)}"


def test_map_shades_programme_countries_by_their_furthest_stage(client, programme):
    join("SG", programme)  # too small for the 1:110m shapes
    response, html = get(client, programme, "dashboard-map")
    assert response.status_code == 200
    path, fill = _map_path(html, "United Kingdom: Negotiating")  # furthest of exploring, negotiating, (paused) exploring
    assert fill == "#2b8104 solid"  # ladder colour 2 of 0..5 (negotiating is rung 2 of 5)
    x, y = (float(v) for v in re.match(r"M(-?[\d.]+),(-?[\d.]+)", path).groups())
    assert 450 < x < 490 and 70 < y < 110, "the United Kingdom's outline lies around 8°W-2°E, 50-59°N"
    assert _map_path(html, "Kenya: Operational")[1] == "#681760 stripes"
    assert _map_path(html, "Brazil: Exploring")[1] == "#2a82fa stripes"
    assert "<title>Singapore" not in html
    assert "4 countries in the programme are shaded" in html
    assert body_rows(section(html, "map-table-title"))[1:] == [
        ["Brazil", "Americas", "Exploring"],
        ["Kenya", "Africa", "Operational"],
        ["Singapore (not drawn)", "Asia", "Not started"],
        ["United Kingdom", "Europe", "Negotiating"],
    ]
    assert html.count('fill="url(#outside)" stroke="#ffffff"') == 176 - 3  # every other shape, hatched


def test_map_by_track(client, programme):
    _, html = get(client, programme, "dashboard-map", track="data_centres")
    assert "Countries shaded by their stage on Data centres and supercomputers" in html
    assert _map_path(html, "United Kingdom: Paused")[1] == "#d81671 dots"
    assert _map_path(html, "Kenya: Operational")[1] == "#681760 stripes"
    assert _map_path(html, "Brazil: Not started")[1] == "#f46449 solid"
    _, html = get(client, programme, "dashboard-map", track="workforce")
    assert _map_path(html, "United Kingdom: Exploring")[1] == "#2a82fa stripes"
    assert _map_path(html, "Kenya: Agreed")[1] == "#9f26a7 stripes"  # rung 3 of 5: colour 3 of 0..5


def test_map_as_of(client, history_of_moves):
    _, html = get(client, history_of_moves, "dashboard-map", as_of="2025-05-31")
    assert "as of 31 May 2025" in html
    assert body_rows(section(html, "map-table-title"))[1:] == [["Kenya", "Africa", "Not started"],
                                                               ["United Kingdom", "Europe", "Exploring"]]  # fmt: skip


def test_map_overall_stage_leaves_out_withdrawn_tracks(client, staff_user):
    """Overall the map follows the pipeline: a withdrawn track does not count as a stage reached."""
    join("GB", staff_user)
    move("GB", "workforce", "agreed", d(5, 1), staff_user)
    ct = CountryTrack.objects.get(country__iso2="GB", track__key="workforce")
    with on(d(6, 1)):
        country_track_withdraw(actor=staff_user, country_track=ct, reason="Cancelled by the ministry")
    rollup_countries()
    assert CountryStatus.objects.get(country__iso2="GB").furthest_stage_name == "Not started"
    _, html = get(client, staff_user, "dashboard-map")
    assert body_rows(section(html, "map-table-title"))[1:] == [["United Kingdom", "Europe", "Not started"]], (
        "the map's overall stage counts a withdrawn track's last rung (Agreed) as reached"
    )


# --- 8. history ---------------------------------------------------------------------------------


def test_history_has_26_weeks_ending_with_the_current_funnel(client, programme):
    response, html = get(client, programme, "dashboard-history", track="workforce")
    assert response.status_code == 200
    table = rows(section(html, "trend-workforce-title"))
    assert table[0] == ["Week ending", "Not started", "Exploring", "Negotiating", "Agreed", "Implementing", "Operational",
                        "Paused", "Withdrawn"]  # fmt: skip
    weeks = table[1:]
    assert len(weeks) == 26
    assert weeks[0] == ["6 Jan 2025", "0", "0", "0", "0", "0", "0", "0", "0"]  # before anyone joined
    assert ["3 Mar 2025", "3", "0", "0", "0", "0", "0", "0", "0"] in weeks
    assert ["5 May 2025", "2", "0", "1", "0", "0", "0", "0", "0"] in weeks  # Brazil negotiating since 1 May
    assert weeks[-1] == ["30 Jun 2025", "0", "2", "0", "1", "0", "0", "0", "0"]
    _, funnel_html = get(client, programme, "dashboard-funnels", track="workforce")
    assert [r[1] for r in rows(funnel_card(funnel_html, "workforce"))[1:9]] == weeks[-1][1:]


def test_history_shows_every_track_for_all_tracks_and_one_when_filtered(client, programme):
    _, html = get(client, programme, "dashboard-history")
    for name in ("Workforce training", "Public-service improvement", "AI safety standards", "Data centres and supercomputers"):
        assert f"{name}: countries per stage, week by week" in html
    assert html.count('<svg class="chart"') == 4
    _, html = get(client, programme, "dashboard-history", track="data_centres")
    assert "Data centres and supercomputers: countries per stage, week by week" in html
    assert "Workforce training: countries per stage" not in html
    assert rows(section(html, "trend-data_centres-title"))[-1] == ["30 Jun 2025", "1", "0", "0", "0", "0", "1", "1", "0"]


def test_history_export_of_every_track_names_the_track(client, programme):
    client.force_login(programme)
    response = client.get(reverse("dashboard-history"), {"export": "csv"})
    assert response["Content-Disposition"] == 'attachment; filename="trend-all-tracks-2025-06-30.csv"'
    table = csv_rows(response)
    assert table[0][:3] == ["Track", "Week ending", "Not started"] and len(table) == 1 + 4 * 26
    assert table[-1][:2] == ["Data centres and supercomputers", "2025-06-30"]


def test_the_chart_axis_shows_only_labels_that_fit_and_names_its_units(client, programme):
    _, html = get(client, programme, "dashboard-history", track="workforce")
    chart = html.split('<svg class="chart"')[1].split("</svg>")[0]
    labels = re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="middle" font-size="11" fill="#1b1f24">([^<]+)</text>', chart)
    xs = [float(x) for x, _text in labels]
    widest = max(len(text) for _x, text in labels) * 6.6
    assert all(b - a >= widest for a, b in itertools.pairwise(xs))  # no two labels overlap
    assert 4 <= len(labels) < 26
    assert ">Week ending</text>" in chart and ">Countries</text>" in chart


def test_history_as_of_ends_on_that_day(client, history_of_moves):
    _, html = get(client, history_of_moves, "dashboard-history", as_of="2025-05-31")
    weeks = rows(section(html, "trend-workforce-title"))[1:]
    assert len(weeks) == 26
    assert weeks[-1] == ["31 May 2025", "1", "1", "0", "0", "0", "0", "0", "0"]  # Kenya not started, UK exploring
    assert weeks[-2] == ["24 May 2025", "1", "1", "0", "0", "0", "0", "0", "0"]
    assert weeks[-3] == ["17 May 2025", "1", "1", "0", "0", "0", "0", "0", "0"]
    assert weeks[-4] == ["10 May 2025", "0", "1", "0", "0", "0", "0", "0", "0"]  # before Kenya joined on 15 May


def test_history_csv_export(client, programme):
    client.force_login(programme)
    response = client.get(reverse("dashboard-history"), {"track": "workforce", "export": "csv"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="trend-workforce-2025-06-30.csv"'
    table = csv_rows(response)
    assert table[0] == ["Week ending", "Not started", "Exploring", "Negotiating", "Agreed", "Implementing", "Operational",
                        "Paused", "Withdrawn"]  # fmt: skip
    assert len(table) == 27
    assert table[1] == ["2025-01-06", "0", "0", "0", "0", "0", "0", "0", "0"]
    assert table[-1] == ["2025-06-30", "0", "2", "0", "1", "0", "0", "0", "0"]


# --- 9. who may see the dashboards --------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_is_sent_to_sign_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", PAGES)
def test_user_without_a_role_is_refused(client, name):
    response, html = get(client, factories.make_user(None, username="nobody"), name)
    assert response.status_code == 403
    assert "Your account has no role in the portal yet" in html


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("role", ["viewer", "liaison", "staff"])
def test_every_role_reads_every_dashboard(client, programme, facilities, name, role):
    user = {"viewer": lambda: factories.viewer(username="v"), "liaison": lambda: factories.liaison("GB", username="l"),
            "staff": lambda: programme}[role]()  # fmt: skip
    response, html = get(client, user, name)
    assert response.status_code == 200
    assert 'aria-current="page"' in html
    if name != "dashboard-map":  # the map's table is not downloadable
        response, _ = get(client, user, name, export="csv")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"


@pytest.mark.parametrize("role", ["viewer", "liaison", "staff"])
def test_latest_announcements_are_published_ones_only(client, staff_user, role):
    kenya = factories.country("KE")
    join("KE", staff_user)
    rollup_countries()
    for i in range(1, 7):
        ann = factories.AnnouncementFactory(title=f"News {i}", status=Announcement.Status.PUBLISHED,
                                            published_at=NOW - datetime.timedelta(days=i))  # fmt: skip
        ann.countries.add(kenya)
    hidden = [
        factories.AnnouncementFactory(title="Draft about Kenya", status=Announcement.Status.DRAFT),
        factories.AnnouncementFactory(
            title="Embargoed launch", status=Announcement.Status.SCHEDULED, embargo_until=NOW + datetime.timedelta(days=3)
        ),  # fmt: skip
        factories.AnnouncementFactory(
            title="Published but embargoed",
            status=Announcement.Status.PUBLISHED,
            published_at=NOW - datetime.timedelta(hours=1),
            embargo_until=NOW + datetime.timedelta(days=2),
        ),  # fmt: skip
        factories.AnnouncementFactory(
            title="Withdrawn news", status=Announcement.Status.WITHDRAWN, published_at=NOW - datetime.timedelta(hours=2)
        ),  # fmt: skip
    ]
    hidden[0].countries.add(kenya)
    user = {"viewer": lambda: factories.viewer(username="v"), "liaison": lambda: factories.liaison("KE", username="l"),
            "staff": lambda: staff_user}[role]()  # fmt: skip
    _, html = get(client, user, "dashboard")
    aside = between(html, 'aria-labelledby="announcements-title"', "</aside>")
    assert re.findall(r"<strong>(.*?)</strong>", aside) == ["News 1", "News 2", "News 3", "News 4", "News 5"]
    assert "(Kenya)" in aside
    for ann in hidden:
        assert ann.title not in html


def test_confidential_engagements_do_not_show_as_last_engagement(client, programme):
    """Brazil's last engagement is confidential (28 Jun): the matrix shows the last normal one (1 May)."""
    viewer = factories.viewer(username="v")
    _, html = get(client, viewer, "dashboard")
    assert row_of(html, "Brazil")[3] == "1 May 2025"
    _, html = get(client, viewer, "dashboard", as_of="2025-06-29")
    assert row_of(html, "Brazil")[3] == "1 May 2025"
    assert "2025-06-28" not in html


# --- 10. queries do not grow with the programme -------------------------------------------------

QUERY_PAGES = [
    ("dashboard", {}),
    ("dashboard", {"as_of": "2025-06-01", "order": "-readiness"}),
    ("dashboard", {"export": "csv"}),
    ("dashboard-funnels", {}),
    ("dashboard-funnels", {"as_of": "2025-06-01"}),
    ("dashboard-attention", {}),
    ("dashboard-infrastructure", {}),
    ("dashboard-map", {}),
    ("dashboard-history", {}),
]


def _grow(staff, codes, liaison):
    """Countries with moves, engagements, follow-ups, agreements, a liaison, a facility with a phase and a partner."""
    for i, code in enumerate(codes):
        country = factories.country(code)
        with on(START):
            partnership_create(actor=staff, country=country)
        move(code, "workforce", ["exploring", "negotiating", "agreed"][i % 3], d(5, 1 + i % 28), staff)
        if i % 4 == 0:
            pause(code, "data_centres", d(6, 10), staff, resume_on=d(9, 1))
        factories.EngagementFactory(country=country, occurred_on=d(6, 1 + i % 28), tracks=[factories.track("workforce")])
        factories.FollowUpFactory(country=country, track=factories.track("workforce"), due_on=d(6, 20))
        factories.AgreementFactory(country=country, title=f"MoU {code}", expires_on=d(7, 15))
        LiaisonAssignment.objects.create(user=liaison, country=country)
        facility = factories.FacilityFactory(country=country, name=f"Centre {code}", status=Facility.Status.UNDER_CONSTRUCTION)
        factories.CapacityPhaseFactory(facility=facility, power_mw=10 + i, online_on=datetime.date(2026, 1 + i % 12, 1))
        factories.FacilityPartnerFactory(facility=facility)
        ann = factories.AnnouncementFactory(title=f"News {code}", status=Announcement.Status.PUBLISHED, published_at=NOW)
        ann.countries.add(country)
    rollup_countries()


def _queries(client, user, pages=QUERY_PAGES):
    counts = {}
    for name, params in pages:
        cache.clear()
        client.force_login(user)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse(name), params)
        assert response.status_code == 200, (name, params)
        counts[f"{name} {params}"] = len(ctx.captured_queries)
    return counts


def test_dashboard_queries_do_not_grow_with_countries(client, staff_user):
    liaison = factories.liaison(username="many")
    codes = list(Country.objects.order_by("iso2").values_list("iso2", flat=True))
    assert len(codes) == 249  # every ISO 3166 country in the programme at the end
    _grow(staff_user, codes[:5], liaison)
    viewer = factories.viewer(username="v")
    viewer_pages = [("dashboard", {"stage": "exploring", "order": "-last_engagement"})]
    small = _queries(client, staff_user)
    small_viewer = _queries(client, viewer, viewer_pages)
    _grow(staff_user, codes[5:], liaison)
    large = _queries(client, staff_user)
    assert (
        small_viewer
        == _queries(client, viewer, viewer_pages)
        == {"dashboard {'stage': 'exploring', 'order': '-last_engagement'}": 15}
    )
    # The pipeline's counts include one query that releases what is due, since tasks run in-process here.
    assert (
        small
        == large
        == {
            "dashboard {}": 15,
            "dashboard {'as_of': '2025-06-01', 'order': '-readiness'}": 17,  # each track's last activity read with its stage
            "dashboard {'export': 'csv'}": 10,
            "dashboard-funnels {}": 10,
            "dashboard-funnels {'as_of': '2025-06-01'}": 11,
            "dashboard-attention {}": 12,  # with the liaisons of the countries listed and the liaison filter
            "dashboard-infrastructure {}": 13,  # with whether any facility came from Epoch AI (its attribution)
            "dashboard-map {}": 10,
            "dashboard-history {}": 12,  # one query for the weeks of each of the four tracks
        }
    )


# --- 11. in French ------------------------------------------------------------------------------


def test_pipeline_in_french(client, programme):
    client.force_login(programme)
    response = client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="fr")
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert "Portefeuille du programme" in html
    assert "Programme pipeline" not in html
    assert row_of(html, "Royaume-Uni") == [
        "Royaume-Uni", "Europe", "20,0 %", "25 juin 2025", "Exploration En bonne voie 10 jours",
        "Négociation Au point mort 101 jours", "Pas commencé Inactif 121 jours", "En pause En pause 20 jours",
    ]  # fmt: skip
    assert '<th scope="col">Formation de la main-d&#x27;œuvre</th>' in html


def test_the_movement_and_map_tables_download_too(client, staff_user):
    gb = factories.country("GB")
    partnership_create(actor=staff_user, country=gb)
    ct = CountryTrack.objects.get(country=gb, track__key="workforce")
    country_track_move(actor=staff_user, country_track=ct, to_stage=factories.stage("workforce", "exploring"), note="")
    client.force_login(staff_user)
    movement = client.get(reverse("dashboard-funnels"), {"table": "movement", "export": "csv"})
    rows = list(csv.reader(movement.getvalue().decode("utf-8-sig").splitlines()))
    assert rows[0] == ["Track", "Moved forward (30 d)", "Moved back (30 d)", "Newly paused (30 d)",
                       "Moved forward (90 d)", "Moved back (90 d)", "Newly paused (90 d)"]  # fmt: skip
    assert rows[1] == ["Workforce training", "1", "0", "0", "1", "0", "0"]
    world = client.get(reverse("dashboard-map"), {"export": "csv"})
    rows = list(csv.reader(world.getvalue().decode("utf-8-sig").splitlines()))
    assert rows == [["Country", "ISO code", "Region", "Stage"], ["United Kingdom", "GB", "Europe", "Exploring"]]


def test_export_headers_cannot_become_formulas(client, staff_user):
    from tracks.models import Track

    Track.objects.filter(key="workforce").update(name_en='=HYPERLINK("http://evil")')
    partnership_create(actor=staff_user, country=factories.country("GB"))
    client.force_login(staff_user)
    rows = list(csv.reader(client.get(reverse("dashboard"), {"export": "csv"}).getvalue().decode("utf-8-sig").splitlines()))
    assert any(h.startswith("'=HYPERLINK") for h in rows[0])
    assert not any(h.startswith("=") for h in rows[0])


@pytest.mark.parametrize("name", ["dashboard-history", "dashboard-funnels", "dashboard-map"])
def test_charts_keep_svg_numbers_unlocalised_in_french(client, programme, name):
    """French writes 59,8; an SVG attribute must read 59.8, or the browser draws nothing."""
    client.force_login(programme)
    html = client.get(reverse(name), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "<svg" in html
    assert not re.search(r'\b(x|y|width|height|x1|x2|y1|y2)="-?\d+,\d+"', html)


def test_history_ids_are_unique(client, programme):
    _, html = get(client, programme, "dashboard-history")
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
