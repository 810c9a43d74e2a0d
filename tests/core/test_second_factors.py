"""Second factors: enrolment of an authenticator app, sign-in with its codes (computed here, as the app would),
recovery codes that work once, the lockout shared with wrong passwords, the roles that must enrol, the session of a
provider that asserted MFA, and the recent factor asked before an API token or a calendar feed is created."""

import re
import time
from base64 import b32decode

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import catalogue
from core.mfa import policies
from core.mfa.services import recovery_codes_generate, totp_enrolment_confirm, totp_enrolment_start
from core.models import ApiToken, Event
from notifications.models import CalendarFeed
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"
ADDRESS = "192.0.2.44"


def code_for(device: TOTPDevice, at: float | None = None) -> str:
    """The code the app shows now (or at ``at``), computed from the device's key the way an app does."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)  # an app knows nothing of the drift
    totp.time = at if at is not None else time.time()
    return f"{totp.token():0{device.digits}d}"


def with_app(user) -> TOTPDevice:
    device = totp_enrolment_start(actor=user, user=user)
    assert totp_enrolment_confirm(actor=user, device=device, token=code_for(device, time.time() - 30))
    device.refresh_from_db()
    return device


def sign_in(client, username, password=PASSWORD, address=ADDRESS):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def verify(client, code, next_url="/", address=ADDRESS):
    return client.post(reverse("second-factor-verify"), {"code": code, "next": next_url}, REMOTE_ADDR=address)


@pytest.fixture
def required(settings):
    settings.MFA_REQUIRED_ROLES = ["programme_staff", "administrator"]


# --- Enrolment ------------------------------------------------------------------------------------------------------


def test_enrolling_an_app_shows_a_qr_code_and_confirms_with_a_code_from_it(client, viewer_user):
    client.force_login(viewer_user)
    page = client.get(reverse("second-factor-totp"))
    html = page.content.decode()
    assert page.status_code == 200
    assert re.search(r'<img src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]+"', html)
    device = TOTPDevice.objects.get(user=viewer_user, confirmed=False)
    secret = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', html).group(1).replace(" ", "")
    assert b32decode(secret) == device.bin_key  # the key typed by hand is the one in the QR code
    assert "otpauth://totp/Partnership%20portal%3Aviewer?secret=" in device.config_url

    wrong = client.post(reverse("second-factor-totp"), {"code": "000000" if code_for(device) != "000000" else "111111"})
    assert wrong.status_code == 200 and "That code is not right" in wrong.content.decode()
    assert not policies.user_has_second_factor(viewer_user)

    done = client.post(reverse("second-factor-totp"), {"code": code_for(device)})
    assert done.status_code == 302 and done["Location"] == reverse("second-factors")
    device.refresh_from_db()
    assert device.confirmed
    assert policies.second_factor_status(viewer_user).summary == "Authenticator app"
    event = Event.objects.get(kind=catalogue.SECOND_FACTOR_ADDED)
    assert event.payload == {"kind": "totp", "name": "Authenticator app"}


def test_recovery_codes_are_shown_once_and_a_new_set_replaces_the_old(client, viewer_user):
    with_app(viewer_user)
    client.force_login(viewer_user)
    first = client.post(reverse("second-factor-recovery-codes"))
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", first.content.decode())
    assert len(codes) == settings.MFA_RECOVERY_CODE_COUNT == 10
    assert "no-store" in first["Cache-Control"] or "no-cache" in first["Cache-Control"]
    # The account page tells how many are left, never the codes themselves.
    page = client.get(reverse("second-factors")).content.decode()
    assert "10 codes left" in page and codes[0] not in page
    second = client.post(reverse("second-factor-recovery-codes"))
    new_codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", second.content.decode())
    # Only their digests are stored: a copy of the database gives no code.
    stored = set(StaticToken.objects.values_list("token", flat=True))
    assert stored == {policies.recovery_code_digest(code) for code in new_codes} and not stored & {*codes, *new_codes}
    assert not set(codes) & set(new_codes)


def test_recovery_codes_need_a_factor_first(client, viewer_user):
    client.force_login(viewer_user)
    response = client.post(reverse("second-factor-recovery-codes"))
    assert response.status_code == 302 and not StaticToken.objects.exists()


def test_the_last_factor_of_a_role_that_requires_one_cannot_be_removed(client, staff_user, required):
    device = with_app(staff_user)
    client.force_login(staff_user)  # any sign-in notes the verification the session owes
    assert verify(client, code_for(device)).status_code == 302
    client.post(reverse("second-factor-remove", args=["app", device.pk]))
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    # A viewer (not required) may remove theirs; their recovery codes go with it.
    viewer = factories.viewer(username="viewer")
    app = with_app(viewer)
    recovery_codes_generate(actor=viewer, user=viewer)
    other = client.__class__()
    other.force_login(viewer)
    verify(other, code_for(app))
    other.post(reverse("second-factor-remove", args=["app", app.pk]))
    assert not TOTPDevice.objects.filter(user=viewer).exists() and not StaticToken.objects.filter(device__user=viewer).exists()
    assert Event.objects.filter(kind=catalogue.SECOND_FACTOR_REMOVED).count() == 1


# --- Sign-in ---------------------------------------------------------------------------------------------------------


def test_sign_in_with_an_app_asks_for_its_code_after_the_password(client, viewer_user):
    device = with_app(viewer_user)
    signed = sign_in(client, "viewer")
    assert signed.status_code == 302
    # Every page leads to the second factor until it is given, and back afterwards.
    home = client.get("/follow-ups/")
    assert home.status_code == 302 and home["Location"] == "/account/second-factors/verify/?next=%2Ffollow-ups%2F"
    assert client.get("/api/v1/countries/").status_code == 403
    page = client.get(home["Location"]).content.decode()
    assert "Your password was right" in page and 'autocomplete="one-time-code"' in page
    assert 'href="/dashboard/"' not in page  # no menu while the factor is owed
    done = verify(client, code_for(device), next_url="/follow-ups/")
    assert done.status_code == 302 and done["Location"] == "/follow-ups/"
    assert client.get("/follow-ups/").status_code == 200
    # The same code again (a replay) is refused, in another session.
    other = client.__class__()
    sign_in(other, "viewer")
    assert "That code is not right" in verify(other, code_for(device)).content.decode()


def test_a_user_without_a_factor_whose_role_does_not_require_one_signs_in_with_the_password(client, viewer_user, required):
    sign_in(client, "viewer")
    assert client.get("/follow-ups/").status_code == 200


def test_a_recovery_code_works_once(client, viewer_user):
    with_app(viewer_user)
    code = recovery_codes_generate(actor=viewer_user, user=viewer_user)[0]
    sign_in(client, "viewer")
    done = verify(client, code)
    assert done.status_code == 302 and done["Location"] == "/"
    assert client.get("/follow-ups/").status_code == 200
    assert not StaticToken.objects.filter(token=policies.recovery_code_digest(code)).exists()  # spent
    assert StaticToken.objects.count() == settings.MFA_RECOVERY_CODE_COUNT - 1
    again = client.__class__()
    sign_in(again, "viewer")
    assert "That code is not right" in verify(again, code).content.decode()
    assert again.get("/follow-ups/").status_code == 302


def test_recovery_codes_given_before_a_secret_key_rotation_still_work(client, viewer_user, settings):
    with_app(viewer_user)
    old_key = settings.SECRET_KEY
    codes = recovery_codes_generate(actor=viewer_user, user=viewer_user)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-key-" + "n" * 50, [old_key]
    sign_in(client, "viewer")
    assert verify(client, codes[0]).status_code == 302  # keyed with the old key, now a fallback
    assert StaticToken.objects.count() == settings.MFA_RECOVERY_CODE_COUNT - 1
    settings.SECRET_KEY_FALLBACKS = []  # the old key retired: the codes keyed with it are gone with it
    again = client.__class__()
    sign_in(again, "viewer")
    assert "That code is not right" in verify(again, codes[1]).content.decode()


def test_recovery_codes_stored_before_digests_are_replaced_by_their_digests(viewer_user):
    import importlib

    from django.apps import apps
    from django_otp.plugins.otp_static.models import StaticDevice

    device = StaticDevice.objects.create(user=viewer_user, name=policies.RECOVERY_DEVICE_NAME, confirmed=True)
    other = StaticDevice.objects.create(user=viewer_user, name="something else", confirmed=True)
    StaticToken.objects.create(device=device, token="abcdefgh")  # as django-otp stores a code: itself
    StaticToken.objects.create(device=other, token="ijklmnop")
    migration = importlib.import_module("core.migrations.0007_recovery_codes_stored_as_digests")
    migration.codes_to_digests(apps, None)
    migration.codes_to_digests(apps, None)  # twice: a digest is left as it is
    assert list(device.token_set.values_list("token", flat=True)) == [policies.recovery_code_digest("abcdefgh")]
    assert list(other.token_set.values_list("token", flat=True)) == ["ijklmnop"]  # not a recovery device
    assert device.verify_token(policies.recovery_code_to_verify(device, "abcdefgh"))


def test_wrong_codes_count_towards_the_same_lockout_as_wrong_passwords(client, viewer_user):
    device = with_app(viewer_user)
    limit = settings.AXES_FAILURE_LIMIT
    # Two wrong passwords, then the right one: a success starts the count again (axes), so codes count from zero.
    sign_in(client, "viewer", "wrong-password")
    sign_in(client, "viewer", "wrong-password")
    sign_in(client, "viewer")
    wrong = "000000" if code_for(device) != "000000" else "111111"
    for _ in range(limit - 1):
        assert verify(client, wrong).status_code == 200
    locked = verify(client, wrong)
    assert locked.status_code == 429 and "Sign-in paused" in locked.content.decode()
    # Signed out, and the right password is refused from that address too: one lockout for both.
    assert client.get("/follow-ups/").status_code == 302
    assert sign_in(client, "viewer").status_code == 429
    # From another address the account still signs in (per account and address, as for passwords).
    other = client.__class__()
    assert sign_in(other, "viewer", address="198.51.100.7").status_code == 302
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.get(ip_address=ADDRESS).post_data.count("********") >= 1  # the code itself is not kept


def test_a_locked_out_account_cannot_try_a_code_from_a_session_signed_in_earlier(client, viewer_user):
    device = with_app(viewer_user)
    sign_in(client, "viewer")
    other = client.__class__()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(other, "viewer", "wrong-password")
    response = verify(client, code_for(device))
    assert response.status_code == 429
    assert client.get("/follow-ups/").status_code == 302


# --- Roles that must enrol -----------------------------------------------------------------------------------------


def test_staff_are_led_to_enrol_at_sign_in_and_reach_nothing_else_until_they_have(client, staff_user, required):
    sign_in(client, "staff")
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response["Location"] == "/account/second-factors/?next=%2Fdashboard%2F"
    page = client.get(response["Location"]).content.decode()
    assert "Your role requires a second factor" in page
    assert client.get("/audit/").status_code == 302
    assert client.post(reverse("logout")).status_code == 302  # sign-out stays open
    sign_in(client, "staff")
    client.get(reverse("second-factor-totp"))
    device = TOTPDevice.objects.get(user=staff_user, confirmed=False)
    done = client.post(reverse("second-factor-totp") + "?next=/dashboard/", {"code": code_for(device), "next": "/dashboard/"})
    assert done.status_code == 302
    assert client.get("/dashboard/").status_code == 200


def test_superusers_are_administrators_for_the_requirement(client, required):
    admin = factories.make_user(username="root", is_superuser=True, is_staff=True)
    assert policies.must_enrol(admin)
    assert not policies.must_enrol(factories.liaison("GB", username="liaison"))


def test_the_requirement_is_off_unless_a_role_is_named(client, staff_user):
    assert settings.MFA_REQUIRED_ROLES == []  # the embedded default and the test suite (DEBUG on): see configuration
    sign_in(client, "staff")
    assert client.get("/dashboard/").status_code == 200


def test_a_session_whose_identity_provider_asserted_mfa_is_not_asked_again(client, staff_user, required):
    with_app(staff_user)
    session = client.session
    session[policies.IDENTITY_PROVIDER_MFA] = True  # as single sign-on leaves it, before or after login()
    session.save()
    client.force_login(staff_user)
    assert client.get("/dashboard/").status_code == 200
    # Nor asked to enrol, for a role that requires a factor and a user with none.
    other_staff = factories.staff(username="staff-2")
    other = client.__class__()
    other.force_login(other_staff)
    session = other.session
    session[policies.IDENTITY_PROVIDER_MFA] = True
    session.save()
    assert other.get("/dashboard/").status_code == 200


# --- A recent factor before a long-lived credential ----------------------------------------------------------------


def test_creating_an_api_token_asks_for_a_recent_second_factor(client, viewer_user):
    device = with_app(viewer_user)
    sign_in(client, "viewer")
    verify(client, code_for(device))
    page = client.get(reverse("api-tokens")).content.decode()
    form_token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    data = {"name": "dashboard", "days": "30", "form_token": form_token}
    with time_machine.travel(time.time() + (settings.MFA_RECENT_MINUTES + 1) * 60):
        asked = client.post(reverse("api-tokens"), data, REMOTE_ADDR=ADDRESS)
        assert asked.status_code == 302 and asked["Location"] == "/account/second-factors/verify/?next=%2Faccount%2Fapi-tokens%2F"
        assert not ApiToken.objects.exists()
        page = client.get(asked["Location"]).content.decode()
        assert "Confirm it is you" in page
        back = verify(client, code_for(device), next_url="/account/api-tokens/")
        assert back["Location"] == "/account/api-tokens/"
        created = client.post(reverse("api-tokens"), data, REMOTE_ADDR=ADDRESS)
        assert created.status_code == 200 and ApiToken.objects.filter(user=viewer_user).count() == 1


def test_creating_a_calendar_feed_asks_for_a_recent_second_factor(client, viewer_user):
    device = with_app(viewer_user)
    sign_in(client, "viewer")
    verify(client, code_for(device))
    page = client.get(reverse("calendar-feeds")).content.decode()
    form_token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    data = {"name": "phone", "scope": "mine", "form_token": form_token}
    with time_machine.travel(time.time() + (settings.MFA_RECENT_MINUTES + 1) * 60):
        asked = client.post(reverse("calendar-feeds"), data)
        assert asked.status_code == 302 and asked["Location"].startswith("/account/second-factors/verify/")
        assert not CalendarFeed.objects.exists()
    created = client.post(reverse("calendar-feeds"), data)
    assert created.status_code == 200 and CalendarFeed.objects.filter(user=viewer_user).count() == 1


def test_a_user_with_no_factor_and_no_requirement_creates_a_token_with_the_session(client, viewer_user):
    client.force_login(viewer_user)
    assert not policies.user_has_second_factor(viewer_user)
    page = client.get(reverse("api-tokens")).content.decode()
    form_token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    client.post(reverse("api-tokens"), {"name": "x", "days": "30", "form_token": form_token})
    assert ApiToken.objects.filter(user=viewer_user).count() == 1


def test_a_provider_session_counts_as_recent_from_its_sign_in(client, viewer_user, rf):
    client.force_login(viewer_user)
    session = client.session
    session[policies.IDENTITY_PROVIDER_MFA] = True
    session.save()
    request = rf.get("/")
    request.user, request.session = viewer_user, client.session
    assert not policies.recent_second_factor_missing(request)
    with time_machine.travel(time.time() + (settings.MFA_RECENT_MINUTES + 1) * 60):
        assert policies.recent_second_factor_missing(request)


# --- What the user-administration list shows ------------------------------------------------------------------------


def test_second_factor_status_counts_each_kind_in_a_fixed_number_of_queries(django_assert_num_queries, required):
    users = [factories.staff(username=f"s{i}") for i in range(3)] + [factories.viewer(username="v")]
    with_app(users[0])
    recovery_codes_generate(actor=users[0], user=users[0])
    for user in users:
        user.refresh_from_db()
    with django_assert_num_queries(4):
        statuses = policies.second_factor_statuses(users)
    first = statuses[users[0].pk]
    assert (first.authenticator_apps, first.security_keys, first.recovery_codes_left, first.required) == (1, 0, 10, True)
    assert first.methods == ("totp",) and first.summary == "Authenticator app"
    assert statuses[users[1].pk].summary == "None" and statuses[users[1].pk].required
    assert not statuses[users[3].pk].required


# --- Security keys: who may register one (the ceremony itself runs in tests/e2e/test_second_factors.py) -------------


def test_a_session_that_owes_its_factor_cannot_register_a_key_to_get_round_it(client, viewer_user):
    with_app(viewer_user)
    sign_in(client, "viewer")  # password only: the app's code is owed
    begin = reverse("otp_webauthn:credential-registration-begin")
    assert client.post(begin).status_code == 403
    # Verified by the identity provider, the same user may add a key.
    other = client.__class__()
    other.force_login(viewer_user)
    session = other.session
    session[policies.IDENTITY_PROVIDER_MFA] = True
    session.save()
    response = other.post(begin)
    assert response.status_code == 200 and response.json()["rp"]["id"] == settings.OTP_WEBAUTHN_RP_ID


def test_a_key_never_signs_in_on_its_own(client):
    response = client.post(reverse("otp_webauthn:credential-authentication-begin"))
    assert response.status_code == 403  # passwordless sign-in is off: a key is a second factor only


def test_the_admin_sign_in_also_leads_to_the_second_factor(client, required):
    admin = factories.make_user(username="root", is_superuser=True, is_staff=True)
    response = client.post(
        reverse("admin:login"), {"username": "root", "password": PASSWORD, "next": "/admin/"}, REMOTE_ADDR=ADDRESS
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/")["Location"].startswith("/account/second-factors/?next=")
    assert policies.must_enrol(admin)


def test_typos_while_adding_an_app_do_not_lock_the_account(client, viewer_user):
    client.force_login(viewer_user)
    client.get(reverse("second-factor-totp"))
    device = TOTPDevice.objects.get(user=viewer_user, confirmed=False)
    wrong = "000000" if code_for(device) != "000000" else "111111"
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        response = client.post(reverse("second-factor-totp"), {"code": wrong}, REMOTE_ADDR=ADDRESS)
        assert response.status_code == 200
    assert client.post(reverse("second-factor-totp"), {"code": code_for(device)}, REMOTE_ADDR=ADDRESS).status_code == 302
