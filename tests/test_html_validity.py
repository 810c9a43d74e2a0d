"""Every HTML page of the permission matrix is valid HTML, as the W3C Nu HTML Checker (vnu) reads it.

Each GET row of the matrix (tests/test_permission_matrix.py: every route, and each variant of it) is requested once,
as the first role of ROLE_ORDER that gets a 200 there, on the matrix's world; the HTML answers are saved to files
(htmx fragments inside a minimal document) and vnu checks them all in one run (one Java start). Any error fails,
naming the page, the line and vnu's message; the counts are printed.

vnu comes from the npm package vnu-jar (package.json, pinned in package-lock.json; `make validators` installs it)
and runs on the machine's Java. Without Java or node_modules this skips locally; in CI (PORTAL_REQUIRE_SERVICES=1)
it fails. Dangling aria-describedby ids are checked by tests/test_page_markup.py (current vnu releases miss them).
"""

import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

from django.conf import settings

from tests.conftest import needs
from tests.test_permission_matrix import CASES, ROLES, _world, send, world  # noqa: F401 - the matrix's fixtures

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
VNU_JAR = Path(settings.BASE_DIR) / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
# Who reads each page: the role that sees the most first (programme staff), then the others.
# The API's two HTML pages: Swagger UI and ReDoc.
API_PAGES = ("api:docs", "api:redoc")
ROLE_ORDER = ("staff", "liaison_own", "admin", "viewer", "liaison_other", "norole", "anon")
assert set(ROLE_ORDER) == set(ROLES)

FRAGMENT = (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>htmx fragment</title></head><body>\n{}\n</body></html>\n'
)


def html_rows():
    """The matrix's GET rows of pages (not the API, but its two docs pages), each with the first role of ROLE_ORDER
    allowed to read it."""
    for case in CASES:
        if case.method != "GET" or (case.api and case.route not in API_PAGES):
            continue
        role = next((r for r in ROLE_ORDER if case.expect[ROLES.index(r)] == 200), None)
        if role is not None:
            yield case, role


def _file_name(case, role) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{case.id}-{role}") + ".html"


def test_every_html_page_of_the_matrix_is_valid(world, tmp_path):  # noqa: F811 - the matrix's fixture
    needs(shutil.which("java") is not None and VNU_JAR.exists(), "vnu needs Java and `make validators` (npm ci)")
    pages = {}
    for case, role in html_rows():
        response, path = send(case, role, world)
        assert response.status_code == 200, f"{case.id} as {role}: {response.status_code}"
        if response.streaming or not response["Content-Type"].startswith("text/html"):
            continue  # a PDF, a Word document, a CSV, a feed: not HTML
        html = response.content.decode()
        if not html.lstrip().lower().startswith("<!doctype html"):
            html = FRAGMENT.format(html)
        name = _file_name(case, role)
        (tmp_path / name).write_text(html, encoding="utf-8")
        pages[name] = f"{path} as {role}"
    assert len(pages) > 40, sorted(pages)  # the matrix's pages were found

    result = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--format", "json", "--stdout", "--exit-zero-always", *sorted(pages)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(result.stdout)["messages"]
    errors = [m for m in messages if m["type"] in ("error", "non-document-error")]
    warnings = [m for m in messages if m["type"] == "info" and m.get("subType") == "warning"]

    def where(message) -> str:
        name = Path(message.get("url", "")).name
        return f"{pages.get(name, name)} line {message.get('lastLine', '?')}: {message['message']}"

    summary = [f"vnu (Nu HTML Checker): {len(pages)} pages, {len(errors)} errors, {len(warnings)} warnings"]
    for text, count in Counter(m["message"] for m in warnings).most_common():
        on = sorted({pages.get(Path(m.get("url", "")).name, "?") for m in warnings if m["message"] == text})
        summary.append(f"  warning x{count} on {len(on)} pages ({', '.join(on[:3])}{', ...' if len(on) > 3 else ''}): {text}")
    print("\n".join(summary))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "vnu.txt").write_text("\n".join(summary) + "\n")  # .ci/run prints it

    assert [where(m) for m in errors] == []


def test_the_rows_cover_the_pages_of_the_matrix():
    """Every GET page row of the matrix that anyone can read is checked (a new page joins by joining the matrix)."""
    rows = list(html_rows())
    readable = [c for c in CASES if c.method == "GET" and (not c.api or c.route in API_PAGES) and 200 in c.expect]
    assert len(rows) == len(readable) > 40


def test_the_first_role_allowed_is_chosen():
    login = next(case for case in CASES if case.route == "login" and case.method == "GET")
    chosen = {case.id: role for case, role in html_rows()}
    assert chosen[login.id] == "anon"  # only a visitor who is not signed in sees the sign-in page
