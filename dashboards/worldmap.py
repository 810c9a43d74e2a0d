"""Country shapes as SVG paths, drawn on the server from Natural Earth's 1:110m TopoJSON (world-atlas).

The TopoJSON arcs are quantized and delta-encoded; a polygon ring is a list of arc indexes (a negative
index ``~i`` means arc ``i`` reversed). We decode them once per process and project with a plain
equirectangular projection (longitude and latitude scaled to the view box), cropped at 60°S so
Antarctica does not take a quarter of the picture.
"""

import functools
import json
from pathlib import Path

from django.conf import settings

SOURCE = Path(settings.BASE_DIR) / "countries" / "data" / "world-atlas" / "countries-110m.json"
WIDTH, HEIGHT = 960, 440
NORTH, SOUTH = 84.0, -60.0
ANTARCTICA = "010"


def _project(lon: float, lat: float) -> tuple[float, float]:
    x = (lon + 180.0) / 360.0 * WIDTH  # longitudes past ±180 land outside the view box, which clips them
    y = (NORTH - max(min(lat, NORTH), SOUTH)) / (NORTH - SOUTH) * HEIGHT
    return round(x, 1), round(y, 1)


def _decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def _ring(arcs, indexes) -> list[tuple[float, float]]:
    points = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])  # consecutive arcs share their end point
    return points


def _unwrap(ring):
    """Keep a ring that crosses the antimeridian continuous (longitudes may go past ±180)."""
    result, shift, previous = [], 0.0, None
    for lon, lat in ring:
        if previous is not None:
            if lon + shift - previous > 180:
                shift -= 360
            elif lon + shift - previous < -180:
                shift += 360
        previous = lon + shift
        result.append((previous, lat))
    return result


def _subpath(points) -> str:
    return "M" + "L".join(f"{x:g},{y:g}" for x, y in points) + "Z"


def _path(rings) -> str:
    parts = []
    for ring in rings:
        ring = _unwrap(ring)
        if len(ring) < 3:
            continue
        projected = [_project(lon, lat) for lon, lat in ring]
        parts.append(_subpath(projected))
        # A ring that spills over one edge of the map is drawn again from the other edge (the view box clips both).
        lons = [lon for lon, _lat in ring]
        for offset in ((-360.0,) if max(lons) > 180 else ()) + ((360.0,) if min(lons) < -180 else ()):
            parts.append(_subpath([_project(lon + offset, lat) for lon, lat in ring]))
    return "".join(parts)


@functools.cache
def shapes() -> dict[str, str]:
    """{ISO 3166-1 numeric code: SVG path data} for every country Natural Earth draws at 1:110m."""
    topology = json.loads(SOURCE.read_text())
    arcs = _decode_arcs(topology)
    result = {}
    for geometry in topology["objects"]["countries"]["geometries"]:
        code = geometry.get("id")
        if code == ANTARCTICA:
            continue  # below the crop, and no partner there
        if geometry["type"] == "Polygon":
            polygons = [geometry["arcs"]]
        elif geometry["type"] == "MultiPolygon":
            polygons = geometry["arcs"]
        else:
            continue
        rings = [_ring(arcs, ring) for polygon in polygons for ring in polygon]
        key = str(code).zfill(3) if code else f"x-{geometry['properties'].get('name', '')}"
        result[key] = result.get(key, "") + _path(rings)
    return result
