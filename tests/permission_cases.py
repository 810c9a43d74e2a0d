"""The world of the permission matrix (tests/test_permission_matrix.py), and its helpers.

Two countries in the programme, A (GB) and B (FR), with objects of every kind in both, built through the
services as the people who would write them; one user per role; an API token per user. The matrix reads
everything relative to country A: ``liaison_own`` is A's liaison, ``liaison_other`` B's.
"""

import datetime
import io
from decimal import Decimal
from types import SimpleNamespace

from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts import services as account_services
from announcements import services as announcement_services
from core.models import Event
from core.services import api_token_create
from countries import services as country_services
from engagements import services as engagement_services
from infrastructure import services as infra_services
from notifications.models import Notification
from notifications.services import calendar_feed_create, calendar_feed_revoke
from partnerships import services
from partnerships.models import BriefingPack
from partnerships.packs import pack_request
from partnerships.rollup import rollup_countries
from tests import factories

# The columns of the matrix, in the order of its tuples.
ROLES = ("anon", "norole", "viewer", "liaison_own", "liaison_other", "staff", "admin")
READERS = ("viewer", "liaison_own", "liaison_other", "staff", "admin")

# Marker text in everything the search page can find.
SEARCH_WORD = "Zephyr"
# A's counterpart's contact details: only A's liaison and staff may read them (countries.policies).
CONTACT_EMAIL, CONTACT_PHONE = "minister.a@dsit.example.gov", "+44 20 7946 0123"


def _cell(country, key):
    return country.country_tracks.select_related("track", "stage", "country").get(track__key=key)


def build_world() -> SimpleNamespace:
    """Build the world once (the caller wraps it in a transaction that is rolled back at the end)."""
    today = timezone.localdate()
    w = SimpleNamespace(today=today)
    w.a, w.b = factories.country("GB"), factories.country("FR")

    # --- people ---------------------------------------------------------------------------------
    w.users = {
        "norole": factories.make_user(None, username="pm-norole"),
        "viewer": factories.viewer(username="pm-viewer"),
        "liaison_own": factories.liaison("GB", username="pm-liaison-a"),
        "liaison_other": factories.liaison("FR", username="pm-liaison-b"),
        # Programme staff open the administration (as the demo's staff user does).
        "staff": factories.staff(username="pm-staff", is_staff=True),
        "admin": factories.UserFactory(username="pm-admin", is_staff=True, is_superuser=True),
    }
    staff, liaison_a, liaison_b = w.users["staff"], w.users["liaison_own"], w.users["liaison_other"]
    # One API token per user: the API cells go through the same authentication as a partner system.
    w.tokens = {role: api_token_create(actor=user, user=user, name="matrix", days=30)[1] for role, user in w.users.items()}
    w.spare_token = api_token_create(actor=liaison_a, user=liaison_a, name="spare", days=30)[0]

    # --- partnerships and their tracks ------------------------------------------------------------
    for country in (w.a, w.b):
        services.partnership_create(actor=staff, country=country, started_on=today - datetime.timedelta(days=100))
    w.a_workforce, w.a_public, w.a_safety = (_cell(w.a, k) for k in ("workforce", "public_services", "safety_standards"))
    w.b_workforce = _cell(w.b, "workforce")
    services.country_track_move(actor=staff, country_track=w.a_workforce, to_stage=factories.stage("workforce", "exploring"))
    services.country_track_move(actor=staff, country_track=w.b_workforce, to_stage=factories.stage("workforce", "exploring"))
    services.country_track_pause(
        actor=staff, country_track=w.a_safety, reason="Elections", resume_on=today + datetime.timedelta(days=60)
    )

    # --- counterparts, engagements, follow-ups ---------------------------------------------------
    w.cp_a = country_services.counterpart_create(
        actor=liaison_a,
        country=w.a,
        name=f"{SEARCH_WORD} Minister A",
        title="Minister for AI",
        organisation="DSIT",
        email=CONTACT_EMAIL,
        phone=CONTACT_PHONE,
    )
    w.cp_b = country_services.counterpart_create(actor=liaison_b, country=w.b, name=f"{SEARCH_WORD} Ministre B")
    workforce = factories.track("workforce")

    def log(actor, country, counterpart, summary, owner, sensitivity="normal", days_ago=5):
        return engagement_services.engagement_log(
            actor=actor,
            country=country,
            occurred_on=today - datetime.timedelta(days=days_ago),
            kind="meeting",
            summary=f"{SEARCH_WORD}: {summary}",
            tracks=[workforce],
            counterparts=[counterpart],
            sensitivity=sensitivity,
            follow_ups=[{"description": f"After: {summary}", "due_on": today + datetime.timedelta(days=10), "owner": owner}],
        )

    w.eng_a = log(liaison_a, w.a, w.cp_a, "skills kick-off in A", liaison_a)
    w.conf_a = log(liaison_a, w.a, w.cp_a, "budget in A, not for circulation", liaison_a, "confidential", days_ago=2)
    w.eng_b = log(liaison_b, w.b, w.cp_b, "skills kick-off in B", liaison_b)
    w.conf_b = log(liaison_b, w.b, w.cp_b, "budget in B, not for circulation", staff, "confidential", days_ago=3)
    w.fu_eng_a, w.fu_conf_a = w.eng_a.follow_ups.get(), w.conf_a.follow_ups.get()
    w.fu_eng_b, w.fu_conf_b = w.eng_b.follow_ups.get(), w.conf_b.follow_ups.get()
    due = today + datetime.timedelta(days=7)
    w.fu_a = engagement_services.follow_up_create(actor=liaison_a, country=w.a, description="Room A", due_on=due, owner=liaison_a)
    w.fu_b = engagement_services.follow_up_create(actor=liaison_b, country=w.b, description="Room B", due_on=due, owner=liaison_b)
    w.fu_done_a = engagement_services.follow_up_create(
        actor=liaison_a, country=w.a, description="Slides A", due_on=due, owner=liaison_a
    )
    w.fu_done_b = engagement_services.follow_up_create(actor=liaison_b, country=w.b, description="Slides B", due_on=due)
    engagement_services.follow_up_complete(actor=liaison_a, follow_up=w.fu_done_a)
    engagement_services.follow_up_complete(actor=liaison_b, follow_up=w.fu_done_b)

    # A stage move of A that cites the confidential engagement as its evidence.
    w.move_citing_conf_a = services.country_track_move(
        actor=liaison_a,
        country_track=w.a_public,
        to_stage=factories.stage("public_services", "exploring"),
        evidence_engagement=w.conf_a,
    )

    # --- agreements, infrastructure ----------------------------------------------------------------
    signed = today - datetime.timedelta(days=30)
    w.ag_a = engagement_services.agreement_create(
        actor=staff, country=w.a, kind="mou", title="MoU A", signed_on=signed, tracks=[workforce]
    )
    w.ag_b = engagement_services.agreement_create(actor=staff, country=w.b, kind="mou", title="MoU B", signed_on=signed)
    w.org = infra_services.organisation_create(actor=staff, name="Northern Compute Ltd", kind="company")
    w.fac_a = infra_services.facility_create(actor=staff, country=w.a, name=f"{SEARCH_WORD} Campus A", city="Edinburgh")
    w.fac_b = infra_services.facility_create(actor=staff, country=w.b, name=f"{SEARCH_WORD} Campus B", city="Lyon")
    infra_services.capacity_phase_add(
        actor=staff, facility=w.fac_a, name="Phase 1", online_on=today + datetime.timedelta(days=365), power_mw=Decimal(50)
    )
    infra_services.facility_partner_add(actor=staff, facility=w.fac_a, organisation=w.org, role="builder")

    # --- announcements in every state that matters -------------------------------------------------
    def announce(actor, title, countries, **kwargs):
        return announcement_services.announcement_create(
            actor=actor, title=f"{SEARCH_WORD}: {title}", countries=countries, **kwargs
        )

    w.draft_a = announce(liaison_a, "draft of A", [w.a])
    w.draft_b = announce(liaison_b, "draft of B", [w.b])
    w.embargoed_a = announce(staff, "embargoed news of A", [w.a])
    announcement_services.announcement_schedule(
        actor=staff, announcement=w.embargoed_a, embargo_until=timezone.now() + datetime.timedelta(days=7)
    )
    w.published_a = announce(staff, "published news of A", [w.a], tracks=[workforce])
    announcement_services.announcement_publish(actor=staff, announcement=w.published_a)
    w.private_a = announce(staff, "published, not public, of A", [w.a], is_public=False)
    announcement_services.announcement_publish(actor=staff, announcement=w.private_a)
    w.withdrawn_a = announce(staff, "withdrawn news of A", [w.a])
    announcement_services.announcement_publish(actor=staff, announcement=w.withdrawn_a)
    announcement_services.announcement_withdraw(actor=staff, announcement=w.withdrawn_a, reason="Wrong figures")

    # A's liaison's calendar feed (its secret is its address), and one revoked.
    w.feed_a, w.feed_a_secret = calendar_feed_create(actor=liaison_a, name="matrix feed", scope="mine")
    w.revoked_feed, w.revoked_feed_secret = calendar_feed_create(actor=liaison_a, name="revoked feed", scope="mine")
    calendar_feed_revoke(actor=liaison_a, feed=w.revoked_feed)

    # One unread notification in A's liaison's inbox (handlers never run here: nothing commits).
    w.note_a = Notification.objects.create(user=liaison_a, event=Event.objects.filter(kind="engagement.logged").first())

    # People that programme staff manage on the users pages: one active, one deactivated, one invited (the link's token).
    w.managed = factories.viewer(username="pm-managed")
    w.former = factories.viewer(username="pm-former")
    account_services.user_deactivate(actor=staff, user=w.former)
    w.invitation, w.invite_token = account_services.user_invite(
        actor=staff, email="pm-invited@example.gov", first_name="Invited", last_name="Person", role="viewer"
    )
    w.invited = w.invitation.user
    # A's liaison's upload of a spreadsheet of A's engagements, not yet run.
    from imports.services import import_job_create

    sheet = b"Country,Date,Summary\nGB,2026-01-10,Imported meeting\n"
    w.import_a = import_job_create(
        actor=liaison_a, kind="engagements", handle=io.BytesIO(sheet), filename="a.csv", size=len(sheet)
    )
    # A named grouping (programme staff make them); A's liaison's briefing packs: one being built, one ready, one
    # failed (the build task never runs here: nothing commits).
    w.grouping = country_services.grouping_create(actor=staff, name="matrix grouping", countries=[w.a, w.b])
    w.pack_a = pack_request(actor=liaison_a, countries=[w.a], label="matrix pack")
    w.pack_ready_a = pack_request(actor=liaison_a, countries=[w.a], label="matrix pack ready")
    BriefingPack.objects.filter(pk=w.pack_ready_a.pk).update(status="ready", done=1, pdf=b"%PDF-1.7 matrix")
    w.pack_failed_a = pack_request(actor=liaison_a, countries=[w.a], label="matrix pack failed")
    BriefingPack.objects.filter(pk=w.pack_failed_a.pk).update(status="failed", error="matrix failure")

    rollup_countries()
    for value in vars(w).values():
        if hasattr(value, "refresh_from_db"):
            value.refresh_from_db()
    return w


# --- "a refused write changed nothing" -------------------------------------------------------------

FINGERPRINT_APPS = {"core", "countries", "infrastructure", "partnerships", "notifications", "accounts", "auth"}
# Written by every authenticated API request and feed fetch (when the token or feed was last used), and by every
# sign-in (its time): not a change of data.
VOLATILE_FIELDS = {
    "core.apitoken": {"last_used_at"},
    "notifications.calendarfeed": {"last_used_at"},
    "auth.user": {"last_login"},
}
# Written by every sign-in and refreshed as a session is used (accounts.sessions): bookkeeping, not data.
NOT_FINGERPRINTED = {"accounts.signedinsession"}


def fingerprint() -> dict:
    """Every row of every table of the portal's apps (the through tables of many-to-many fields included)."""
    state = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.app_label not in FINGERPRINT_APPS or not meta.managed or meta.label_lower in NOT_FINGERPRINTED:
            continue
        skip = VOLATILE_FIELDS.get(meta.label_lower, set())
        fields = [f.attname for f in meta.concrete_fields if f.attname not in skip]
        state[meta.label] = list(model._base_manager.order_by("pk").values_list(*fields))
    return state


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(label for label in before if before[label] != after.get(label))


# --- the URL resolver ------------------------------------------------------------------------------


def all_routes():
    """(key, pattern, URLPattern) for every route of the project: the key is the route's namespaced name,
    or its full pattern when it has no name."""

    def walk(patterns, prefix, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = ":".join(filter(None, [namespace, p.namespace])) or None
                yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern):
                full = prefix + str(p.pattern)
                name = ":".join(filter(None, [namespace, p.name])) if p.name else None
                yield (name or full), full, p

    yield from walk(get_resolver().url_patterns, "", None)


def api_methods(pattern: URLPattern) -> set[str]:
    """The HTTP methods a DRF route answers (viewset actions, or an APIView's handlers), upper-case; empty for
    a Django view."""
    callback = pattern.callback
    actions = getattr(callback, "actions", None)
    if actions:  # DRF adds "head" wherever there is "get"
        return {m.upper() for m in actions if m not in ("head", "options")}
    cls = getattr(callback, "cls", None)
    if cls is None:
        return set()
    return {m.upper() for m in cls.http_method_names if m not in ("head", "options") and hasattr(cls, m)}
