"""The Content-Security-Policy in a real browser: Chromium enforces it while a user goes through the portal's
pages (public, signed in, htmx, the admin, the API docs) and must report no violation in the console.

A violation is what a broken page looks like under a strict policy (a script that does not run, a style not
applied), so any "Content Security Policy" message in the console fails the test.
"""

import datetime

import pytest
from playwright.sync_api import expect

from announcements.services import announcement_create, announcement_publish
from partnerships.rollup import rollup_countries
from partnerships.services import partnership_create
from tests import factories

from .conftest import sign_in

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("reference_data")]


@pytest.fixture
def csp_page(browser, live_server):
    """A page with no CSP bypass, recording every console message about the policy and every script error."""
    context = browser.new_context(base_url=live_server.url, locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.csp_messages = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and page.csp_messages.append(f"{page.url}: {message.text}"),
    )
    page.on("pageerror", lambda error: page.csp_messages.append(f"{page.url}: page error: {error}"))
    yield page
    context.close()


def visit(page, path: str) -> None:
    response = page.goto(path)
    assert response.status == 200, (path, response.status)
    directives = dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in (response.header_value("content-security-policy") or "").split(";")
    )
    assert directives["script-src"].startswith("'self'"), (path, directives)
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in directives["script-src"], (
        path,
        directives,
    )
    page.wait_for_load_state("networkidle")


def test_no_page_breaks_the_content_security_policy(csp_page, live_server):
    page = csp_page
    admin = factories.staff(username="csp-admin", is_staff=True, is_superuser=True)
    for code in ("KE", "NO"):
        partnership_create(actor=admin, country=factories.country(code))
    factories.CounterpartFactory(country=factories.country("KE"), name="Amina Minister", title="Minister of ICT")
    announcement = announcement_create(actor=admin, title="Kenya joins", countries=[factories.country("KE")], tracks=[])
    announcement_publish(actor=admin, announcement=announcement)
    rollup_countries()

    # Public pages.
    visit(page, "/accounts/login/")
    visit(page, "/announcements/")
    visit(page, f"/announcements/{announcement.pk}/")

    # The portal, signed in: home, every dashboard (server-drawn SVG charts and the map), a country page.
    sign_in(page, "csp-admin")
    for path in ("/", "/dashboard/", "/dashboard/funnels/", "/dashboard/attention/", "/dashboard/infrastructure/"):
        visit(page, path)
    visit(page, "/dashboard/map/")
    visit(page, f"/dashboard/history/?as_of={(datetime.date.today() - datetime.timedelta(days=7)).isoformat()}")
    visit(page, "/countries/ke/")
    visit(page, "/follow-ups/")
    visit(page, "/account/api-tokens/")

    # htmx and portal.js at work: another follow-up row, a counterpart quick-added in place.
    visit(page, "/countries/ke/engagements/new/")
    page.get_by_role("button", name="Add another follow-up").click()
    expect(page.get_by_role("group", name="Follow-up 2")).to_be_visible()
    quick_add = page.get_by_role("group", name="Someone new")
    quick_add.get_by_label("Name").fill("Kari Director")
    quick_add.get_by_role("button", name="Add").click()
    expect(page.locator("#counterpart-picker").get_by_text("Kari Director added and ticked.")).to_be_visible()

    # The admin: index, a list, a form with autocomplete (select2) fields, axes' attempts.
    visit(page, "/admin/")
    visit(page, "/admin/countries/counterpart/")
    visit(page, "/admin/countries/liaisonassignment/add/")
    page.locator(".select2-selection").first.click()
    expect(page.locator(".select2-results__option").first).to_be_visible()
    visit(page, "/admin/axes/accessattempt/")

    # The API docs: Swagger UI and ReDoc render the schema.
    visit(page, "/api/v1/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("AI Partnership Programme portal API", timeout=30_000)
    visit(page, "/api/v1/redoc/")
    expect(page.get_by_role("heading", name="AI Partnership Programme portal API", exact=False).first).to_be_visible(
        timeout=30_000
    )

    # ReDoc's "API docs by Redocly" logo is an empty image of its own (core/api/openapi_document.py), not a request
    # to its CDN: nothing at all is blocked.
    assert page.csp_messages == []
