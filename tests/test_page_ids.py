"""Every id a page points at exists on that page, once: help text and error messages that screen readers reach.

Each HTML page of the permission matrix (``tests/test_permission_matrix.py``) is requested for each role that may
see it, and each form it posts to is also sent empty (so its fields carry their error messages). On each answer
that is HTML, every id named by ``aria-describedby``, ``aria-labelledby``, ``aria-controls``, ``label[for]`` and
``input[form]`` (any form control's ``form``) must exist, and no id may appear twice. The W3C validator (vnu)
releases we use do not report a dangling ``aria-describedby``; this test does.
"""

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


class _IdReferences(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.references: list[tuple[str, str, str]] = []  # (element, attribute, id)

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

    handle_startendtag = handle_starttag


def id_problems(html: str) -> list[str]:
    """What is wrong with the ids of ``html``: references to ids that are not there, and ids given twice."""
    parser = _IdReferences()
    parser.feed(html)
    parser.close()
    present = set(parser.ids)
    problems = [
        f'<{tag} {attr}="{ref}">: no element has id "{ref}"' for tag, attr, ref in parser.references if ref not in present
    ]
    problems += sorted({f'id "{i}" is given {parser.ids.count(i)} times' for i in parser.ids if parser.ids.count(i) > 1})
    problems += [f"<{tag} {attr}>: empty id reference" for tag, attr, ref in parser.references if not ref.strip()]
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
def test_every_id_a_page_points_at_exists_once(case, world):
    problems = []
    for role in ROLES:
        response, path = send(case, role, world)
        html = _html(response)
        if html is not None:
            problems += [f"{role} {path}: {p}" for p in id_problems(html)]
    assert problems == []


@pytest.mark.parametrize("case", FORM_CASES, ids=lambda case: case.route)
@pytest.mark.parametrize("role", ["liaison_own", "staff"])
def test_every_id_a_refused_form_points_at_exists_once(case, role, world):
    """The form sent empty: the page that comes back names its errors with ids that are on it."""
    empty = Case(case.route, "POST", case.expect, case.path, data=lambda w: {}, variant=case.variant)
    response, path = send(empty, role, world)
    html = _html(response)
    if html is None:
        return
    assert id_problems(html) == [], f"{role} POST {path} ({response.status_code})"


# Filters that are not understood: each page reports them, and each field names its message.
BAD_FILTERS = "as_of=not-a-date&track=nowhere&stage=nowhere&health=nowhere&region=nowhere&order=nowhere&reason=x"
FILTERED_PAGES = [
    *(f"/dashboard/{page}?{BAD_FILTERS}" for page in ("", "funnels/", "attention/", "infrastructure/", "map/", "history/")),
    "/follow-ups/?country=zz&track=nowhere&owner=nobody&q=" + "x" * 101,
    "/audit/?model=nothing&actor=nobody&action=nothing&date_from=not-a-date&date_to=31-31-2020",
]


@pytest.mark.parametrize("path", FILTERED_PAGES)
def test_every_id_a_page_with_refused_filters_points_at_exists_once(path, world):
    case = Case("filters", "GET", (200,) * len(ROLES), lambda w: path)
    response, _ = send(case, "staff", world)
    assert response.status_code == 200
    html = _html(response)
    assert "form-errors" in html  # the filters were refused, so their messages are on the page
    assert id_problems(html) == []


def test_the_check_finds_a_dangling_reference_and_a_repeated_id():
    html = '<label for="a">A</label><input id="a" aria-describedby="a_help"><p id="b"></p><p id="b"></p>'
    assert id_problems(html) == ['<input aria-describedby="a_help">: no element has id "a_help"', 'id "b" is given 2 times']
    assert id_problems('<input id="x" aria-describedby="x_help"><p id="x_help">Help</p>') == []
