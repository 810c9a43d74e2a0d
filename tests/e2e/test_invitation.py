"""An invited person follows the link of their e-mail, sets a password and is signed in; staff see them active."""

import re

import pytest
from django.core import mail

from tests import factories

from .conftest import screenshot, serious_accessibility_violations, sign_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PASSWORD = "a long enough passphrase 42"


def check(page, name: str) -> list:
    """axe and screenshots at a phone's width and a desktop's, for the pages of this flow."""
    problems = []
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        problems += [(name, width, v) for v in serious_accessibility_violations(page)]
        width_used = page.evaluate("document.documentElement.scrollWidth")
        if width_used > width:
            problems.append((name, width, f"page {width_used}px wide"))
        screenshot(page, f"invitation-{name}-{width}")
    page.set_viewport_size({"width": 1366, "height": 900})
    return problems


def test_an_invitation_is_sent_accepted_and_used_once(page, browser, live_server, reference_data):
    factories.staff(username="e2e-staff", first_name="Sam", last_name="Staff")
    problems = []
    sign_in(page, "e2e-staff")

    page.goto("/users/invite/")
    problems += check(page, "invite-form")
    page.get_by_label("E-mail").fill("new.liaison@example.gov")
    page.get_by_label("First name").fill("Nadia")
    page.get_by_label("Last name").fill("Haddad")
    page.get_by_role("radio", name="Liaison").check()
    page.get_by_label("Countries (liaisons only)").select_option(label="France")
    page.get_by_role("button", name="Send the invitation").click()
    page.wait_for_url("**/users/*/")
    assert "Invitation sent to new.liaison@example.gov" in page.content()
    problems += check(page, "invited-user")

    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new.liaison@example.gov"]
    link = re.search(r"https?://\S+/invitations/\S+/", mail.outbox[0].body).group(0)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]

    invitee = browser.new_context(base_url=live_server.url, locale="en-GB").new_page()
    invitee.goto(path)
    problems += check(invitee, "set-password")
    invitee.locator("#id_new_password1").fill("short")
    invitee.locator("#id_new_password2").fill("short")
    invitee.get_by_role("button", name="Set password and sign in").click()
    assert "too short" in invitee.content()
    problems += check(invitee, "set-password-errors")
    invitee.locator("#id_new_password1").fill(PASSWORD)
    invitee.locator("#id_new_password2").fill(PASSWORD)
    invitee.get_by_role("button", name="Set password and sign in").click()
    invitee.wait_for_url(live_server.url + "/")
    assert "Welcome, Nadia Haddad" in invitee.content()

    invitee.goto("/account/")
    assert "this browser" in invitee.content()
    problems += check(invitee, "account")

    # The link works once.
    stranger = browser.new_context(base_url=live_server.url, locale="en-GB").new_page()
    response = stranger.goto(path)
    assert response.status == 410 and "already been used" in stranger.content()
    problems += check(stranger, "used-link")

    page.goto("/users/?who=haddad")
    assert "Nadia Haddad" in page.content() and "France" in page.content()
    problems += check(page, "users-list")
    assert problems == []
