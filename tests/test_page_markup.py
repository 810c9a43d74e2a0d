"""Every id a page points at exists on that page, once (help text and error messages that screen readers reach),
and every ``<time datetime>`` holds a value HTML accepts.

Each HTML page of the permission matrix (``tests/test_permission_matrix.py``) is requested for each role that may
see it, and each form it posts to is also sent empty (so its fields carry their error messages). On each answer
that is HTML, every id named by ``aria-describedby``, ``aria-labelledby``, ``aria-controls``, ``label[for]`` and
``input[form]`` (any form control's ``form``) must exist, and no id may appear twice. The W3C validator (vnu)
releases we use do not report a dangling ``aria-describedby``; this test does. Each ``datetime`` attribute must be a
date (``2026-12-01``) or a global date and time with at most milliseconds (``2026-12-01T09:00:00+00:00``): the
forms the portal writes; microseconds, as ``|date:'c'`` gives them, are invalid HTML.
"""

import re
from html.parser import HTMLParser

import pytest

from tests import test_permission_matrix as matrix
from tests.permission_cases import ROLES
from tests.test_permission_matrix import CASES, Case, send

pytestmark = pytest.mark.django_db

# The permission matrix's world (its users, tokens and one record of each kind), built once for the module.
_world = matrix._world
world = matrix.world

# Attributes that hold a space-separated list of ids, and those that hold one.
ID_LISTS = ("aria-describedby", "aria-labelledby", "aria-controls", "aria-owns")
FORM_CONTROLS = {"input", "select", "textarea", "button", "fieldset", "output", "object"}
MACHINE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?")


class _IdReferences(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.references: list[tuple[str, str, str]] = []  # (element, attribute, id)
        self.times: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id") is not None:
            self.ids.append(attributes["id"])
        for name in ID_LISTS:
            for ref in (attributes.get(name) or "").split():
                self.references.append((tag, name, ref))
        if tag == "label" and attributes.get("for") is not None:
            self.references.append((tag, "for", attributes["for"]))
        if tag in FORM_CONTROLS and attributes.get("form") is not None:
            self.references.append((tag, "form", attributes["form"]))
        if tag == "time" and attributes.get("datetime") is not None:
            self.times.append(attributes["datetime"])

    handle_startendtag = handle_starttag


def markup_problems(html: str) -> list[str]:
    """What is wrong with ``html``: references to ids that are not there, ids given twice, and times a machine
    cannot read."""
    parser = _IdReferences()
    parser.feed(html)
    parser.close()
    present = set(parser.ids)
    problems = [
        f'<{tag} {attr}="{ref}">: no element has id "{ref}"' for tag, attr, ref in parser.references if ref not in present
    ]
    problems += sorted({f'id "{i}" is given {parser.ids.count(i)} times' for i in parser.ids if parser.ids.count(i) > 1})
    problems += [f"<{tag} {attr}>: empty id reference" for tag, attr, ref in parser.references if not ref.strip()]
    problems += [
        f'<time datetime="{value}">: not a valid date or time' for value in parser.times if not MACHINE_TIME.fullmatch(value)
    ]
    return problems


def _html(response) -> str | None:
    if not response.get("Content-Type", "").startswith("text/html"):
        return None
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


PAGE_CASES = [case for case in CASES if case.method == "GET" and not case.api and not case.htmx]
FORM_CASES = list({case.route: case for case in CASES if case.method == "POST" and not case.api and not case.htmx}.values())


@pytest.mark.parametrize("case", PAGE_CASES, ids=lambda case: case.id)
def test_every_page_points_only_at_ids_it_has_and_gives_valid_times(case, world):
    problems = []
    for role in ROLES:
        response, path = send(case, role, world)
        html = _html(response)
        if html is not None:
            problems += [f"{role} {path}: {p}" for p in markup_problems(html)]
    assert problems == []


@pytest.mark.parametrize("case", FORM_CASES, ids=lambda case: case.route)
@pytest.mark.parametrize("role", ["liaison_own", "staff"])
def test_every_refused_form_points_only_at_ids_it_has(case, role, world):
    """The form sent empty: the page that comes back names its errors with ids that are on it."""
    empty = Case(case.route, "POST", case.expect, case.path, data=lambda w: {}, variant=case.variant)
    response, path = send(empty, role, world)
    html = _html(response)
    if html is None:
        return
    assert markup_problems(html) == [], f"{role} POST {path} ({response.status_code})"


# Filters that are not understood: each page reports them, and each field names its message.
BAD_FILTERS = "as_of=not-a-date&track=nowhere&stage=nowhere&health=nowhere&region=nowhere&order=nowhere&reason=x"
FILTERED_PAGES = [
    *(f"/dashboard/{page}?{BAD_FILTERS}" for page in ("", "funnels/", "attention/", "infrastructure/", "map/", "history/")),
    "/follow-ups/?country=zz&track=nowhere&owner=nobody&q=" + "x" * 101,
    "/audit/?model=nothing&actor=nobody&action=nothing&date_from=not-a-date&date_to=31-31-2020",
]


@pytest.mark.parametrize("path", FILTERED_PAGES)
def test_every_page_with_refused_filters_points_only_at_ids_it_has(path, world):
    case = Case("filters", "GET", (200,) * len(ROLES), lambda w: path)
    response, _ = send(case, "staff", world)
    assert response.status_code == 200
    html = _html(response)
    assert "form-errors" in html  # the filters were refused, so their messages are on the page
    assert markup_problems(html) == []


def test_the_check_finds_a_dangling_reference_and_a_repeated_id():
    html = '<label for="a">A</label><input id="a" aria-describedby="a_help"><p id="b"></p><p id="b"></p>'
    assert markup_problems(html) == ['<input aria-describedby="a_help">: no element has id "a_help"', 'id "b" is given 2 times']
    assert markup_problems('<input id="x" aria-describedby="x_help"><p id="x_help">Help</p>') == []


def test_the_check_finds_a_time_with_microseconds():
    assert markup_problems('<time datetime="2026-12-01T09:00:00.123456+00:00">1 Dec</time>') == [
        '<time datetime="2026-12-01T09:00:00.123456+00:00">: not a valid date or time'
    ]
    valid = ["2026-12-01", "2026-12-01T09:00:00+00:00", "2026-12-01T09:00:00.123Z", "2026-12-01T10:00-05:30"]
    assert markup_problems("".join(f'<time datetime="{v}"></time>' for v in valid)) == []
