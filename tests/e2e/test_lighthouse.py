"""Lighthouse's accessibility and best-practices scores of the public pages and the API docs are 100.

Lighthouse (npm package ``lighthouse``, pinned in package-lock.json to a release that runs on Node 20; `make
validators` installs it) drives Debian's Chromium against the live server: the public announcements, one
announcement, the sign-in page, Swagger UI and ReDoc, as a visitor who is not signed in. Each page's scores and the
audits that failed are printed, and the reports go to test-artifacts/lighthouse-*.json. Without Node or
node_modules this skips locally; in CI (PORTAL_REQUIRE_SERVICES=1) it fails.
"""

import json
import os
import shutil
import subprocess

import pytest
from django.conf import settings
from django.utils import timezone

from tests import factories
from tests.conftest import needs

from .conftest import ARTIFACTS, CHROMIUM

pytestmark = pytest.mark.django_db(transaction=True)

LIGHTHOUSE = settings.BASE_DIR / "node_modules" / ".bin" / "lighthouse"
PAGES = ("/announcements/", "/announcements/{pk}/", "/accounts/login/", "/api/v1/docs/", "/api/v1/redoc/")


def lighthouse(url: str, report) -> dict:
    subprocess.run(
        [
            str(LIGHTHOUSE), url, "--only-categories=accessibility,best-practices", "--output=json",
            f"--output-path={report}", "--quiet", "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        ],
        check=True, timeout=180, env={**os.environ, "CHROME_PATH": CHROMIUM},
    )  # fmt: skip
    return json.loads(report.read_text())


def test_public_pages_and_the_api_docs_score_100(reference_data, live_server):
    needs(shutil.which("node") is not None and LIGHTHOUSE.exists(), "Lighthouse needs Node and `make validators` (npm ci)")
    needs(os.path.exists(CHROMIUM), f"Lighthouse drives Chromium ({CHROMIUM})")
    announcement = factories.AnnouncementFactory(
        title="A national compute partnership", status="published", published_at=timezone.now(), is_public=True
    )
    ARTIFACTS.mkdir(exist_ok=True)
    below = {}
    for path in PAGES:
        path = path.format(pk=announcement.pk)
        report = ARTIFACTS / f"lighthouse-{path.strip('/').replace('/', '-')}.json"
        result = lighthouse(live_server.url + path, report)
        scores = {name: category["score"] for name, category in result["categories"].items()}
        failed = sorted(
            audit_id
            for audit_id, audit in result["audits"].items()
            if audit.get("scoreDisplayMode") in ("binary", "numeric") and audit.get("score") is not None and audit["score"] < 1
        )
        print(f"{path}: {scores}; audits below 1: {failed}")
        if any(score != 1 for score in scores.values()):
            below[path] = (scores, failed)
    assert below == {}
