"""The permission matrix: every route of the portal and of the API, for every role, with the status it must answer.

Roles (the columns of every row, in this order):

    anon           not signed in
    norole         signed in, in no role group (the portal says "ask for access")
    viewer         reads non-confidential data; every API write is refused (403) before its object or body is read
    liaison_own    liaison of country A (GB), the country of the object of the row
    liaison_other  liaison of country B (FR) only
    staff          programme staff (also ``is_staff``, as in the demo data)
    admin          superuser

Expected values: an HTTP status, ``LOGIN`` (302 to the sign-in page with ``?next=`` the page asked for),
``ADMIN_LOGIN`` (the same for the admin's own sign-in page) or ``REDIRECT`` (any other 302: a form that
saved). Pages are requested with a session, the API with the user's real API token (knox).

For every write (anything but GET) the test also compares every row of every table of the portal before and
after: a refused write must change nothing; an allowed one must change something (unless the row says it
changes nothing, like signing out).

``test_every_route_is_in_the_matrix`` walks Django's URL resolver: a new route (a page, an API resource or
action) fails it until it has rows here, or is added, with the reason, to ``EXCLUDED``.

The second table, ``VISIBLE``, says exactly which rows each role sees in each list (API lists, the home page,
follow-ups, the country page, search, the dashboards, the public pages and feeds).
"""

import csv
import datetime
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from notifications.emails import unsubscribe_token
from partnerships.models import CountryTrack, StageChange
from tests.permission_cases import (
    CONTACT_EMAIL,
    CONTACT_PHONE,
    READERS,
    ROLES,
    SEARCH_WORD,
    all_routes,
    api_methods,
    build_world,
    changed_tables,
    fingerprint,
)

pytestmark = pytest.mark.django_db

LOGIN = "login"  # 302 to settings.LOGIN_URL?next=<the page asked for>
ADMIN_LOGIN = "admin-login"  # 302 to the admin's sign-in page?next=<the page asked for>
REDIRECT = "redirect"  # any other 302 (a form that was saved, a signed-in user sent on)
SUCCESS = {200, 201, 204, REDIRECT}


# --- the world: built once for the module, each test in its own savepoint --------------------------


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker):
    """The world of ``build_world``, inside an outer transaction rolled back after the module; what a test
    writes is undone after it by pytest-django's ``db`` savepoint."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
                world = build_world()
            # Every test starts from this state (its writes are rolled back): the "before" of every write cell.
            world.rows = fingerprint()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield world
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def world(db, _world) -> SimpleNamespace:
    return _world


def days(n: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=n)).isoformat()


def u(name: str, *args, query: str = "") -> Callable:
    """The path of route ``name``; each argument is a world attribute ("eng_a" -> its pk) or a literal."""

    def path(w) -> str:
        values = [getattr(w, a).pk if isinstance(a, str) and hasattr(w, a) else a for a in args]
        return reverse(name, args=values) + (f"?{query}" if query else "")

    return path


def fixed(data: dict) -> Callable:
    return lambda w: data


# --- the matrix ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    route: str  # the route's name (or, unnamed, its pattern), as ``all_routes`` gives it
    method: str
    expect: tuple  # one value per role, in the order of ROLES
    path: Callable  # world -> path
    data: Callable | None = None  # world -> request body
    variant: str = ""  # which object or flavour, when a route has several rows for one method
    # Who changes data when allowed: None = every allowed role (for writes); a set of roles; or frozenset() = nobody.
    mutates: frozenset | None = None
    htmx: bool = False  # sent as htmx (HX-Request: true)

    def __post_init__(self):
        assert len(self.expect) == len(ROLES), f"{self.id}: one expected value per role"

    @property
    def id(self) -> str:
        return f"{self.route}{f'[{self.variant}]' if self.variant else ''}-{self.method}"

    @property
    def api(self) -> bool:
        return self.route.startswith(("api:", "api/"))

    def changes_data(self, role) -> bool:
        if self.method == "GET":
            return False
        return True if self.mutates is None else role in self.mutates


NOBODY = frozenset()
ALL_200 = (200,) * 7
ALL_404 = (404,) * 7

# Shapes that repeat (written out in full in the rows below wherever they differ).
# fmt: off
#                  anon      norole    viewer    own       other     staff     admin
API_READ =        (401,      403,      200,      200,      200,      200,      200)
API_NO_DELETE =   (401,      403,      405,      405,      405,      405,      405)
PAGE_READ =       (LOGIN,    403,      200,      200,      200,      200,      200)
STAFF_PAGE =      (LOGIN,    403,      403,      403,      403,      200,      200)
SIGNED_IN =       (LOGIN,    200,      200,      200,      200,      200,      200)
# fmt: on

# fmt: off
CASES = [
    # ---- portal pages ------------------------------------------------------------------------------
    #                                                anon      norole    viewer    own       other     staff     admin
    Case("home", "GET",                             PAGE_READ,
         u("home")),
    Case("healthz", "GET",                          ALL_200,
         u("healthz")),
    Case("login", "GET",                            (200,      REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
         u("login")),
    Case("logout", "POST",                          (REDIRECT,) * 7,
         u("logout"), mutates=NOBODY),
    # Single sign-on is off unless configured (tests/core/test_single_sign_on.py covers it on): 404 for everyone.
    Case("oidc_authentication_init", "GET",         (404,) * 7,
         u("oidc_authentication_init")),
    Case("oidc_authentication_callback", "GET",     (404,) * 7,
         u("oidc_authentication_callback")),
    Case("set_language", "POST",                    (REDIRECT,) * 7,
         u("set_language"), fixed({"language": "fr", "next": "/"}), mutates=NOBODY),
    Case("country-detail", "GET",                   PAGE_READ,
         u("country-detail", "gb")),
    Case("country-detail", "GET",                   (LOGIN,    403,      404,      404,      404,      404,      404),
         u("country-detail", "zz"), variant="unknown-code"),
    # The country briefing, as a page, a PDF and a Word document: whoever reads the country page.
    Case("country-briefing", "GET",                 PAGE_READ,
         u("country-briefing", "gb")),
    Case("country-briefing", "GET",                 (LOGIN,    403,      404,      404,      404,      404,      404),
         u("country-briefing", "zz"), variant="unknown-code"),
    Case("country-briefing-pdf", "GET",             PAGE_READ,
         u("country-briefing-pdf", "gb")),
    Case("country-briefing-word", "GET",            PAGE_READ,
         u("country-briefing-word", "gb")),
    # Briefing packs: every reader asks for their own; a pack (and its PDF) is its requester's alone.
    Case("briefing-packs", "GET",                   PAGE_READ,
         u("briefing-packs")),
    Case("briefing-packs", "POST",                  (LOGIN,    403,      REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
         u("briefing-packs"), lambda w: {"countries": [w.a.pk]}),
    Case("briefing-pack", "GET",                    (LOGIN,    403,      404,      200,      404,      404,      404),
         u("briefing-pack", "pack_a")),
    Case("briefing-pack-pdf", "GET",                (LOGIN,    403,      404,      200,      404,      404,      404),
         u("briefing-pack-pdf", "pack_ready_a")),
    Case("briefing-pack-pdf", "GET",                (LOGIN,    403,      404,      404,      404,      404,      404),
         u("briefing-pack-pdf", "pack_a"), variant="not-ready"),
    Case("briefing-pack-retry", "POST",             (LOGIN,    403,      404,      REDIRECT, 404,      404,      404),
         u("briefing-pack-retry", "pack_failed_a")),
    # Country groupings: programme staff manage them.
    Case("groupings", "GET",                        STAFF_PAGE,
         u("groupings")),
    Case("grouping-new", "GET",                     STAFF_PAGE,
         u("grouping-new")),
    Case("grouping-new", "POST",                    (LOGIN,    403,      403,      403,      403,      REDIRECT, REDIRECT),
         u("grouping-new"), lambda w: {"name": "matrix new grouping", "countries": [w.a.pk]}),
    Case("grouping-edit", "GET",                    STAFF_PAGE,
         u("grouping-edit", "grouping")),
    Case("grouping-edit", "POST",                   (LOGIN,    403,      403,      403,      403,      REDIRECT, REDIRECT),
         u("grouping-edit", "grouping"), lambda w: {"name": "matrix grouping renamed", "countries": [w.b.pk]}),
    Case("grouping-delete", "POST",                 (LOGIN,    403,      403,      403,      403,      REDIRECT, REDIRECT),
         u("grouping-delete", "grouping")),
    # "Download engagements" under the timeline: the engagements the reader may see (their rows: VISIBLE below).
    Case("country-detail", "GET",                   PAGE_READ,
         u("country-detail", "gb", query="export=csv"), variant="engagements-csv"),
    Case("country-detail", "GET",                   PAGE_READ,
         u("country-detail", "gb", query="export=xlsx"), variant="engagements-xlsx"),
    Case("country-track-change", "GET",             (LOGIN,    405,      405,      405,      405,      405,      405),
         u("country-track-change", "gb", "workforce")),
    Case("country-track-change", "POST",            (LOGIN,    403,      403,      REDIRECT, 403,      REDIRECT, REDIRECT),
         u("country-track-change", "gb", "workforce"),
         fixed({"track-workforce-action": "move", "track-workforce-to_stage": "negotiating"})),
    Case("country-next-step", "POST",               (LOGIN,    403,      403,      REDIRECT, 403,      REDIRECT, REDIRECT),
         u("country-next-step", "gb", "workforce"),
         lambda w: {"next-workforce-next_step": "Call the permanent secretary", "next-workforce-next_step_due": days(6)}),
    Case("engagement-new", "GET",                   (LOGIN,    403,      403,      200,      403,      200,      200),
         u("engagement-new", "gb")),
    Case("engagement-new", "POST",                  (LOGIN,    403,      403,      REDIRECT, 403,      REDIRECT, REDIRECT),
         u("engagement-new", "gb"),
         lambda w: {"occurred_on": days(-1), "kind": "meeting", "summary": "Matrix meeting", "fu-TOTAL_FORMS": "1",
                    "fu-INITIAL_FORMS": "0", "fu-MIN_NUM_FORMS": "0", "fu-MAX_NUM_FORMS": "20", "fu-0-description": "",
                    "fu-0-owner": "", "fu-0-due_on": ""}),
    Case("engagement-detail", "GET",                PAGE_READ,
         u("engagement-detail", "eng_a")),
    Case("engagement-detail", "GET",                (LOGIN,    403,      404,      200,      404,      200,      200),
         u("engagement-detail", "conf_a"), variant="confidential"),
    Case("engagement-edit", "GET",                  (LOGIN,    403,      403,      200,      403,      200,      200),
         u("engagement-edit", "eng_a")),
    Case("engagement-edit", "GET",                  (LOGIN,    403,      404,      200,      404,      200,      200),
         u("engagement-edit", "conf_a"), variant="confidential"),
    Case("engagement-edit", "POST",                 (LOGIN,    403,      403,      REDIRECT, 403,      REDIRECT, REDIRECT),
         u("engagement-edit", "eng_a"),
         lambda w: {"occurred_on": days(-2), "kind": "call", "summary": "Corrected in the matrix"}),
    Case("engagement-edit", "POST",                 (LOGIN,    403,      404,      REDIRECT, 404,      REDIRECT, REDIRECT),
         u("engagement-edit", "conf_a"),
         lambda w: {"occurred_on": days(-2), "kind": "call", "summary": "Still confidential", "confidential": "on"},
         variant="confidential"),
    Case("engagement-void", "POST",                 (LOGIN,    403,      403,      REDIRECT, 403,      REDIRECT, REDIRECT),
         u("engagement-void", "eng_a"), fixed({"reason": "Logged twice"})),
    Case("engagement-void", "POST",                 (LOGIN,    403,      404,      REDIRECT, 404,      REDIRECT, REDIRECT),
         u("engagement-void", "conf_a"), fixed({"reason": "Logged twice"}), variant="confidential"),
    # Restoring one that is not voided: refused (403 to all but staff; staff are told so, and nothing changes).
    Case("engagement-restore", "POST",              (LOGIN,    403,      403,      403,      403,      REDIRECT, REDIRECT),
         u("engagement-restore", "eng_a"), mutates=frozenset()),
    Case("engagement-counterpart-add", "POST",      (LOGIN,    403,      403,      200,      403,      200,      200),
         u("engagement-counterpart-add", "gb"), fixed({"new_counterpart_name": "Quick Added"})),
    Case("engagement-counterpart-add", "POST",      (401,      403,      403,      200,      403,      200,      200),
         u("engagement-counterpart-add", "gb"), fixed({"new_counterpart_name": "Quick Added"}), variant="htmx", htmx=True),
    Case("engagement-follow-up-row", "GET",         (LOGIN,    403,      403,      200,      403,      200,      200),
         u("engagement-follow-up-row", "gb", query="fu-TOTAL_FORMS=1")),
    Case("counterparts", "GET",                     PAGE_READ,
         u("counterparts", "gb")),
    Case("counterpart-new", "GET",                  (LOGIN,    403,      403,      200,      403,      200,      200),
         u("counterpart-new", "gb")),
    Case("counterpart-new", "POST",                 (LOGIN,    403,      403,      REDIRECT, 403,      REDIRECT, REDIRECT),
         u("counterpart-new", "gb"), fixed({"name": "New Person", "title": "Adviser"})),
    # Merging one into itself: refused, so nothing changes whoever asks (the merges themselves: tests/countries).
    Case("counterpart-merge", "POST",               (LOGIN,    403,      403,      403,      403,      REDIRECT, REDIRECT),
         u("counterpart-merge", "gb"), lambda w: {"keep": str(w.cp_a.pk), "duplicate": str(w.cp_a.pk)},
         mutates=frozenset()),
    Case("counterpart-edit", "GET",                 (LOGIN,    403,      403,      200,      403,      200,      200),
         u("counterpart-edit", "gb", "cp_a")),
    Case("counterpart-edit", "POST",                (LOGIN,    403,      403,      REDIRECT, 403,      REDIRECT, REDIRECT),
         u("counterpart-edit", "gb", "cp_a"), fixed({"name": "Renamed Minister", "title": "Minister for AI"})),
    # IDOR: B's counterpart under A's address: A's liaison (and staff) get 404, B's liaison 403 (not their country).
    Case("counterpart-edit", "GET",                 (LOGIN,    403,      403,      404,      403,      404,      404),
         u("counterpart-edit", "gb", "cp_b"), variant="b-counterpart-at-a-address"),
    Case("counterpart-edit", "POST",                (LOGIN,    403,      403,      404,      403,      404,      404),
         u("counterpart-edit", "gb", "cp_b"), fixed({"name": "Hijacked"}), variant="b-counterpart-at-a-address"),
    Case("counterpart-leave", "POST",               (LOGIN,    403,      403,      REDIRECT, 403,      REDIRECT, REDIRECT),
         u("counterpart-leave", "gb", "cp_a"), lambda w: {"left_on": days(0)}),
    Case("counterpart-leave", "POST",               (LOGIN,    403,      403,      404,      403,      404,      404),
         u("counterpart-leave", "gb", "cp_b"), lambda w: {"left_on": days(0)}, variant="b-counterpart-at-a-address"),
    # Personal data: the subject access export and erasure are for programme staff only.
    Case("counterpart-personal-data", "GET",        STAFF_PAGE,
         u("counterpart-personal-data", "gb", "cp_a")),
    Case("counterpart-personal-data", "GET",        STAFF_PAGE,
         u("counterpart-personal-data", "gb", "cp_a", query="export=json"), variant="json"),
    Case("counterpart-personal-data", "GET",        STAFF_PAGE,
         u("counterpart-personal-data", "gb", "cp_a", query="export=csv"), variant="csv"),
    Case("counterpart-personal-data", "GET",        (LOGIN,    403,      403,      403,      403,      400,      400),
         u("counterpart-personal-data", "gb", "cp_a", query="export=pdf"), variant="unknown-format"),
    Case("counterpart-personal-data", "GET",        (LOGIN,    403,      403,      403,      403,      404,      404),
         u("counterpart-personal-data", "gb", "cp_b"), variant="b-counterpart-at-a-address"),
    Case("counterpart-erase", "GET",                STAFF_PAGE,
         u("counterpart-erase", "gb", "cp_a")),
    Case("counterpart-erase", "POST",               (LOGIN,    403,      403,      403,      403,      REDIRECT, REDIRECT),
         u("counterpart-erase", "gb", "cp_a"), fixed({"reason": "Request under the GDPR"})),
    Case("counterpart-erase", "POST",               (LOGIN,    403,      403,      403,      403,      400,      400),
         u("counterpart-erase", "gb", "cp_a"), fixed({"reason": ""}), variant="no-reason", mutates=NOBODY),
    Case("counterpart-erase", "POST",               (LOGIN,    403,      403,      403,      403,      404,      404),
         u("counterpart-erase", "gb", "cp_b"), fixed({"reason": "Hijack"}), variant="b-counterpart-at-a-address"),
    Case("follow-ups", "GET",                       PAGE_READ,
         u("follow-ups", query="show=all")),
    Case("follow-up-done", "POST",                  (LOGIN,    404,      403,      REDIRECT, 403,      REDIRECT, REDIRECT),
         u("follow-up-done", "fu_a")),
    Case("follow-up-done", "POST",                  (LOGIN,    404,      404,      REDIRECT, 404,      REDIRECT, REDIRECT),
         u("follow-up-done", "fu_conf_a"), variant="confidential"),
    Case("follow-up-done", "POST",                  (401,      404,      403,      200,      403,      200,      200),
         u("follow-up-done", "fu_a"), variant="htmx", htmx=True),
    Case("follow-up-reopen", "POST",                (LOGIN,    404,      403,      REDIRECT, 403,      REDIRECT, REDIRECT),
         u("follow-up-reopen", "fu_done_a")),
    Case("follow-up-reopen", "POST",                (401,      404,      403,      200,      403,      200,      200),
         u("follow-up-reopen", "fu_done_a"), variant="htmx", htmx=True),
    Case("follow-up-edit", "GET",                   (LOGIN,    403,      403,      200,      403,      200,      200),
         u("follow-up-edit", "fu_a")),
    Case("follow-up-edit", "GET",                   (LOGIN,    403,      404,      200,      404,      200,      200),
         u("follow-up-edit", "fu_conf_a"), variant="confidential"),
    Case("follow-up-edit", "POST",                  (LOGIN,    403,      403,      REDIRECT, 403,      REDIRECT, REDIRECT),
         u("follow-up-edit", "fu_a"), lambda w: {"description": "Room A, rebooked", "due_on": days(9)}),
    Case("follow-up-new", "GET",                    (LOGIN,    403,      403,      200,      403,      200,      200),
         u("follow-up-new", "gb")),
    Case("follow-up-new", "POST",                   (LOGIN,    403,      403,      REDIRECT, 403,      REDIRECT, REDIRECT),
         u("follow-up-new", "gb"), lambda w: {"description": "Book the room", "due_on": days(4)}),
    Case("follow-up-bulk", "POST",                  (LOGIN,    403,      403,      REDIRECT, 403,      REDIRECT, REDIRECT),
         u("follow-up-bulk"), lambda w: {"action": "complete", "ids": [w.fu_a.pk], f"version-{w.fu_a.pk}": w.fu_a.version}),
    Case("follow-up-bulk", "POST",                  (LOGIN,    403,      403,      REDIRECT, 403,      REDIRECT, REDIRECT),
         u("follow-up-bulk"),
         lambda w: {"action": "reassign", "owner": "nobody", "ids": [w.fu_a.pk], f"version-{w.fu_a.pk}": w.fu_a.version},
         variant="reassign"),
    Case("follow-up-bulk", "POST",                  (LOGIN,    403,      403,      REDIRECT, 400,      REDIRECT, REDIRECT),
         u("follow-up-bulk"),
         lambda w: {"action": "complete", "ids": [w.fu_conf_a.pk], f"version-{w.fu_conf_a.pk}": w.fu_conf_a.version},
         variant="confidential"),
    Case("follow-up-new-for", "GET",                (LOGIN,    REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
         u("follow-up-new-for", query="country=gb")),
    Case("search", "GET",                           PAGE_READ,
         u("search", query=f"q={SEARCH_WORD}")),
    Case("dashboard", "GET",                        PAGE_READ,
         u("dashboard")),
    Case("dashboard", "GET",                        PAGE_READ,
         u("dashboard", query="export=csv"), variant="csv"),
    Case("dashboard-funnels", "GET",                PAGE_READ,
         u("dashboard-funnels")),
    Case("dashboard-attention", "GET",              PAGE_READ,
         u("dashboard-attention")),
    Case("dashboard-infrastructure", "GET",         PAGE_READ,
         u("dashboard-infrastructure")),
    Case("dashboard-map", "GET",                    PAGE_READ,
         u("dashboard-map")),
    Case("dashboard-history", "GET",                PAGE_READ,
         u("dashboard-history")),
    # The audit log (who changed what, values before and after): programme staff only.
    Case("audit-log", "GET",                        STAFF_PAGE,
         u("audit-log")),
    Case("audit-log", "GET",                        STAFF_PAGE,
         u("audit-log", query="export=csv"), variant="csv"),
    Case("api-tokens", "GET",                       (LOGIN,    200,      200,      200,      200,      200,      200),
         u("api-tokens")),
    Case("api-tokens", "POST",                      (LOGIN,    200,      200,      200,      200,      200,      200),
         u("api-tokens"), fixed({"name": "matrix new", "days": "30"})),
    # A token is revoked only by its owner on this page (the service would let a superuser; the view does not).
    Case("api-token-revoke", "POST",                (LOGIN,    404,      404,      REDIRECT, 404,      404,      404),
         lambda w: reverse("api-token-revoke", args=[w.spare_token.token_key])),
    # Calendar feeds: each user's own page; the feed's address is its credential (no session), whoever fetches it.
    Case("calendar-feeds", "GET",                   (LOGIN,    200,      200,      200,      200,      200,      200),
         u("calendar-feeds")),
    Case("calendar-feeds", "POST",                  (LOGIN,    200,      200,      200,      200,      200,      200),
         u("calendar-feeds"), fixed({"name": "matrix new feed", "scope": "mine"})),
    Case("calendar-feed-revoke", "POST",            (LOGIN,    404,      404,      REDIRECT, 404,      404,      404),
         u("calendar-feed-revoke", "feed_a")),
    # Imports: staff and liaisons; an upload is seen by its uploader and staff only (others get 404). Applying an
    # import whose dry run has not run is refused: nothing is written.
    Case("imports", "GET",                          (LOGIN,    403,      403,      200,      200,      200,      200),
         u("imports")),
    Case("import-template", "GET",                  (LOGIN,    403,      403,      200,      200,      200,      200),
         u("import-template", "engagements", "xlsx")),
    Case("import-detail", "GET",                    (LOGIN,    404,      404,      200,      404,      200,      200),
         u("import-detail", "import_a")),
    Case("import-progress", "GET",                  (LOGIN,    404,      404,      200,      404,      200,      200),
         u("import-progress", "import_a")),
    Case("import-failed-rows", "GET",               (LOGIN,    404,      404,      200,      404,      200,      200),
         u("import-failed-rows", "import_a")),
    Case("import-apply", "POST",                    (LOGIN,    404,      404,      REDIRECT, 404,      REDIRECT, REDIRECT),
         u("import-apply", "import_a"), mutates=NOBODY),
    Case("calendar-feed", "GET",                    ALL_200,
         lambda w: reverse("calendar-feed", args=[w.feed_a_secret])),
    Case("calendar-feed", "GET",                    ALL_404,
         lambda w: reverse("calendar-feed", args=[w.revoked_feed_secret]), variant="revoked"),
    Case("calendar-feed", "GET",                    ALL_404,
         lambda w: reverse("calendar-feed", args=["not-a-feed-" + "x" * 32]), variant="unknown"),
    # Second factors (core/mfa/): each signed-in user's own; nobody's factors are reachable by another. The world's
    # users have none, so recovery codes lead back to the page, and a code is wrong (it writes no portal row: the
    # devices and the lockout's attempts live in django-otp's and axes' tables).
    Case("second-factors", "GET",                   SIGNED_IN,
         u("second-factors")),
    Case("second-factor-totp", "GET",               SIGNED_IN,
         u("second-factor-totp")),
    Case("second-factor-totp", "POST",              SIGNED_IN,
         u("second-factor-totp"), fixed({"code": "12345"}), mutates=frozenset()),
    Case("second-factor-key", "GET",                SIGNED_IN,
         u("second-factor-key")),
    Case("second-factor-recovery-codes", "POST",    (LOGIN,) + (REDIRECT,) * 6,
         u("second-factor-recovery-codes"), mutates=frozenset()),
    Case("second-factor-verify", "GET",             SIGNED_IN,
         u("second-factor-verify")),
    Case("second-factor-verify", "POST",            SIGNED_IN,
         u("second-factor-verify"), fixed({"code": "12345"}), mutates=frozenset()),
    Case("second-factor-remove", "POST",            (LOGIN,) + (404,) * 6,
         u("second-factor-remove", "app", 999999)),
    # The security keys' JSON endpoints (django-otp-webauthn): never for a signed-out visitor (no sign-in by key
    # alone); a ceremony not begun is refused (400). tests/e2e/test_second_factors.py runs whole ceremonies.
    Case("otp_webauthn:credential-registration-begin", "POST", (403,) + (200,) * 6,
         u("otp_webauthn:credential-registration-begin"), mutates=frozenset()),
    Case("otp_webauthn:credential-registration-complete", "POST", (403,) + (400,) * 6,
         u("otp_webauthn:credential-registration-complete")),
    Case("otp_webauthn:credential-authentication-begin", "POST", (403,) + (200,) * 6,
         u("otp_webauthn:credential-authentication-begin"), mutates=frozenset()),
    Case("otp_webauthn:credential-authentication-complete", "POST", (403,) + (400,) * 6,
         u("otp_webauthn:credential-authentication-complete")),
    Case("otp_webauthn:js-i18n-catalog", "GET",     ALL_200,
         u("otp_webauthn:js-i18n-catalog")),
    Case("follow-up-calendar", "GET",               (LOGIN,    404,      200,      200,      200,      200,      200),
         u("follow-up-calendar", "fu_a")),
    Case("follow-up-calendar", "GET",               (LOGIN,    404,      404,      200,      404,      200,      200),
         u("follow-up-calendar", "fu_conf_a"), variant="confidential"),
    Case("engagement-calendar", "GET",              (LOGIN,    404,      200,      200,      200,      200,      200),
         u("engagement-calendar", "eng_a")),
    Case("engagement-calendar", "GET",              (LOGIN,    404,      404,      200,      404,      200,      200),
         u("engagement-calendar", "conf_a"), variant="confidential"),
    # The users of the portal: programme staff (an administrator's account is changed by administrators only).
    Case("users", "GET",                            STAFF_PAGE,
         u("users")),
    Case("users", "GET",                            STAFF_PAGE,
         u("users", query="who=pm&role=liaison&country=gb&status=active&ordering=-last_login"), variant="filtered"),
    Case("users", "GET",                            STAFF_PAGE,
         u("users", query="role=nonsense&country=zz&page=99"), variant="bad-filters"),
    Case("user-invite", "GET",                      STAFF_PAGE,
         u("user-invite")),
    Case("user-invite", "POST",                     (LOGIN,    403,      403,      403,      403,      REDIRECT, REDIRECT),
         u("user-invite"), lambda w: {"email": "matrix.invite@example.gov", "first_name": "Matrix", "role": "liaison",
                                      "countries": [w.a.pk]}),
    Case("user-invite", "POST",                     (LOGIN,    403,      403,      403,      403,      400,      400),
         u("user-invite"), fixed({"email": "not-an-address", "role": "viewer"}), variant="invalid", mutates=NOBODY),
    Case("user-detail", "GET",                      STAFF_PAGE,
         u("user-detail", "managed")),
    Case("user-detail", "GET",                      STAFF_PAGE,
         lambda w: reverse("user-detail", args=[w.users["admin"].pk]), variant="administrator"),
    Case("user-detail", "GET",                      STAFF_PAGE,
         u("user-detail", "invited"), variant="invited"),
    Case("user-detail", "GET",                      (LOGIN,    403,      403,      403,      403,      404,      404),
         u("user-detail", 999999), variant="unknown"),
    Case("user-access", "POST",                     (LOGIN,    403,      403,      403,      403,      REDIRECT, REDIRECT),
         u("user-access", "managed"), lambda w: {"access-role": "liaison", "access-countries": [w.a.pk]}),
    # The administrator's own role: staff may not touch it, the administrator may not change their own (400).
    Case("user-access", "POST",                     (LOGIN,    403,      403,      403,      403,      403,      400),
         lambda w: reverse("user-access", args=[w.users["admin"].pk]), fixed({"access-role": "viewer"}),
         variant="administrator", mutates=NOBODY),
    Case("user-deactivate", "POST",                 (LOGIN,    403,      403,      403,      403,      REDIRECT, REDIRECT),
         u("user-deactivate", "managed")),
    # Staff asking to deactivate themselves are told no (and nothing changes); the administrator may.
    Case("user-deactivate", "POST",                 (LOGIN,    403,      403,      403,      403,      REDIRECT, REDIRECT),
         lambda w: reverse("user-deactivate", args=[w.users["staff"].pk]), variant="staff-member",
         mutates=frozenset({"admin"})),
    Case("user-reactivate", "POST",                 (LOGIN,    403,      403,      403,      403,      REDIRECT, REDIRECT),
         u("user-reactivate", "former")),
    Case("user-invitation-resend", "POST",          (LOGIN,    403,      403,      403,      403,      REDIRECT, REDIRECT),
         u("user-invitation-resend", "invited")),
    # The invitation's link is its credential, whoever follows it (accepting signs in as the invited person).
    Case("invitation-accept", "GET",                ALL_200,
         lambda w: reverse("invitation-accept", args=[w.invite_token])),
    Case("invitation-accept", "POST",               (REDIRECT,) * 7,
         lambda w: reverse("invitation-accept", args=[w.invite_token]),
         fixed({"new_password1": "matrix passphrase 42", "new_password2": "matrix passphrase 42"})),
    Case("invitation-accept", "GET",                ALL_404,
         u("invitation-accept", "not-an-invitation"), variant="unknown"),
    # Each signed-in user's own account page.
    Case("account", "GET",                          (LOGIN,    200,      200,      200,      200,      200,      200),
         u("account")),
    Case("account-sign-out-others", "POST",         (LOGIN,) + (REDIRECT,) * 6,
         u("account-sign-out-others"), mutates=NOBODY),
    Case("notifications:inbox", "GET",              (LOGIN,    200,      200,      200,      200,      200,      200),
         u("notifications:inbox")),
    # Marking someone else's notification read answers like any other, and changes nothing (no IDOR).
    Case("notifications:mark-read", "POST",         (LOGIN,) + (REDIRECT,) * 6,
         u("notifications:mark-read", "note_a"), mutates=frozenset({"liaison_own"})),
    Case("notifications:mark-all-read", "POST",     (LOGIN,) + (REDIRECT,) * 6,
         u("notifications:mark-all-read"), mutates=frozenset({"liaison_own"})),
    Case("notifications:preferences", "GET",        (LOGIN,    200,      200,      200,      200,      200,      200),
         u("notifications:preferences")),
    Case("notifications:preferences", "POST",       (LOGIN,) + (REDIRECT,) * 6,
         u("notifications:preferences"), fixed({"email_frequency": "never", "language": "en"})),
    # One-click unsubscribe: the signed link is the credential, whoever follows it.
    Case("notifications:unsubscribe", "GET",        ALL_200,
         lambda w: reverse("notifications:unsubscribe", args=[unsubscribe_token(w.users["liaison_own"])])),
    Case("notifications:unsubscribe", "POST",       ALL_200,
         lambda w: reverse("notifications:unsubscribe", args=[unsubscribe_token(w.users["liaison_own"])])),
    Case("notifications:unsubscribe", "GET",        (400,) * 7,
         u("notifications:unsubscribe", "not-a-signed-token"), variant="bad-token"),

    # ---- public announcements (no sign-in): published, public, past any embargo -----------------------
    #                                                anon      norole    viewer    own       other     staff     admin
    Case("public-announcements", "GET",             ALL_200,
         u("public-announcements")),
    Case("public-announcement", "GET",              ALL_200,
         u("public-announcement", "published_a"), variant="published"),
    Case("public-announcement", "GET",              ALL_404,
         u("public-announcement", "draft_a"), variant="draft"),
    Case("public-announcement", "GET",              ALL_404,
         u("public-announcement", "embargoed_a"), variant="embargoed"),
    Case("public-announcement", "GET",              ALL_404,
         u("public-announcement", "private_a"), variant="not-public"),
    Case("public-announcement", "GET",              ALL_404,
         u("public-announcement", "withdrawn_a"), variant="withdrawn"),
    Case("announcement-feed", "GET",                ALL_200,
         u("announcement-feed")),
    Case("announcement-feed-country", "GET",        ALL_200,
         u("announcement-feed-country", "gb")),
    Case("announcement-feed-track", "GET",          ALL_200,
         u("announcement-feed-track", "workforce")),

    # ---- managing announcements: staff; a liaison drafts for their countries ---------------------------
    #                                                anon      norole    viewer    own       other     staff     admin
    Case("announcements-manage", "GET",             (LOGIN,    403,      403,      200,      200,      200,      200),
         u("announcements-manage")),
    Case("announcements-manage", "GET",             (401,      403,      403,      200,      200,      200,      200),
         u("announcements-manage"), variant="htmx", htmx=True),
    Case("announcement-new", "GET",                 (LOGIN,    403,      403,      200,      200,      200,      200),
         u("announcement-new")),
    # B's liaison may not pick A in the form (A is not among their choices): 400, nothing saved.
    Case("announcement-new", "POST",                (LOGIN,    403,      403,      REDIRECT, 400,      REDIRECT, REDIRECT),
         u("announcement-new"), lambda w: {"title": "Matrix news", "countries": [w.a.pk], "is_public": "on"}),
    Case("announcement-edit", "GET",                (LOGIN,    403,      403,      200,      404,      200,      200),
         u("announcement-edit", "draft_a"), variant="draft"),
    Case("announcement-edit", "GET",                (LOGIN,    403,      403,      404,      404,      200,      200),
         u("announcement-edit", "embargoed_a"), variant="embargoed"),
    # A published announcement is readable by every liaison, so its edit page opens (read-only for them).
    Case("announcement-edit", "GET",                (LOGIN,    403,      403,      200,      200,      200,      200),
         u("announcement-edit", "published_a"), variant="published"),
    Case("announcement-edit", "POST",               (LOGIN,    403,      403,      REDIRECT, 404,      REDIRECT, REDIRECT),
         u("announcement-edit", "draft_a"), lambda w: {"title": "Edited draft", "countries": [w.a.pk]}, variant="draft"),
    Case("announcement-edit", "POST",               (LOGIN,    403,      403,      404,      404,      REDIRECT, REDIRECT),
         u("announcement-edit", "embargoed_a"), lambda w: {"title": "Edited", "countries": [w.a.pk]}, variant="embargoed"),
    Case("announcement-edit", "POST",               (LOGIN,    403,      403,      403,      400,      REDIRECT, REDIRECT),
         u("announcement-edit", "published_a"), lambda w: {"title": "Edited news", "countries": [w.a.pk]},
         variant="published"),
    Case("announcement-schedule", "POST",           (LOGIN,    403,      403,      403,      404,      REDIRECT, REDIRECT),
         u("announcement-schedule", "draft_a"), fixed({"embargo_until": "2099-01-01T09:00"}), variant="draft"),
    Case("announcement-publish", "POST",            (LOGIN,    403,      403,      403,      404,      REDIRECT, REDIRECT),
         u("announcement-publish", "draft_a"), variant="draft"),
    # Under embargo: nobody publishes it early; staff are sent back to the edit page with the reason.
    Case("announcement-publish", "POST",            (LOGIN,    403,      403,      404,      404,      REDIRECT, REDIRECT),
         u("announcement-publish", "embargoed_a"), variant="embargoed", mutates=NOBODY),
    Case("announcement-withdraw", "POST",           (LOGIN,    403,      403,      403,      403,      REDIRECT, REDIRECT),
         u("announcement-withdraw", "published_a"), fixed({"reason": "Wrong figures"}), variant="published"),

    # ---- the administration: Django's, for is_staff users with model permissions -----------------------
    #                                                anon      norole    viewer    own       other     staff     admin
    Case("admin:index", "GET",                      (ADMIN_LOGIN,) * 5 + (200, 200),
         u("admin:index")),
    Case("admin:login", "GET",                      (200,      200,      200,      200,      200,      REDIRECT, REDIRECT),
         u("admin:login")),
    Case("admin:engagements_engagement_changelist", "GET", (ADMIN_LOGIN,) * 5 + (200, 200),
         u("admin:engagements_engagement_changelist")),

    # ---- REST API ------------------------------------------------------------------------------------------
    #                                                anon      norole    viewer    own       other     staff     admin
    Case("api/v1/^.*$", "GET",                      ALL_404,
         fixed("/api/v1/no-such-thing/")),
    Case("api/v1/^.*$", "POST",                     ALL_404,
         fixed("/api/v1/no-such-thing/"), fixed({})),
    Case("api/v1/^.*$", "PUT",                      ALL_404,
         fixed("/api/v1/no-such-thing/"), fixed({})),
    Case("api/v1/^.*$", "PATCH",                    ALL_404,
         fixed("/api/v1/no-such-thing/"), fixed({})),
    Case("api/v1/^.*$", "DELETE",                   ALL_404,
         fixed("/api/v1/no-such-thing/")),
    Case("api:api-root", "GET",                     API_READ,
         u("api:api-root")),
    Case("api:status", "GET",                       API_READ,
         u("api:status")),
    Case("api:country-status", "GET",               API_READ,
         u("api:country-status", "gb")),
    Case("api:me", "GET",                           API_READ,
         u("api:me")),
    # The API docs (Swagger UI, ReDoc) are open to anyone (drf-spectacular's default SERVE_PERMISSIONS).
    Case("api:docs", "GET",                         ALL_200,
         u("api:docs")),
    Case("api:redoc", "GET",                        ALL_200,
         u("api:redoc")),
    # The OpenAPI document: the committed file, open to anyone (it holds no data), as drf-spectacular's view was.
    Case("api:schema", "GET",                       ALL_200,
         u("api:schema")),
    # ReDoc's script, served without the logo it would fetch from a CDN: a static file, open to anyone.
    Case("api:redoc-script", "GET",                 ALL_200,
         u("api:redoc-script")),
    Case("api:country-list", "GET",                 API_READ,
         u("api:country-list")),
    Case("api:country-detail", "GET",               API_READ,
         u("api:country-detail", "gb")),
    Case("api:country-detail", "DELETE",            API_NO_DELETE,
         u("api:country-detail", "gb")),
    Case("api:partnership-list", "GET",             API_READ,
         u("api:partnership-list")),
    Case("api:partnership-list", "POST",            (401,      403,      403,      403,      403,      201,      201),
         u("api:partnership-list"), fixed({"country": "de"})),
    Case("api:partnership-detail", "GET",           API_READ,
         u("api:partnership-detail", "gb")),
    Case("api:partnership-detail", "PATCH",         (401,      403,      403,      200,      403,      200,      200),
         u("api:partnership-detail", "gb"), fixed({"notes": "Matrix"})),
    # Naming the lead liaison is for staff, even for the country's own liaison.
    Case("api:partnership-detail", "PATCH",         (401,      403,      403,      403,      403,      200,      200),
         u("api:partnership-detail", "gb"), fixed({"lead_liaison": "pm-liaison-a"}), variant="lead-liaison"),
    Case("api:partnership-detail", "DELETE",        API_NO_DELETE,
         u("api:partnership-detail", "gb")),
    Case("api:country-track-list", "GET",           API_READ,
         u("api:country-track-list")),
    Case("api:country-track-detail", "GET",         API_READ,
         u("api:country-track-detail", "a_workforce")),
    Case("api:country-track-detail", "PATCH",       (401,      403,      403,      200,      403,      200,      200),
         u("api:country-track-detail", "a_workforce"), fixed({"next_step": "Sign the MoU"})),
    Case("api:country-track-detail", "DELETE",      API_NO_DELETE,
         u("api:country-track-detail", "a_workforce")),
    Case("api:country-track-move", "POST",          (401,      403,      403,      200,      403,      200,      200),
         u("api:country-track-move", "a_workforce"), fixed({"to_stage": "negotiating"})),
    Case("api:country-track-pause", "POST",         (401,      403,      403,      200,      403,      200,      200),
         u("api:country-track-pause", "a_workforce"), lambda w: {"reason": "Elections", "resume_on": days(30)}),
    Case("api:country-track-resume", "POST",        (401,      403,      403,      200,      403,      200,      200),
         u("api:country-track-resume", "a_safety"), fixed({})),
    Case("api:country-track-withdraw", "POST",      (401,      403,      403,      200,      403,      200,      200),
         u("api:country-track-withdraw", "a_workforce"), fixed({"reason": "No budget"})),
    Case("api:stage-change-list", "GET",            API_READ,
         u("api:stage-change-list")),
    Case("api:stage-change-detail", "GET",          API_READ,
         u("api:stage-change-detail", "move_citing_conf_a")),
    Case("api:stage-change-detail", "DELETE",       API_NO_DELETE,
         u("api:stage-change-detail", "move_citing_conf_a")),
    Case("api:engagement-list", "GET",              API_READ,
         u("api:engagement-list")),
    Case("api:engagement-list", "POST",             (401,      403,      403,      201,      403,      201,      201),
         u("api:engagement-list"),
         lambda w: {"country": "gb", "occurred_on": days(-1), "kind": "call", "summary": "Matrix call"}),
    Case("api:engagement-detail", "GET",            API_READ,
         u("api:engagement-detail", "eng_a")),
    Case("api:engagement-detail", "GET",            (401,      403,      404,      200,      404,      200,      200),
         u("api:engagement-detail", "conf_a"), variant="confidential"),
    Case("api:engagement-detail", "PATCH",          (401,      403,      403,      200,      403,      200,      200),
         u("api:engagement-detail", "eng_a"), fixed({"summary": "Corrected"})),
    Case("api:engagement-void", "POST",             (401,      403,      403,      200,      403,      200,      200),
         u("api:engagement-void", "eng_a"), fixed({"reason": "Logged twice"})),
    Case("api:engagement-void", "POST",             (401,      403,      403,      200,      404,      200,      200),
         u("api:engagement-void", "conf_a"), fixed({"reason": "Logged twice"}), variant="confidential"),
    Case("api:engagement-restore", "POST",          (401,      403,      403,      403,      403,      400,      400),
         u("api:engagement-restore", "eng_a"), mutates=frozenset()),
    Case("api:engagement-detail", "PATCH",          (401,      403,      403,      200,      404,      200,      200),
         u("api:engagement-detail", "conf_a"), fixed({"summary": "Corrected"}), variant="confidential"),
    Case("api:engagement-detail", "DELETE",         API_NO_DELETE,
         u("api:engagement-detail", "eng_a")),
    Case("api:follow-up-list", "GET",               API_READ,
         u("api:follow-up-list")),
    Case("api:follow-up-list", "POST",              (401,      403,      403,      201,      403,      201,      201),
         u("api:follow-up-list"), lambda w: {"country": "gb", "description": "Matrix task", "due_on": days(5)}),
    Case("api:follow-up-detail", "GET",             API_READ,
         u("api:follow-up-detail", "fu_a")),
    Case("api:follow-up-detail", "GET",             (401,      403,      404,      200,      404,      200,      200),
         u("api:follow-up-detail", "fu_conf_a"), variant="confidential"),
    Case("api:follow-up-detail", "PATCH",           (401,      403,      403,      200,      403,      200,      200),
         u("api:follow-up-detail", "fu_a"), fixed({"description": "Reworded"})),
    Case("api:follow-up-detail", "PATCH",           (401,      403,      403,      200,      404,      200,      200),
         u("api:follow-up-detail", "fu_conf_a"), fixed({"description": "Reworded"}), variant="confidential"),
    Case("api:follow-up-detail", "DELETE",          API_NO_DELETE,
         u("api:follow-up-detail", "fu_a")),
    Case("api:follow-up-complete", "POST",          (401,      403,      403,      200,      403,      200,      200),
         u("api:follow-up-complete", "fu_a"), fixed({})),
    Case("api:follow-up-complete", "POST",          (401,      403,      403,      200,      404,      200,      200),
         u("api:follow-up-complete", "fu_conf_a"), fixed({}), variant="confidential"),
    Case("api:follow-up-reopen", "POST",            (401,      403,      403,      200,      403,      200,      200),
         u("api:follow-up-reopen", "fu_done_a"), fixed({})),
    Case("api:counterpart-list", "GET",             API_READ,
         u("api:counterpart-list")),
    Case("api:counterpart-list", "POST",            (401,      403,      403,      201,      403,      201,      201),
         u("api:counterpart-list"), fixed({"country": "gb", "name": "Matrix Person"})),
    Case("api:counterpart-detail", "GET",           API_READ,
         u("api:counterpart-detail", "cp_a")),
    Case("api:counterpart-detail", "PATCH",         (401,      403,      403,      200,      403,      200,      200),
         u("api:counterpart-detail", "cp_a"), fixed({"title": "Secretary of State"})),
    Case("api:counterpart-detail", "DELETE",        API_NO_DELETE,
         u("api:counterpart-detail", "cp_a")),
    Case("api:counterpart-leave-post", "POST",      (401,      403,      403,      200,      403,      200,      200),
         u("api:counterpart-leave-post", "cp_a"), fixed({})),
    Case("api:agreement-list", "GET",               API_READ,
         u("api:agreement-list")),
    Case("api:agreement-list", "POST",              (401,      403,      403,      201,      403,      201,      201),
         u("api:agreement-list"), lambda w: {"country": "gb", "kind": "loi", "title": "Matrix LoI", "signed_on": days(-1)}),
    Case("api:agreement-detail", "GET",             API_READ,
         u("api:agreement-detail", "ag_a")),
    Case("api:agreement-detail", "PATCH",           (401,      403,      403,      200,      403,      200,      200),
         u("api:agreement-detail", "ag_a"), fixed({"title": "MoU A (signed copy)"})),
    Case("api:agreement-detail", "DELETE",          API_NO_DELETE,
         u("api:agreement-detail", "ag_a")),
    Case("api:announcement-list", "GET",            API_READ,
         u("api:announcement-list")),
    Case("api:announcement-list", "POST",           (401,      403,      403,      201,      403,      201,      201),
         u("api:announcement-list"), fixed({"title": "Matrix news", "countries": ["gb"]})),
    Case("api:announcement-detail", "GET",          API_READ,
         u("api:announcement-detail", "published_a"), variant="published"),
    Case("api:announcement-detail", "GET",          API_READ,
         u("api:announcement-detail", "private_a"), variant="not-public"),
    Case("api:announcement-detail", "GET",          (401,      403,      404,      200,      404,      200,      200),
         u("api:announcement-detail", "draft_a"), variant="draft"),
    Case("api:announcement-detail", "GET",          (401,      403,      404,      404,      404,      200,      200),
         u("api:announcement-detail", "embargoed_a"), variant="embargoed"),
    Case("api:announcement-detail", "GET",          (401,      403,      404,      404,      404,      200,      200),
         u("api:announcement-detail", "withdrawn_a"), variant="withdrawn"),
    Case("api:announcement-detail", "PATCH",        (401,      403,      403,      200,      404,      200,      200),
         u("api:announcement-detail", "draft_a"), fixed({"title": "Edited draft"}), variant="draft"),
    Case("api:announcement-detail", "PATCH",        (401,      403,      403,      404,      404,      200,      200),
         u("api:announcement-detail", "embargoed_a"), fixed({"title": "Edited"}), variant="embargoed"),
    Case("api:announcement-detail", "PATCH",        (401,      403,      403,      403,      403,      200,      200),
         u("api:announcement-detail", "published_a"), fixed({"title": "Edited news"}), variant="published"),
    Case("api:announcement-detail", "DELETE",       API_NO_DELETE,
         u("api:announcement-detail", "published_a")),
    Case("api:announcement-schedule", "POST",       (401,      403,      403,      403,      404,      200,      200),
         u("api:announcement-schedule", "draft_a"), fixed({"embargo_until": "2099-01-01T09:00:00Z"}), variant="draft"),
    Case("api:announcement-publish", "POST",        (401,      403,      403,      403,      404,      200,      200),
         u("api:announcement-publish", "draft_a"), fixed({}), variant="draft"),
    Case("api:announcement-publish", "POST",        (401,      403,      403,      404,      404,      400,      400),
         u("api:announcement-publish", "embargoed_a"), fixed({}), variant="embargoed"),
    Case("api:announcement-withdraw", "POST",       (401,      403,      403,      403,      403,      200,      200),
         u("api:announcement-withdraw", "published_a"), fixed({"reason": "Wrong figures"}), variant="published"),
    Case("api:facility-list", "GET",                API_READ,
         u("api:facility-list")),
    Case("api:facility-list", "POST",               (401,      403,      403,      201,      403,      201,      201),
         u("api:facility-list"), fixed({"country": "gb", "name": "Matrix Supercomputer"})),
    Case("api:facility-detail", "GET",              API_READ,
         u("api:facility-detail", "fac_a")),
    Case("api:facility-detail", "PATCH",            (401,      403,      403,      200,      403,      200,      200),
         u("api:facility-detail", "fac_a"), fixed({"city": "Glasgow"})),
    Case("api:facility-detail", "DELETE",           API_NO_DELETE,
         u("api:facility-detail", "fac_a")),
    Case("api:facility-add-phase", "POST",          (401,      403,      403,      201,      403,      201,      201),
         u("api:facility-add-phase", "fac_a"), lambda w: {"online_on": days(400), "power_mw": "5"}),
    Case("api:facility-add-partner", "POST",        (401,      403,      403,      201,      403,      201,      201),
         u("api:facility-add-partner", "fac_a"), lambda w: {"organisation": w.org.pk, "role": "operator"}),
    Case("api:organisation-list", "GET",            API_READ,
         u("api:organisation-list")),
    Case("api:organisation-list", "POST",           (401,      403,      403,      403,      403,      201,      201),
         u("api:organisation-list"), fixed({"name": "Matrix Agency", "kind": "agency"})),
    Case("api:organisation-detail", "GET",          API_READ,
         u("api:organisation-detail", "org")),
    Case("api:organisation-detail", "DELETE",       API_NO_DELETE,
         u("api:organisation-detail", "org")),
    Case("api:track-list", "GET",                   API_READ,
         u("api:track-list")),
    Case("api:track-detail", "GET",                 API_READ,
         u("api:track-detail", "workforce")),
    Case("api:track-detail", "DELETE",              API_NO_DELETE,
         u("api:track-detail", "workforce")),
]
# fmt: on

# Routes deliberately left out of the matrix, each with the reason. Matched by exact key, or by prefix for "…*".
EXCLUDED = {
    # The admin's own pages (one changelist, add, change, delete and history page per model) are Django's: they
    # check is_staff and each model's permissions. The matrix keeps its index, its sign-in page and one
    # changelist; tests/test_admin.py loads every changelist.
    "admin:*": "Django admin internals",
    "admin/*": "Django admin internals without a name (the object-id redirect and the catch-all)",
}

CELLS = [pytest.param(case, role, id=f"{case.id}-{role}") for case in CASES for role in ROLES]


# --- running one cell ------------------------------------------------------------------------------


def send(case: Case, role: str, w):
    """Make the request of ``case`` as ``role``; returns (response, path requested)."""
    user = w.users.get(role)
    path = case.path(w)
    data = case.data(w) if case.data else None
    method = case.method.lower()
    if case.api:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {w.tokens[role]}")
        if method in ("get", "delete"):
            return getattr(client, method)(path), path
        return getattr(client, method)(path, data or {}, format="json"), path
    client = Client()
    if user is not None:
        client.force_login(user)
    headers = {"HX-Request": "true", "HX-Current-URL": "http://testserver/"} if case.htmx else {}
    if method == "get":
        return client.get(path, headers=headers), path
    return client.post(path, data or {}, headers=headers), path


def assert_status(response, expected, path: str, label: str) -> None:
    got = response.status_code
    location = response.get("Location", "")
    if expected in (LOGIN, ADMIN_LOGIN):
        login = reverse("login") if expected == LOGIN else reverse("admin:login")
        where = urlsplit(location)
        assert got == 302 and where.path == login, f"{label}: expected a redirect to {login}, got {got} {location}"
        assert parse_qs(where.query).get("next") == [path], f"{label}: ?next= should be {path}, got {location}"
    elif expected == REDIRECT:
        assert got == 302, f"{label}: expected a redirect, got {got}"
        assert "next=" not in location, f"{label}: expected a redirect, not to sign in: {location}"
    else:
        assert got == expected, f"{label}: expected {expected}, got {got}: {response.content[:300]!r}"


@pytest.mark.parametrize(("case", "role"), CELLS)
def test_permission_cell(case, role, world):
    expected = case.expect[ROLES.index(role)]
    label = f"{case.method} {case.id} as {role}"
    response, path = send(case, role, world)
    assert_status(response, expected, path, label)
    if case.method == "GET":
        return
    # Every row of the portal's tables, against the world as every test starts (signing in writes no such row).
    changed = changed_tables(world.rows, fingerprint())
    if expected in SUCCESS and case.changes_data(role):
        assert changed, f"{label}: answered {expected} but wrote nothing"
    else:
        assert changed == [], f"{label}: {'refused' if expected not in SUCCESS else 'answered'} yet changed {changed}"


# --- the matrix covers every route ---------------------------------------------------------------------


def _excluded_by(rule: str, key: str) -> bool:
    return key.startswith(rule[:-1]) if rule.endswith("*") else key == rule


def _excluded(key: str) -> bool:
    return any(_excluded_by(rule, key) for rule in EXCLUDED)


def test_every_route_is_in_the_matrix():
    """A route added to the project (page, API resource or action) fails here until it has rows in CASES."""
    in_matrix = {case.route for case in CASES}
    missing = sorted({key for key, _pattern, _p in all_routes() if key not in in_matrix and not _excluded(key)})
    assert missing == [], f"routes with no row in the permission matrix: {missing}"


def test_the_matrix_names_only_routes_that_exist():
    routes = {key for key, _pattern, _p in all_routes()}
    assert sorted({case.route for case in CASES} - routes) == []
    # ...and each exclusion still matches something (a stale one would hide nothing, silently).
    stale = [rule for rule in EXCLUDED if not any(_excluded_by(rule, key) for key in routes)]
    assert stale == []


def test_every_method_of_every_api_route_is_in_the_matrix():
    """Each HTTP method a DRF route answers (every viewset action, every APIView handler) has a row."""
    missing = set()
    for key, _pattern, p in all_routes():
        if _excluded(key):
            continue
        covered = {case.method for case in CASES if case.route == key}
        missing |= {f"{m} {key}" for m in api_methods(p) - covered}
    assert sorted(missing) == []


def test_each_row_is_one_route_method_and_variant():
    ids = [case.id for case in CASES]
    assert sorted({i for i in ids if ids.count(i) > 1}) == []


def test_every_api_detail_route_refuses_delete():
    """Nothing is deleted through the API: each detail route has a DELETE row (405)."""
    details = {key for key, _p, pattern in all_routes() if key.startswith("api:") and key.endswith("-detail")}
    with_delete = {case.route for case in CASES if case.method == "DELETE"}
    assert sorted(details - with_delete) == []


# --- exactly the rows each role may see -------------------------------------------------------------------


def ALL(model) -> Callable:  # noqa: N802 - reads as a value in the table
    """Every row of ``model``: the resource is not scoped by role (asserted as such, to notice a change)."""

    def rows(w) -> set:
        ids = set(model.objects.values_list("pk", flat=True))
        assert ids, f"the world has no {model.__name__}"
        return ids

    return rows


def same(names) -> dict:
    """The same rows for every reader."""
    return dict.fromkeys(READERS, names)


FOLLOW_UPS = {"fu_eng_a", "fu_conf_a", "fu_a", "fu_done_a", "fu_eng_b", "fu_conf_b", "fu_b", "fu_done_b"}
OPEN_FOLLOW_UPS = FOLLOW_UPS - {"fu_done_a", "fu_done_b"}
ANNOUNCEMENTS = {"draft_a", "draft_b", "embargoed_a", "published_a", "private_a", "withdrawn_a"}
ENGAGEMENTS = {"eng_a", "conf_a", "eng_b", "conf_b"}


@dataclass(frozen=True)
class Rows:
    """What one role sees in one list: ``what`` names the list ("page" or "page.part"), ``read`` takes the rows
    from the response. The parts of one page are checked on one response (they share ``path``)."""

    what: str
    path: Callable
    read: Callable  # response -> set of ids
    expect: dict  # role -> set of world attribute names (their pks), or a callable (world -> ids)

    @property
    def page(self) -> str:
        return self.what.split(".", 1)[0]


def api_ids(key="id"):
    return lambda response: {row[key] for row in response.json()["results"]}


def ctx(name, attr=None):
    """Ids of the objects in the template context variable ``name`` (a list, or a page of ``attr``)."""

    def read(response):
        value = response.context[name]
        items = getattr(value, attr) if attr else value
        return {obj.pk for obj in items}

    return read


def timeline(kind):
    return lambda response: {obj.pk for entry_kind, _day, obj in response.context["timeline"] if entry_kind == kind}


def search(section):
    return lambda response: {obj.pk for obj in response.context["results"][section]}


def csv_ids(response):
    """The ids in the first column of a CSV download."""
    lines = list(csv.reader(io.StringIO(response.getvalue().decode("utf-8-sig"))))
    return {int(line[0]) for line in lines[1:]}


def feed_ids(response):
    return {int(pk) for pk in re.findall(r"/announcements/(\d+)/", response.content.decode()) if pk}


def brief(part):
    return lambda response: {obj.pk for obj in getattr(response.context["brief"], part)}


API_ROWS_QUERY = "limit=500"
BRIEFING_A = u("country-briefing", "gb")
HOME, COUNTRY_A, SEARCH, DASHBOARD = u("home"), u("country-detail", "gb"), u("search", query=f"q={SEARCH_WORD}"), u("dashboard")

VISIBLE = [
    # Confidential engagements: staff and the country's own liaisons only.
    Rows("api:engagement-list", u("api:engagement-list", query=API_ROWS_QUERY), api_ids(), {
        "viewer": {"eng_a", "eng_b"},
        "liaison_own": {"eng_a", "conf_a", "eng_b"},
        "liaison_other": {"eng_a", "eng_b", "conf_b"},
        "staff": ENGAGEMENTS,
        "admin": ENGAGEMENTS,
    }),
    # Follow-ups of a confidential engagement follow the engagement.
    Rows("api:follow-up-list", u("api:follow-up-list", query=API_ROWS_QUERY), api_ids(), {
        "viewer": FOLLOW_UPS - {"fu_conf_a", "fu_conf_b"},
        "liaison_own": FOLLOW_UPS - {"fu_conf_b"},
        "liaison_other": FOLLOW_UPS - {"fu_conf_a"},
        "staff": FOLLOW_UPS,
        "admin": FOLLOW_UPS,
    }),
    # Drafts: staff and the liaisons of their countries; under embargo or withdrawn: staff only.
    Rows("api:announcement-list", u("api:announcement-list", query=API_ROWS_QUERY), api_ids(), {
        "viewer": {"published_a", "private_a"},
        "liaison_own": {"published_a", "private_a", "draft_a"},
        "liaison_other": {"published_a", "private_a", "draft_b"},
        "staff": ANNOUNCEMENTS,
        "admin": ANNOUNCEMENTS,
    }),
    # Counterparts are read by every reader; their e-mail and phone only by their country's writers (see below).
    Rows("api:counterpart-list", u("api:counterpart-list", query=API_ROWS_QUERY), api_ids(), same({"cp_a", "cp_b"})),
    Rows("api:agreement-list", u("api:agreement-list", query=API_ROWS_QUERY), api_ids(), same({"ag_a", "ag_b"})),
    Rows("api:facility-list", u("api:facility-list", query=API_ROWS_QUERY), api_ids(), same({"fac_a", "fac_b"})),
    Rows("api:organisation-list", u("api:organisation-list", query=API_ROWS_QUERY), api_ids(), same({"org"})),
    Rows("api:partnership-list", u("api:partnership-list", query=API_ROWS_QUERY), api_ids("country"),
         same(lambda w: {"GB", "FR"})),
    Rows("api:status", u("api:status"), api_ids("country"), same(lambda w: {"GB", "FR"})),
    Rows("api:country-track-list", u("api:country-track-list", query=API_ROWS_QUERY), api_ids(), same(ALL(CountryTrack))),
    Rows("api:stage-change-list", u("api:stage-change-list", query=API_ROWS_QUERY), api_ids(), same(ALL(StageChange))),
    # The home page: my countries' latest engagements, my open follow-ups.
    Rows("home.latest-engagements", HOME, ctx("latest_engagements"), {
        "viewer": set(),
        "liaison_own": {"eng_a", "conf_a"},
        "liaison_other": {"eng_b", "conf_b"},
        "staff": set(),
        "admin": set(),
    }),
    Rows("home.my-follow-ups", HOME, ctx("follow_ups"), {
        "viewer": set(),
        "liaison_own": {"fu_eng_a", "fu_conf_a", "fu_a"},
        "liaison_other": {"fu_eng_b", "fu_b"},
        "staff": {"fu_conf_b"},
        "admin": set(),
    }),
    Rows("follow-ups-all-open", u("follow-ups", query="show=all"), ctx("page", "object_list"), {
        "viewer": OPEN_FOLLOW_UPS - {"fu_conf_a", "fu_conf_b"},
        "liaison_own": OPEN_FOLLOW_UPS - {"fu_conf_b"},
        "liaison_other": OPEN_FOLLOW_UPS - {"fu_conf_a"},
        "staff": OPEN_FOLLOW_UPS,
        "admin": OPEN_FOLLOW_UPS,
    }),
    Rows("follow-ups-mine", u("follow-ups", query="show=mine"), ctx("page", "object_list"), {
        "viewer": set(),
        "liaison_own": {"fu_eng_a", "fu_conf_a", "fu_a"},
        "liaison_other": {"fu_eng_b", "fu_b"},
        "staff": {"fu_conf_b"},
        "admin": set(),
    }),
    # Country A's page: its timeline, open follow-ups and counterparts.
    Rows("country-detail.engagements", COUNTRY_A, timeline("engagement"), {
        "viewer": {"eng_a"},
        "liaison_own": {"eng_a", "conf_a"},
        "liaison_other": {"eng_a"},
        "staff": {"eng_a", "conf_a"},
        "admin": {"eng_a", "conf_a"},
    }),
    Rows("country-detail-download.engagements", u("country-detail", "gb", query="export=csv"), csv_ids, {
        "viewer": {"eng_a"},
        "liaison_own": {"eng_a", "conf_a"},
        "liaison_other": {"eng_a"},
        "staff": {"eng_a", "conf_a"},
        "admin": {"eng_a", "conf_a"},
    }),
    Rows("country-detail.announcements", COUNTRY_A, timeline("announcement"), {
        "viewer": {"published_a", "private_a"},
        "liaison_own": {"published_a", "private_a"},
        "liaison_other": {"published_a", "private_a"},
        "staff": {"published_a", "private_a", "withdrawn_a"},
        "admin": {"published_a", "private_a", "withdrawn_a"},
    }),
    Rows("country-detail.follow-ups", COUNTRY_A, ctx("follow_ups"), {
        "viewer": {"fu_eng_a", "fu_a"},
        "liaison_own": {"fu_eng_a", "fu_conf_a", "fu_a"},
        "liaison_other": {"fu_eng_a", "fu_a"},
        "staff": {"fu_eng_a", "fu_conf_a", "fu_a"},
        "admin": {"fu_eng_a", "fu_conf_a", "fu_a"},
    }),
    Rows("country-detail.counterparts", COUNTRY_A, ctx("counterparts"), same({"cp_a"})),
    # Country A's briefing: its latest engagements and open follow-ups, as the country page shows them.
    Rows("country-briefing.engagements", BRIEFING_A, brief("engagements"), {
        "viewer": {"eng_a"},
        "liaison_own": {"eng_a", "conf_a"},
        "liaison_other": {"eng_a"},
        "staff": {"eng_a", "conf_a"},
        "admin": {"eng_a", "conf_a"},
    }),
    Rows("country-briefing.follow-ups", BRIEFING_A, brief("follow_ups"), {
        "viewer": {"fu_eng_a", "fu_a"},
        "liaison_own": {"fu_eng_a", "fu_conf_a", "fu_a"},
        "liaison_other": {"fu_eng_a", "fu_a"},
        "staff": {"fu_eng_a", "fu_conf_a", "fu_a"},
        "admin": {"fu_eng_a", "fu_conf_a", "fu_a"},
    }),
    Rows("country-briefing.counterparts", BRIEFING_A, brief("counterparts"), same({"cp_a"})),
    Rows("counterparts.in-post", u("counterparts", "gb"), ctx("current"), same({"cp_a"})),
    # Search finds only what the reader may see.
    Rows("search.engagements", SEARCH, search("engagements"), {
        "viewer": {"eng_a", "eng_b"},
        "liaison_own": {"eng_a", "conf_a", "eng_b"},
        "liaison_other": {"eng_a", "eng_b", "conf_b"},
        "staff": ENGAGEMENTS,
        "admin": ENGAGEMENTS,
    }),
    Rows("search.announcements", SEARCH, search("announcements"), {
        "viewer": {"published_a", "private_a"},
        "liaison_own": {"published_a", "private_a", "draft_a"},
        "liaison_other": {"published_a", "private_a", "draft_b"},
        "staff": ANNOUNCEMENTS,
        "admin": ANNOUNCEMENTS,
    }),
    Rows("search.counterparts", SEARCH, search("counterparts"), same({"cp_a", "cp_b"})),
    Rows("search.facilities", SEARCH, search("facilities"), same({"fac_a", "fac_b"})),
    Rows("announcements-manage", u("announcements-manage"), ctx("page", "object_list"), {
        "liaison_own": {"published_a", "private_a", "draft_a"},
        "liaison_other": {"published_a", "private_a", "draft_b"},
        "staff": ANNOUNCEMENTS,
        "admin": ANNOUNCEMENTS,
    }),
    # The dashboards: the latest announcements beside the pipeline are the published ones, for everyone.
    Rows("dashboard.announcements", DASHBOARD, ctx("announcements"), same({"published_a", "private_a"})),
    Rows("dashboard.countries", DASHBOARD, lambda r: {row.country.pk for row in r.context["data"]["rows"]}, same({"a", "b"})),
    # The public pages and feeds: published, public, past any embargo; the same for everyone, signed in or not.
    Rows("public-announcements", u("public-announcements"), ctx("page", "object_list"),
         dict.fromkeys(ROLES, {"published_a"})),
    Rows("announcement-feed", u("announcement-feed"), feed_ids, dict.fromkeys(ROLES, {"published_a"})),
    Rows("announcement-feed-country", u("announcement-feed-country", "gb"), feed_ids, dict.fromkeys(ROLES, {"published_a"})),
    Rows("announcement-feed-track", u("announcement-feed-track", "workforce"), feed_ids,
         dict.fromkeys(ROLES, {"published_a"})),
    # Each inbox is its owner's.
    Rows("notifications:inbox", u("notifications:inbox"), lambda r: {row["notification"].pk for row in r.context["rows"]},
         {**dict.fromkeys(ROLES[1:], set()), "liaison_own": {"note_a"}}),
]  # fmt: skip


def _pages() -> dict[str, list[Rows]]:
    pages = {}
    for rows in VISIBLE:
        pages.setdefault(rows.page, []).append(rows)
    for page, parts in pages.items():
        assert len({id(rows.path) for rows in parts}) == 1, f"the parts of {page} must share one path"
    return pages


PAGES = _pages()
VISIBLE_CELLS = [
    pytest.param(page, role, id=f"{page}-{role}")
    for page, parts in PAGES.items()
    for role in ROLES
    if any(role in rows.expect for rows in parts)
]


def expected_ids(expect, w) -> set:
    if callable(expect):
        return expect(w)
    return {getattr(w, name).pk for name in expect}


@pytest.mark.parametrize(("page", "role"), VISIBLE_CELLS)
def test_visible_rows(page, role, world):
    parts = [rows for rows in PAGES[page] if role in rows.expect]
    path = parts[0].path(world)
    if page.startswith("api:"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens[role]}")
    else:
        client = Client()
        if role != "anon":
            client.force_login(world.users[role])
    response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    seen = {rows.what: rows.read(response) for rows in parts}
    assert seen == {rows.what: expected_ids(rows.expect[role], world) for rows in parts}


# --- calendar feeds: the follow-ups in each role's feed ------------------------------------------------------------

OPEN_A, OPEN_B = {"fu_eng_a", "fu_conf_a", "fu_a"}, {"fu_eng_b", "fu_conf_b", "fu_b"}
FEED_FOLLOW_UPS = {
    # scope "countries": every open follow-up of the countries one writes for, confidential ones included
    "countries": {"norole": set(), "viewer": set(), "liaison_own": OPEN_A, "liaison_other": OPEN_B,
                  "staff": OPEN_A | OPEN_B, "admin": OPEN_A | OPEN_B},
    # scope "mine": the open follow-ups one owns, in the countries one writes for
    "mine": {"norole": set(), "viewer": set(), "liaison_own": OPEN_A, "liaison_other": {"fu_eng_b", "fu_b"},
             "staff": {"fu_conf_b"}, "admin": set()},
}  # fmt: skip


@pytest.mark.parametrize("scope", FEED_FOLLOW_UPS)
@pytest.mark.parametrize("role", ROLES[1:])
def test_calendar_feeds_hold_only_what_their_user_may_see(scope, role, world):
    """Each role's own feed, fetched without a session: exactly its follow-ups, never another's nor a confidential one
    it may not read, and no text of the portal (A's and B's confidential summaries, the follow-ups' descriptions)."""
    from icalendar import Calendar

    from notifications.services import calendar_feed_create

    _feed, secret = calendar_feed_create(actor=world.users[role], name=f"matrix {scope}", scope=scope)
    response = Client().get(reverse("calendar-feed", args=[secret]))
    assert response.status_code == 200
    uids = {str(e["UID"]) for e in Calendar.from_ical(response.content).walk("VEVENT")}
    follow_ups = {int(u.split("@")[0].removeprefix("followup-")) for u in uids if u.startswith("followup-")}
    assert follow_ups == {getattr(world, name).pk for name in FEED_FOLLOW_UPS[scope][role]}
    body = response.content.decode().replace("\r\n ", "")
    assert SEARCH_WORD not in body and "After:" not in body and "Room A" not in body


# --- confidential evidence of a stage move ----------------------------------------------------------


SEES_CONFIDENTIAL_A = {"viewer": False, "liaison_own": True, "liaison_other": False, "staff": True, "admin": True}


@pytest.mark.parametrize("role", READERS)
def test_stage_change_hides_confidential_evidence_in_the_api(role, world):
    """A move citing a confidential engagement as evidence: its id only for those who may read the engagement."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens[role]}")
    body = client.get(reverse("api:stage-change-detail", args=[world.move_citing_conf_a.pk])).json()
    assert body["evidence_engagement"] == (world.conf_a.pk if SEES_CONFIDENTIAL_A[role] else None)


@pytest.mark.parametrize("role", READERS)
def test_country_page_hides_confidential_evidence(role, world):
    """The country page's track history must not reveal a confidential engagement (nor its date) cited as evidence
    to someone who may not read it, as the API does not."""
    client = Client()
    client.force_login(world.users[role])
    html = client.get(reverse("country-detail", args=["gb"])).content.decode()
    history = html.split("Public-service improvement", 1)[1]  # the card of the track whose move cites it
    shown = [line.strip() for line in history.splitlines() if "evidence: engagement of" in line]
    assert bool(shown) is SEES_CONFIDENTIAL_A[role], shown


@pytest.mark.parametrize(("role", "country"), [("viewer", "gb"), ("liaison_other", "fr")])
def test_a_hidden_confidential_engagement_answers_like_one_that_does_not_exist(role, country, world):
    """Naming an engagement one may not see (A's confidential one) as a follow-up's engagement must answer exactly as
    an id that does not exist, as the move action's evidence does ("No engagement with id … that you can see"):
    anything else tells the caller that a confidential engagement with that id exists."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens[role]}")

    def answer(engagement_id):
        body = {"country": country, "description": "Probe", "due_on": days(5), "engagement": engagement_id}
        response = client.post(reverse("api:follow-up-list"), body, format="json")
        return response.status_code, [(e["attr"], e["code"]) for e in response.json()["errors"]]

    assert answer(world.conf_a.pk) == answer(10**12)
    assert changed_tables(world.rows, fingerprint()) == []


# --- counterparts' contact details ------------------------------------------------------------------------------


SEES_CONTACT_A = {"viewer": False, "liaison_own": True, "liaison_other": False, "staff": True, "admin": True}
# Every surface that shows or finds counterparts, or could carry their details: pages, search (by name, e-mail and
# phone), the API, the dashboards' exports, the feeds.
CONTACT_SURFACES = [
    u("home"),
    u("country-detail", "gb"),
    u("counterparts", "gb"),
    u("country-briefing", "gb"),
    u("country-briefing-word", "gb"),
    u("engagement-detail", "eng_a"),
    u("search", query=f"q={SEARCH_WORD}"),
    u("dashboard", query="export=csv"),
    u("dashboard", query="export=xlsx"),
    u("country-detail", "gb", query="export=csv"),
    u("country-detail", "gb", query="export=xlsx"),
    u("announcement-feed"),
    u("announcement-feed-country", "gb"),
    u("api:counterpart-list", query=API_ROWS_QUERY),
    u("api:counterpart-detail", "cp_a"),
    u("api:engagement-list", query=API_ROWS_QUERY),
    u("api:status"),
]


@pytest.mark.parametrize("role", READERS)
def test_contact_details_reach_only_the_countrys_writers(role, world):
    """A viewer (and another country's liaison) sees no e-mail or phone of A's counterpart anywhere; A's liaison and
    staff see them on the counterparts page and in the API."""
    page, api = Client(), APIClient()
    page.force_login(world.users[role])
    api.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens[role]}")
    shown = set()
    for surface in CONTACT_SURFACES:
        path = surface(world)
        response = (api if path.startswith("/api/") else page).get(path)
        assert response.status_code == 200, path
        if path.endswith("xlsx"):
            body = _xlsx_text(response)
        elif path.endswith("/word/"):
            body = _docx_text(response)
        else:
            body = response.getvalue().decode("utf-8", "replace")
        shown |= {path for value in (CONTACT_EMAIL, CONTACT_PHONE) if value in body}
    expected = {u("counterparts", "gb")(world), u("api:counterpart-detail", "cp_a")(world)}
    expected |= {u("country-briefing", "gb")(world), u("country-briefing-word", "gb")(world)}
    expected.add(u("api:counterpart-list", query=API_ROWS_QUERY)(world))
    assert shown == (expected if SEES_CONTACT_A[role] else set())
    # Nobody finds a person by their e-mail or phone (the page echoes the query: its results are what counts).
    for q in (CONTACT_EMAIL, CONTACT_PHONE, "7946"):
        response = page.get(u("search")(world), {"q": q})
        assert response.context["counts"]["counterparts"] == 0, q


def _docx_text(response) -> str:
    import io

    from docx import Document

    document = Document(io.BytesIO(response.content))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return " ".join([p.text for p in document.paragraphs] + cells)


def _xlsx_text(response) -> str:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(response.content), read_only=True)
    return " ".join(str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row)
