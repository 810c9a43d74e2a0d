"""Single sign-on against a real OpenID Connect provider: tests/identity_provider (django-oauth-toolkit), started
here as a separate process on a free loopback port with its own SQLite database and a fresh RSA key. The portal
(Django's test client) fetches the discovery document, the token, the JWKS and the userinfo over HTTP."""

import base64
import json
import time
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import time_machine
from django.contrib.auth import get_user_model

from core import identity, roles
from countries.models import LiaisonAssignment
from portal import identity as portal_identity
from tests import factories
from tests.identity_provider.launcher import CLIENT_ID, CLIENT_SECRET, PASSWORD, free_port, running_provider

USERS = {
    "amina": {"email": "amina@ministry.example", "first_name": "Amina", "last_name": "Diallo"},
    "bruno": {"email": "bruno@ministry.example", "first_name": "Bruno", "last_name": "Keller"},
    "nobody": {"email": "nobody@ministry.example"},
}
ROLE_MAPPING = {"ai-programme-staff": roles.STAFF, "ai-liaisons": roles.LIAISON, "ai-readers": roles.VIEWER}


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    redirect_uris = ["http://testserver/oidc/callback/", "http://testserver/accounts/login/"]
    with running_provider(tmp_path_factory.mktemp("identity_provider"), USERS, redirect_uris) as running:
        yield running


@pytest.fixture
def sso(settings, provider):
    identity._discovery.clear()
    settings.OIDC_OP_ISSUER = provider.issuer
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.SSO_PROVIDER_NAME = "Ministry ID"
    settings.SSO_ROLE_MAPPING = ROLE_MAPPING
    return provider


def _sign_in(client, provider, username, tamper=None):
    """The whole code flow: portal -> provider (signed in there as ``username``) -> portal's callback."""
    start = client.get("/oidc/authenticate/")
    assert start.status_code == 302, start
    authorize = start["Location"]
    assert authorize.startswith(provider.issuer + "/authorize/")
    browser = requests.Session()
    login_url = provider.login_url
    browser.get(login_url, timeout=10)
    answer = browser.post(
        login_url,
        data={
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": browser.cookies["idp_csrftoken"],
            "next": "/",
        },
        headers={"Referer": login_url},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text[:500]
    consent = browser.get(authorize, allow_redirects=False, timeout=10)
    assert consent.status_code == 302, consent.text[:500]
    back = urlparse(consent.headers["Location"])
    assert back.netloc == "testserver" and back.path == "/oidc/callback/", consent.headers["Location"]
    query = {key: values[0] for key, values in parse_qs(back.query).items()}
    if tamper:
        tamper()
    return client.get("/oidc/callback/", query), browser


@pytest.mark.django_db
def test_the_sign_in_page_offers_the_provider_only_when_configured(client, sso, settings):
    assert "Sign in with Ministry ID" in client.get("/accounts/login/").content.decode()
    settings.OIDC_RP_CLIENT_ID = ""
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with" not in page
    assert client.get("/oidc/authenticate/").status_code == 404


@pytest.mark.django_db
def test_a_liaison_signs_in_with_role_and_countries_mapped(client, sso):
    sso.set_claims("amina", groups=["ai-liaisons", "unrelated-group"], countries=["gb", "FR"], amr=["pwd"])
    response, _browser = _sign_in(client, sso, "amina")
    assert response.status_code == 302 and response["Location"] == "/"
    user = get_user_model().objects.get(email="amina@ministry.example")
    assert client.session["_auth_user_id"] == str(user.pk)
    assert roles.is_liaison(user) and not roles.is_programme_staff(user)
    assert set(LiaisonAssignment.objects.filter(user=user).values_list("country__iso2", flat=True)) == {"GB", "FR"}
    assert (user.first_name, user.last_name) == ("Amina", "Diallo")
    assert not user.has_usable_password()
    assert identity.provider_asserted_mfa(client) is False
    # Audited: the new user and its assignments are in the audit log.
    from auditlog.models import LogEntry

    assert LogEntry.objects.filter(content_type__model="user", object_pk=str(user.pk)).exists()
    assert LogEntry.objects.filter(content_type__model="liaisonassignment").count() == 2


@pytest.mark.django_db
def test_a_returning_user_is_updated_from_the_provider(client, sso):
    sso.set_claims("bruno", groups=["ai-liaisons"], countries=["GB"])
    _sign_in(client, sso, "bruno")
    user = get_user_model().objects.get(email="bruno@ministry.example")
    assert roles.is_liaison(user)
    client.logout()
    sso.set_claims("bruno", groups=["ai-programme-staff"], countries=["GB"])
    response, _browser = _sign_in(client, sso, "bruno")
    assert response.status_code == 302
    user = get_user_model().objects.get(pk=user.pk)
    assert get_user_model().objects.filter(email="bruno@ministry.example").count() == 1
    assert roles.is_programme_staff(user) and not roles.is_liaison(user)
    assert not LiaisonAssignment.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_a_user_without_a_mapped_group_is_refused(client, sso):
    sso.set_claims("nobody", groups=["someone-else"])
    response, _browser = _sign_in(client, sso, "nobody")
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    assert not get_user_model().objects.filter(email="nobody@ministry.example").exists()


@pytest.mark.django_db
def test_an_email_the_provider_says_is_unverified_is_refused(client, sso):
    sso.set_claims("nobody", groups=["ai-readers"], email_verified=False)
    response, _browser = _sign_in(client, sso, "nobody")
    assert response.status_code == 403
    assert not get_user_model().objects.filter(email="nobody@ministry.example").exists()


@pytest.mark.django_db
def test_a_tampered_id_token_is_refused(client, sso, monkeypatch, caplog):
    sso.set_claims("amina", groups=["ai-readers"])
    real_get_token = portal_identity.PortalOIDCBackend.get_token

    def tampered(self, payload):
        tokens = real_get_token(self, payload)
        header, body, signature = tokens["id_token"].split(".")
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        claims["email"] = "someone.else@ministry.example"
        body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        tokens["id_token"] = f"{header}.{body}.{signature}"
        return tokens

    monkeypatch.setattr(portal_identity.PortalOIDCBackend, "get_token", tampered)
    response, _browser = _sign_in(client, sso, "amina")
    assert response.status_code == 403
    assert "Sign-in refused" in response.content.decode()
    assert "JWS token verification failed" in caplog.text
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_an_expired_id_token_is_refused(client, sso, settings, caplog):
    sso.set_claims("amina", groups=["ai-readers"])
    settings.SESSION_COOKIE_AGE = 48 * 3600  # the portal's session outlives the jump in time; only the token does not
    traveller = time_machine.travel(time.time() + 11 * 3600, tick=True)

    def later():
        # The provider's ID tokens live 10 hours: the portal's clock is moved past that before it checks.
        traveller.start()

    try:
        response, _browser = _sign_in(client, sso, "amina", tamper=later)
    finally:
        traveller.stop()
    assert response.status_code == 403
    assert "Signature has expired" in caplog.text
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_amr_claim_marks_the_session_as_having_a_second_factor(client, sso):
    sso.set_claims("amina", groups=["ai-readers"], amr=["pwd", "otp"])
    response, _browser = _sign_in(client, sso, "amina")
    assert response.status_code == 302
    assert client.session[identity.SESSION_MFA_KEY] is True
    assert identity.provider_asserted_mfa(client) is True


def test_which_amr_values_count_as_a_second_factor():
    assert identity.amr_asserts_mfa(["pwd", "hwk"])
    assert identity.amr_asserts_mfa(["mfa"])
    assert not identity.amr_asserts_mfa(["pwd"])
    assert not identity.amr_asserts_mfa(None)
    assert not identity.amr_asserts_mfa([{"otp": 1}])


@pytest.mark.django_db
def test_sign_out_ends_the_portal_session_and_the_providers(client, sso):
    sso.set_claims("amina", groups=["ai-readers"])
    _response, browser = _sign_in(client, sso, "amina")
    assert "_auth_user_id" in client.session
    out = client.post("/accounts/logout/")
    assert out.status_code == 302
    assert "_auth_user_id" not in client.session
    end_session = out["Location"]
    assert end_session.startswith(sso.issuer + "/logout/"), end_session
    assert "id_token_hint=" in end_session
    ended = browser.get(end_session, allow_redirects=False, timeout=10)
    assert ended.status_code == 302 and ended.headers["Location"] == "http://testserver/accounts/login/"
    # Signed out at the provider too: a new authorisation asks for the provider's password again.
    start = client.get("/oidc/authenticate/")
    again = browser.get(start["Location"], allow_redirects=False, timeout=10)
    assert again.status_code == 302 and again.headers["Location"].startswith("/accounts/login/?next=/o/authorize/")


@pytest.mark.django_db
def test_the_provider_down_gives_a_clear_page_and_break_glass_still_signs_in(client, settings):
    identity._discovery.clear()
    settings.OIDC_OP_ISSUER = f"http://127.0.0.1:{free_port()}/o"  # nothing listens there
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_TIMEOUT = 2
    settings.SSO_LOCAL_PASSWORDS = False
    settings.SSO_BREAK_GLASS_USERS = ["rescue"]
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 503
    assert "The identity provider cannot be reached" in response.content.decode()
    callback = client.get("/oidc/callback/", {"code": "x", "state": "y"})
    assert callback.status_code in (403, 503)

    factories.staff(username="rescue", password="a-long-break-glass-password")
    factories.staff(username="ordinary", password="a-long-ordinary-password")
    page = client.get("/accounts/login/").content.decode()
    assert "Administrator sign-in (break-glass)" in page
    refused = client.post("/accounts/login/", {"username": "ordinary", "password": "a-long-ordinary-password"})
    assert refused.status_code == 200 and "_auth_user_id" not in client.session
    signed_in = client.post("/accounts/login/", {"username": "rescue", "password": "a-long-break-glass-password"})
    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"] == str(get_user_model().objects.get(username="rescue").pk)


@pytest.mark.django_db
def test_explicit_endpoints_work_without_an_issuer(client, sso, settings):
    document = requests.get(sso.issuer + "/.well-known/openid-configuration", timeout=10).json()
    settings.OIDC_OP_ISSUER = ""
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = document["authorization_endpoint"]
    settings.OIDC_OP_TOKEN_ENDPOINT = document["token_endpoint"]
    settings.OIDC_OP_USER_ENDPOINT = document["userinfo_endpoint"]
    settings.OIDC_OP_JWKS_ENDPOINT = document["jwks_uri"]
    sso.set_claims("amina", groups=["ai-readers"])
    response, _browser = _sign_in(client, sso, "amina")
    assert response.status_code == 302
    assert roles.group_names(get_user_model().objects.get(email="amina@ministry.example")) == {roles.VIEWER}
    assert identity._discovery == {}  # nothing was discovered
    # Without an end-session endpoint, sign-out ends the portal session only.
    assert client.post("/accounts/logout/")["Location"] == "/accounts/login/"
