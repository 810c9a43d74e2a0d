"""Second factors in a real browser: a programme staff member led to enrol at sign-in adds an authenticator app
(the code computed here from the key the page shows, as the app would), keeps recovery codes and signs in with the
app; a security key is registered and then used to sign in, with Chromium's virtual authenticator (the DevTools
WebAuthn domain). Every page is axe-clean, under the Content-Security-Policy (the page fixture fails on any
violation), and photographed at 390 and 1366 px."""

import time
from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from django_otp_webauthn.models import WebAuthnCredential

from tests import factories

from .conftest import screenshot, serious_accessibility_violations

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("reference_data")]

PASSWORD = "pw-for-tests-1"


def app_code(secret: str, offset: int = 0) -> str:
    """What an authenticator app shows for the key typed from the page (``offset`` seconds from now)."""
    totp = TOTP(b32decode(secret.replace(" ", "")), step=30, t0=0, digits=6)
    totp.time = time.time() + offset
    return f"{totp.token():06d}"


def look(page, name: str) -> None:
    """axe at both widths, and a screenshot at each."""
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        assert serious_accessibility_violations(page) == [], f"{name} at {width} px"
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{name} scrolls sideways at {width} px"
        screenshot(page, f"second-factors-{name}-{width}")


def password_step(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_staff_enrol_an_authenticator_app_at_sign_in_and_sign_in_with_it(page, live_server, settings):
    settings.MFA_REQUIRED_ROLES = ["programme_staff", "administrator"]
    factories.staff(username="staff")
    password_step(page, "staff")
    page.wait_for_url("**/account/second-factors/?next=*")
    assert page.get_by_role("alert").inner_text().startswith("Your role requires a second factor.")
    look(page, "enrol-required")

    page.get_by_role("link", name="Add an authenticator app").click()
    page.wait_for_url("**/account/second-factors/app/**")
    secret = page.locator("#totp-secret").inner_text()
    assert page.get_by_role("img", name="QR code to scan with your authenticator app").is_visible()
    look(page, "add-app")
    page.get_by_label("Code from the app").fill("000000" if app_code(secret) != "000000" else "111111")
    page.get_by_role("button", name="Add the app").click()
    assert "That code is not right" in page.locator(".field-errors").inner_text()
    look(page, "add-app-wrong-code")
    page.get_by_label("Code from the app").fill(app_code(secret))
    page.get_by_role("button", name="Add the app").click()
    page.wait_for_url("**/account/second-factors/?next=*")
    assert "Authenticator app added." in page.locator(".messages").inner_text()

    page.get_by_role("button", name="Create recovery codes").click()
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    look(page, "recovery-codes")
    page.get_by_role("link", name="I have kept them: continue").click()
    page.wait_for_url("**/")
    assert page.get_by_role("link", name="Your account").count() == 1  # the menu is back

    page.get_by_role("button", name="Sign out").first.click()
    password_step(page, "staff")
    page.wait_for_url("**/account/second-factors/verify/**")
    look(page, "verify")
    page.get_by_label("Code", exact=True).fill(app_code(secret, offset=30))  # the next step: the last one was used
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{live_server.url}/")  # the home page: signed in with the app
    assert page.get_by_role("link", name="Your account").count() == 1


@pytest.fixture
def virtual_authenticator(page):
    """Chromium's virtual authenticator (DevTools WebAuthn domain): a platform passkey that answers at once."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def test_a_security_key_is_registered_and_then_asked_for_at_sign_in(page, live_server, settings, virtual_authenticator):
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    assert live_server.url.startswith("http://localhost:")  # an RP ID is a domain: browsers refuse an IP address
    cdp, authenticator = virtual_authenticator
    user = factories.viewer(username="viewer")
    password_step(page, "viewer")
    page.wait_for_url("**/")
    page.goto("/account/second-factors/security-key/")
    look(page, "add-key")
    page.get_by_role("button", name="Add a security key").click()
    page.wait_for_url("**/account/second-factors/")
    assert WebAuthnCredential.objects.filter(user=user, confirmed=True).count() == 1
    assert len(cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]) == 1
    assert page.get_by_role("heading", name="Security keys and passkeys").is_visible()
    look(page, "with-key")

    page.get_by_role("button", name="Sign out").first.click()
    password_step(page, "viewer")
    page.wait_for_url("**/account/second-factors/verify/**")
    look(page, "verify-key")
    page.get_by_role("button", name="Use my security key").click()
    page.wait_for_url(lambda url: "/account/" not in url and "/accounts/" not in url)
    credential = WebAuthnCredential.objects.get(user=user)
    assert credential.sign_count > 0 or credential.last_used_at is not None
    page.goto("/follow-ups/")
    assert "/follow-ups/" in page.url  # verified: the portal opens

    # The account locked out from this address (wrong passwords elsewhere): the key does not open it either.
    page.get_by_role("button", name="Sign out").first.click()
    password_step(page, "viewer")
    page.wait_for_url("**/account/second-factors/verify/**")
    intruder = page.context.browser.new_context(base_url=live_server.url)
    attempt = intruder.new_page()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt.goto("/accounts/login/")
        attempt.get_by_label("Username").fill("viewer")
        attempt.get_by_label("Password").fill("wrong-password")
        attempt.get_by_role("button", name="Sign in").click()
    intruder.close()
    page.get_by_role("button", name="Use my security key").click()
    status = page.locator("#passkey-verification-status-message")
    status.filter(has_text="Sign-in is paused").wait_for()
    assert "/account/second-factors/verify/" in page.url
