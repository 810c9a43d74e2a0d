"""The vendored front-end files are the ones recorded in static/vendor/README.md (version and checksum),
and the pages load them from static/, never from a CDN."""

import hashlib
import re
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "static" / "vendor"


def test_each_vendored_file_matches_the_checksum_recorded_in_the_readme():
    recorded = re.findall(r"^([0-9a-f]{64})  (\S+)$", (VENDOR / "README.md").read_text(), flags=re.MULTILINE)
    assert recorded, "static/vendor/README.md lists no checksum"
    for checksum, name in recorded:
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == checksum, name
    listed = {name for _checksum, name in recorded}
    on_disk = {str(p.relative_to(VENDOR)) for p in VENDOR.rglob("*.js")}
    assert on_disk == listed, "every vendored script must be recorded in static/vendor/README.md"


@pytest.mark.django_db
def test_pages_load_scripts_from_static_only(client, staff_user):
    client.force_login(staff_user)
    html = client.get(reverse("home")).content.decode()
    sources = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert "/static/vendor/htmx/htmx.min.js" in sources
    assert all(src.startswith("/static/") for src in sources), sources
    # No inline script: the pages must keep working under a strict Content-Security-Policy.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
