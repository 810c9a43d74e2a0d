"""The portal's shell in a real browser: sign-in, the home page, French, the inbox and API tokens,
each checked by axe-core and saved as a screenshot."""

import pytest

from partnerships.rollup import rollup_countries
from partnerships.services import partnership_create
from tests import factories

from .conftest import screenshot, serious_accessibility_violations, sign_in

# Live-server tests are transactional; serialized_rollback puts back the data migrations' rows afterwards.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("reference_data")]


def test_a_staff_member_signs_in_reads_the_pipeline_and_switches_to_french(page):
    staff = factories.staff(username="staff-e2e", first_name="Ada", last_name="Staff")
    for code in ("GB", "KE", "CI"):
        partnership_create(actor=staff, country=factories.country(code))
    rollup_countries()

    page.goto("/")
    assert page.url.endswith("/accounts/login/?next=/")
    screenshot(page, "login")
    assert serious_accessibility_violations(page) == []

    sign_in(page, "staff-e2e")
    assert page.get_by_role("heading", name="Welcome, Ada Staff").is_visible()
    assert page.get_by_text("3 countries in the programme").is_visible()
    screenshot(page, "home-en")
    assert serious_accessibility_violations(page) == []

    page.get_by_label("Search countries").fill("ken")
    page.get_by_role("button", name="Apply").click()
    assert page.get_by_text("1 country in the programme").is_visible()

    page.get_by_role("link", name="Kenya").click()
    assert page.get_by_role("heading", name="Kenya KE").is_visible()
    assert page.get_by_role("heading", name="Timeline").is_visible()
    screenshot(page, "country-ke")
    assert serious_accessibility_violations(page) == []
    page.go_back()

    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Change").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("heading", name="Bienvenue, Ada Staff").is_visible()
    assert page.get_by_role("heading", name="Portefeuille du programme").is_visible()
    screenshot(page, "home-fr")
    assert serious_accessibility_violations(page) == []


def test_keyboard_users_can_skip_to_the_content_and_reach_the_inbox_and_tokens(page):
    factories.viewer(username="viewer-e2e")
    sign_in(page, "viewer-e2e")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    assert skip.evaluate("el => el === document.activeElement")
    page.get_by_role("link", name="Notifications").click()
    assert page.get_by_role("heading", name="Notifications").is_visible()
    assert page.get_by_text("No notification yet.").is_visible()
    screenshot(page, "inbox")
    assert serious_accessibility_violations(page) == []

    page.get_by_role("link", name="Your account").click()  # API tokens, calendar feeds and second factors are there
    page.get_by_role("link", name="Your API tokens").click()
    page.get_by_label("Name").fill("Ministry dashboard")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_role("textbox", name="Token", exact=True).input_value()
    assert token.startswith("ppt_")
    screenshot(page, "api-tokens")
    assert serious_accessibility_violations(page) == []


def test_on_a_phone_the_menu_opens_from_its_button_and_escape_closes_it(page):
    factories.viewer(username="viewer-phone")
    page.set_viewport_size({"width": 390, "height": 800})
    sign_in(page, "viewer-phone")
    menu_button = page.locator("details.site-menu > summary")
    follow_ups = page.get_by_role("link", name="Follow-ups")
    assert menu_button.is_visible()
    assert not follow_ups.is_visible()
    menu_button.click()
    assert follow_ups.is_visible()
    follow_ups.focus()
    page.keyboard.press("Escape")
    assert not follow_ups.is_visible()
    assert menu_button.evaluate("el => el === document.activeElement")
    # On a laptop the navigation is always shown, and Escape leaves it alone.
    page.set_viewport_size({"width": 1366, "height": 900})
    assert follow_ups.is_visible()
    page.keyboard.press("Escape")
    assert follow_ups.is_visible()
