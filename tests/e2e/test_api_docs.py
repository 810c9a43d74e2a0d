"""The API docs in a real browser: Swagger UI and ReDoc render the committed OpenAPI document, name their language,
ask nothing of another host (ReDoc's CDN logo included), and are axe-clean at 1366 and 320 px.

Screenshots of the first screen at 390 and 1366 px go to test-artifacts/api-docs-*.png.
"""

import time

import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS, serious_accessibility_violations

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "AI Partnership Programme portal API"
PAGES = {
    "swagger": ("/api/v1/docs/", ".swagger-ui .info .title"),
    "redoc": ("/api/v1/redoc/", "h1"),
}


def shot(page, name: str) -> None:
    """The first screen only: ReDoc's whole page is tens of thousands of pixels long."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"api-docs-{name}.png"))


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_api_docs_render_with_no_third_party_request_and_no_axe_violation(name, page, live_server):
    path, title = PAGES[name]
    elsewhere = []
    own = (live_server.url, f"blob:{live_server.url}", "data:")  # ReDoc's search runs in a worker from a blob: URL
    page.on("request", lambda request: request.url.startswith(own) or elsewhere.append(request.url))
    page.set_viewport_size({"width": 1366, "height": 900})
    started = time.monotonic()
    response = page.goto(path)
    assert response.status == 200
    expect(page.locator(title).first).to_contain_text(TITLE, timeout=30_000)
    print(f"{path}: the document's title shown after {time.monotonic() - started:.2f} s")
    page.wait_for_load_state("networkidle")

    assert page.locator("html").get_attribute("lang") == "en"
    assert elsewhere == []
    shot(page, f"{name}-1366")
    assert serious_accessibility_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, f"{name}-390")
    page.set_viewport_size({"width": 320, "height": 800})
    assert serious_accessibility_violations(page) == []
