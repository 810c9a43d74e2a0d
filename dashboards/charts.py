"""Geometry for the dashboards' charts, drawn as SVG by the templates (no script, so a strict CSP holds).

Every chart also has a data table next to it and a title and description for assistive technology;
colour is never the only carrier of meaning (labels and the table say the same).
"""

import math
from decimal import Decimal

from tracks.models import Stage

# Sequential blues for the ladder (light = early, dark = far up), purple for paused, grey for withdrawn.
LADDER_COLOURS = ["#dbe5f0", "#b3cde3", "#86b0d8", "#5a8fc4", "#2f6aa8", "#0b4f8a", "#06325a"]
PAUSED_COLOUR = "#7a5ca8"
WITHDRAWN_COLOUR = "#6b7280"
NO_DATA_COLOUR = "#f1f3f5"
PLANNED_COLOUR = "#86b0d8"
ONLINE_COLOUR = "#0b4f8a"


# The map's own palette: every fill at least 3:1 against the sea, the page and the borders (all white), and
# neighbouring stages at least 10 apart (CIEDE2000) with normal vision and with protanopia, deuteranopia and
# tritanopia simulated (tests/dashboards/test_map_palette.py computes both from these values). Colour is not the
# only cue: odd stages of the ladder are striped, paused is dotted, countries outside the programme are hatched.
MAP_SEA = "#ffffff"
MAP_BORDER = "#ffffff"
MAP_LADDER_COLOURS = ["#f46449", "#2a82fa", "#2b8104", "#9f26a7", "#9c0920", "#681760"]
MAP_PAUSED_COLOUR = "#d81671"
MAP_WITHDRAWN_COLOUR = "#3b3f45"
MAP_NOT_IN_PROGRAMME_COLOUR = "#8c939b"


def map_fill(stage: Stage, top: int) -> dict:
    """The map's fill of a stage: ``colour``, the ``pattern`` drawn over it (a non-colour cue, or "") and an ``id``
    for the SVG pattern that combines them."""
    if stage.kind == Stage.Kind.PAUSED:
        colour, pattern = MAP_PAUSED_COLOUR, "dots"
    elif stage.kind == Stage.Kind.WITHDRAWN:
        colour, pattern = MAP_WITHDRAWN_COLOUR, ""
    else:
        index = 0 if top <= 0 else min(max(round(stage.position / top * 5), 0), 5)
        colour, pattern = MAP_LADDER_COLOURS[index], "stripes" if index % 2 else ""
    return {"colour": colour, "pattern": pattern, "id": f"fill-{colour[1:]}-{pattern or 'solid'}"}


def _ladder_index(stage: Stage, top: int) -> int:
    if top <= 0:
        return 0
    index = round(stage.position / top * (len(LADDER_COLOURS) - 1))
    return min(max(index, 0), len(LADDER_COLOURS) - 1)


def stage_colour(stage: Stage, top: int) -> str:
    """Fill colour of a stage in the SVG charts and the map (presentation attributes, allowed by a strict CSP)."""
    if stage.kind == Stage.Kind.PAUSED:
        return PAUSED_COLOUR
    if stage.kind == Stage.Kind.WITHDRAWN:
        return WITHDRAWN_COLOUR
    return LADDER_COLOURS[_ladder_index(stage, top)]


def stage_class(stage: Stage, top: int) -> str:
    """CSS class of a stage chip in HTML tables: the same colours, from the stylesheet (no inline style)."""
    if stage.kind == Stage.Kind.PAUSED:
        return "stage-paused"
    if stage.kind == Stage.Kind.WITHDRAWN:
        return "stage-withdrawn"
    return f"stage-{_ladder_index(stage, top)}"


def text_colour(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (WCAG relative luminance)."""
    red, green, blue = (int(background[i : i + 2], 16) / 255 for i in (1, 3, 5))

    def channel(c):
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)
    return "#000000" if luminance > 0.179 else "#ffffff"


def funnel_bars(funnel: dict, top: int, width: int = 360, bar_height: int = 22, gap: int = 6, label_width: int = 130) -> dict:
    """Horizontal bars, one per stage of a track's ladder, their length proportional to the count."""
    steps = funnel["steps"]
    biggest = max((s["count"] for s in steps), default=0) or 1
    room = width - label_width - 40
    bars = []
    for i, step in enumerate(steps):
        length = round(room * step["count"] / biggest)
        colour = stage_colour(step["stage"], top)
        bars.append(
            {
                "y": i * (bar_height + gap),
                "x": label_width,
                "width": max(length, 1 if step["count"] else 0),
                "height": bar_height,
                "colour": colour,
                "label": step["stage"].name,
                "count": step["count"],
                "count_x": label_width + length + 6,
                "text_y": i * (bar_height + gap) + bar_height * 0.7,
            }
        )
    return {"bars": bars, "width": width, "height": len(steps) * (bar_height + gap), "label_width": label_width}


# The axis labels' font size in the SVG's units, and the width of one character of it (a generous average, so
# labels thinned by it never touch).
AXIS_FONT = 11
AXIS_CHAR_WIDTH = 6.6


def stacked_columns(
    columns: list[dict], series: list[dict], width: int = 720, height: int = 260, x_title: str = "", y_title: str = ""
) -> dict:
    """Vertical stacked columns: ``columns`` = [{"label", "values": {key: number}}], ``series`` = [{"key", "label", "colour"}].

    The x axis shows only as many labels as fit side by side (every n-th column, n from the longest label and the
    width of a column); ``x_title`` and ``y_title`` name the axes and their units."""
    left, bottom, top_margin = 56, 44, 10
    plot_w, plot_h = width - left - 10, height - bottom - top_margin
    totals = [sum((Decimal(str(c["values"].get(s["key"], 0))) for s in series), Decimal(0)) for c in columns]
    biggest = max(totals, default=Decimal(0)) or Decimal(1)
    step = plot_w / max(len(columns), 1)
    bar_w = max(step * 0.7, 1)
    rects, labels = [], []
    longest = max((len(str(c["label"])) for c in columns), default=0)
    every = max(1, math.ceil((longest * AXIS_CHAR_WIDTH + 12) / step))  # a label and a gap per label shown
    for i, column in enumerate(columns):
        x = left + i * step + (step - bar_w) / 2
        y = top_margin + plot_h
        for s in series:
            value = Decimal(str(column["values"].get(s["key"], 0)))
            if not value:
                continue
            h = float(value / biggest) * plot_h
            y -= h
            rects.append({"x": round(x, 1), "y": round(y, 1), "w": round(bar_w, 1), "h": round(h, 1), "colour": s["colour"],
                          "title": f"{column['label']} · {s['label']}: {value:g}"})  # fmt: skip
        if i % every == 0:
            labels.append({"x": round(x + bar_w / 2, 1), "y": top_margin + plot_h + 16, "text": column["label"]})
    ticks = [{"y": round(top_margin + plot_h - plot_h * f, 1), "value": f"{biggest * Decimal(str(f)):.0f}"} for f in (0, 0.5, 1)]
    return {
        "width": width,
        "height": height,
        "left": left,
        "axis_y": top_margin + plot_h,
        "right": width - 10,
        "rects": rects,
        "labels": labels,
        "ticks": ticks,
        "series": series,
        "every": every,
        "x_title": x_title,
        "x_title_x": round(left + plot_w / 2, 1),
        "x_title_y": height - 6,
        "y_title": y_title,
        "y_title_y": round(top_margin + plot_h / 2, 1),
    }
