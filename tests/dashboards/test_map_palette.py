"""The map's palette, checked from the colours themselves (coloraide): every fill at least 3:1 against the sea, the
page and the borders (WCAG 1.4.11); neighbouring stages at least 10 apart (CIEDE2000) with normal vision and with
protanopia, deuteranopia and tritanopia simulated; and a non-colour cue between neighbours."""

import itertools

import pytest
from coloraide import Color

from dashboards import charts
from tracks.models import Stage

DEFICIENCIES = ("protan", "deutan", "tritan")
PAGE = "#ffffff"
LADDER = charts.MAP_LADDER_COLOURS
OTHERS = {"paused": charts.MAP_PAUSED_COLOUR, "withdrawn": charts.MAP_WITHDRAWN_COLOUR,
          "not in the programme": charts.MAP_NOT_IN_PROGRAMME_COLOUR}  # fmt: skip


def _smallest_difference(a: str, b: str) -> float:
    first, second = Color(a), Color(b)
    seen = [first.delta_e(second, method="2000")]
    seen += [first.filter(kind).delta_e(second.filter(kind), method="2000") for kind in DEFICIENCIES]
    return min(seen)


@pytest.mark.parametrize("fill", [*LADDER, *OTHERS.values()])
def test_every_fill_stands_out_from_the_sea_the_page_and_the_borders(fill):
    for ground in (charts.MAP_SEA, charts.MAP_BORDER, PAGE):
        assert Color(fill).contrast(ground) >= 3, (fill, ground)


@pytest.mark.parametrize("position", range(len(LADDER) - 1))
def test_neighbouring_stages_differ_for_every_kind_of_colour_vision(position):
    assert _smallest_difference(LADDER[position], LADDER[position + 1]) >= 10


@pytest.mark.parametrize("name", list(OTHERS))
def test_paused_withdrawn_and_outside_differ_from_every_other_fill(name):
    for other in [*LADDER, *(c for n, c in OTHERS.items() if n != name)]:
        assert _smallest_difference(OTHERS[name], other) >= 10, (name, other)


def test_the_ladder_runs_from_light_to_dark():
    lightness = [Color(c).convert("lab")["lightness"] for c in LADDER]
    assert lightness == sorted(lightness, reverse=True)


def test_neighbouring_stages_also_differ_by_pattern():
    stages = [Stage(kind=Stage.Kind.LADDER, position=p) for p in range(6)]
    patterns = [charts.map_fill(stage, 5)["pattern"] for stage in stages]
    assert all(a != b for a, b in itertools.pairwise(patterns))
    assert charts.map_fill(Stage(kind=Stage.Kind.PAUSED, position=0), 5)["pattern"] == "dots"
