"""Signing in through the identity provider in a browser: the portal's sign-in page ("Sign in with ..."), the
provider's own login page (tests/identity_provider, a real OpenID Connect provider on loopback), and back."""

import pytest
from django.contrib.auth import get_user_model

from core import identity, roles
from tests.e2e.conftest import screenshot, serious_accessibility_violations
from tests.identity_provider.launcher import CLIENT_ID, CLIENT_SECRET, PASSWORD, running_provider

# Live-server tests are transactional; serialized_rollback puts back the data migrations' rows afterwards.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("reference_data")]


@pytest.fixture
def provider(tmp_path, live_server, settings):
    users = {"amina": {"email": "amina@ministry.example", "first_name": "Amina"}}
    with running_provider(
        tmp_path, users, [live_server.url + "/oidc/callback/", live_server.url + "/accounts/login/"]
    ) as running:
        identity._discovery.clear()
        settings.OIDC_OP_ISSUER = running.issuer
        settings.OIDC_RP_CLIENT_ID = CLIENT_ID
        settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
        settings.SSO_PROVIDER_NAME = "Ministry ID"
        settings.SSO_ROLE_MAPPING = {"ai-liaisons": roles.LIAISON}
        yield running


def test_a_liaison_signs_in_through_the_providers_login_page(page, provider, live_server):
    provider.set_claims("amina", groups=["ai-liaisons"], countries=["GB"], amr=["pwd", "otp"])
    page.goto("/accounts/login/")
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, f"sign-in-with-provider-{width}")
    assert serious_accessibility_violations(page) == []
    page.get_by_role("link", name="Sign in with Ministry ID").click()
    page.wait_for_url(f"http://127.0.0.1:{provider.port}/accounts/login/**")
    page.get_by_label("User name").fill("amina")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + "/")
    user = get_user_model().objects.get(email="amina@ministry.example")
    assert roles.is_liaison(user)
    assert list(user.liaison_assignments.values_list("country__iso2", flat=True)) == ["GB"]
    assert serious_accessibility_violations(page) == []
