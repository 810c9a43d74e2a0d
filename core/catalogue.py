"""The contract between the apps: every kind of outbox event, what it is about, and the fields of its payload.

Emitters name a kind from here (``emit`` refuses a kind or a payload field that is not listed), and handlers,
recipient rules, descriptions and webhook filters compare against the same constants. Webhook receivers get
``kind``, ``subject`` (``type`` and ``id``) and ``payload`` as listed: changing a name here changes what partners
receive, so add fields rather than rename them.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class EventKind:
    name: str
    subject: str  # the published subject type (see SUBJECT_TYPES)
    payload: frozenset[str]
    description: str


KINDS: dict[str, EventKind] = {}


def _kind(name: str, subject: str, payload: tuple[str, ...], description: str) -> str:
    KINDS[name] = EventKind(name, subject, frozenset(payload), description)
    return name


# --- core ---------------------------------------------------------------------------------------
API_TOKEN_CREATED = _kind("api_token.created", "auth.user", ("name",), "An API token was created for the user.")
API_TOKEN_REVOKED = _kind("api_token.revoked", "auth.user", ("name",), "One of the user's API tokens was revoked.")
# The personal calendar feeds (notifications.CalendarFeed): their names and scopes, never their secrets.
CALENDAR_FEED_CREATED = _kind(
    "calendar_feed.created", "auth.user", ("name", "scope"), "A calendar feed was created for the user."
)
CALENDAR_FEED_REVOKED = _kind("calendar_feed.revoked", "auth.user", ("name",), "One of the user's calendar feeds was revoked.")
# Second factors (core/mfa/services.py): the kind ("totp" or "security_key") and the name the user sees, never a secret.
SECOND_FACTOR_ADDED = _kind("second_factor.added", "auth.user", ("kind", "name"), "A second factor was added to the account.")
SECOND_FACTOR_REMOVED = _kind(
    "second_factor.removed", "auth.user", ("kind", "name"), "A second factor was removed from the account."
)
RECOVERY_CODES_GENERATED = _kind(
    "recovery_codes.generated", "auth.user", ("count",), "A new set of recovery codes replaced the account's earlier one."
)
# The portal's users (accounts): who was invited, given a role, deactivated. Never an e-mail address nor a token.
USER_INVITED = _kind(
    "user.invited", "auth.user", ("role", "countries"), "A person was invited to the portal by e-mail (a one-time link)."
)
USER_INVITATION_RESENT = _kind(
    "user.invitation_resent", "auth.user", (), "An invitation was sent again; the earlier link no longer works."
)
USER_INVITATION_ACCEPTED = _kind(
    "user.invitation_accepted", "auth.user", (), "An invited person set their password and signed in."
)
USER_ACCESS_CHANGED = _kind(
    "user.access_changed", "auth.user", ("role", "countries"), "A user's role or countries (as a liaison) changed."
)
USER_DEACTIVATED = _kind(
    "user.deactivated",
    "auth.user",
    ("sessions", "tokens"),
    "A user was deactivated: their sessions were ended, their API tokens and calendar feeds revoked.",
)
USER_REACTIVATED = _kind("user.reactivated", "auth.user", (), "A deactivated user was let back in.")
USER_SESSIONS_ENDED = _kind("user.sessions_ended", "auth.user", ("sessions",), "A user signed out of their other sessions.")
# Admin saves of models that have no service of their own for the change (core.admin_tools.OutboxAdmin).
ADMIN_ADDED = _kind("admin.added", "*", ("fields", "country_ids"), "A row was added in the admin.")
ADMIN_CHANGED = _kind("admin.changed", "*", ("fields", "country_ids"), "A row was changed in the admin.")
ADMIN_DELETED = _kind("admin.deleted", "*", ("id", "country_ids"), "A row was deleted in the admin.")

# --- countries ----------------------------------------------------------------------------------
COUNTERPART_CREATED = _kind("counterpart.created", "countries.counterpart", ("name",), "A counterpart was added.")
COUNTERPART_UPDATED = _kind("counterpart.updated", "countries.counterpart", ("changes",), "A counterpart was edited.")
COUNTERPART_MERGED = _kind(
    "counterpart.merged", "countries.counterpart", ("into", "engagements"), "A duplicate was merged into the one kept."
)
# Ids only: what was erased is gone, from this event too.
COUNTERPART_ERASED = _kind(
    "counterpart.erased",
    "countries.counterpart",
    ("records", "engagements"),
    "A person's data was erased (with the duplicates merged into their record); the engagements that named them stay.",
)
LIAISON_ASSIGNED = _kind("liaison.assigned", "countries.liaisonassignment", ("user",), "A liaison was given a country.")
# Named sets of countries (countries.CountryGrouping), for briefing packs: the codes of their countries.
GROUPING_CREATED = _kind("grouping.created", "countries.countrygrouping", ("name", "countries"), "A country grouping was made.")
GROUPING_UPDATED = _kind("grouping.updated", "countries.countrygrouping", ("name", "countries"), "A grouping was edited.")
GROUPING_DELETED = _kind("grouping.deleted", "countries.countrygrouping", ("name",), "A country grouping was deleted.")
LIAISON_UNASSIGNED = _kind("liaison.unassigned", "countries.country", ("user",), "A liaison was taken off a country.")

# --- infrastructure -----------------------------------------------------------------------------
ORGANISATION_CREATED = _kind("organisation.created", "infrastructure.organisation", ("name",), "An organisation was added.")
FACILITY_CREATED = _kind("facility.created", "infrastructure.facility", ("name", "status"), "A facility was added.")
FACILITY_UPDATED = _kind("facility.updated", "infrastructure.facility", ("changes",), "A facility was edited.")
FACILITY_PHASE_ADDED = _kind(
    "facility.phase_added", "infrastructure.capacityphase", ("facility", "power_mw", "state"), "A capacity phase was added."
)
FACILITY_PHASE_UPDATED = _kind("facility.phase_updated", "infrastructure.capacityphase", ("changes",), "A phase was edited.")
FACILITY_PARTNER_ADDED = _kind(
    "facility.partner_added", "infrastructure.facilitypartner", ("organisation", "role"), "A partner joined a facility."
)

# --- tracks and partnerships ----------------------------------------------------------------------
TRACK_CREATED = _kind("track.created", "partnerships.track", ("key", "country_ids"), "A track was added to the programme.")
TRACK_HEALTH_CHANGED = _kind(
    "track.health_changed", "partnerships.countrytrack", ("track", "from", "to"), "The rollup found a track's health changed."
)
PARTNERSHIP_CREATED = _kind("partnership.created", "partnerships.partnership", ("status",), "A country joined the programme.")
PARTNERSHIP_UPDATED = _kind("partnership.updated", "partnerships.partnership", ("changes",), "A partnership was edited.")
COUNTRY_TRACK_UPDATED = _kind(
    "country_track.updated", "partnerships.countrytrack", ("changes",), "A track's owner, next step or priority changed."
)
# Briefing packs (partnerships.BriefingPack): the PDF of several countries' briefs, for the one who asked.
BRIEFING_PACK_REQUESTED = _kind(
    "briefing_pack.requested", "partnerships.briefingpack", ("owner_id", "total"), "A briefing pack was asked for."
)
BRIEFING_PACK_READY = _kind(
    "briefing_pack.ready", "partnerships.briefingpack", ("owner_id", "total"), "A briefing pack is ready to download."
)
BRIEFING_PACK_FAILED = _kind(
    "briefing_pack.failed", "partnerships.briefingpack", ("owner_id", "error"), "A briefing pack could not be built."
)
_MOVE = ("track", "from", "to", "stage_change")
STAGE_MOVED = _kind("stage.moved", "partnerships.countrytrack", _MOVE, "A track moved along its ladder.")
STAGE_PAUSED = _kind("stage.paused", "partnerships.countrytrack", (*_MOVE, "resume_on"), "A track was paused.")
STAGE_RESUMED = _kind("stage.resumed", "partnerships.countrytrack", _MOVE, "A paused track was resumed.")
STAGE_WITHDRAWN = _kind("stage.withdrawn", "partnerships.countrytrack", _MOVE, "A track was withdrawn.")
STAGE_KINDS = frozenset({STAGE_MOVED, STAGE_PAUSED, STAGE_RESUMED, STAGE_WITHDRAWN})

# --- engagements --------------------------------------------------------------------------------
# Ids only: a confidential engagement's content never travels in events.
ENGAGEMENT_LOGGED = _kind(
    "engagement.logged", "partnerships.engagement", ("tracks", "confidential", "follow_ups"), "An engagement was logged."
)
ENGAGEMENT_UPDATED = _kind("engagement.updated", "partnerships.engagement", ("fields",), "An engagement was edited.")
ENGAGEMENT_VOIDED = _kind(
    "engagement.voided", "partnerships.engagement", ("confidential",), "An engagement was voided (a duplicate, a mistake)."
)
ENGAGEMENT_RESTORED = _kind("engagement.restored", "partnerships.engagement", ("confidential",), "A voided one came back.")
FOLLOW_UP_CREATED = _kind("follow_up.created", "partnerships.followup", ("due_on",), "A follow-up was added.")
FOLLOW_UP_UPDATED = _kind("follow_up.updated", "partnerships.followup", ("changes",), "A follow-up was edited.")
FOLLOW_UP_COMPLETED = _kind("follow_up.completed", "partnerships.followup", (), "A follow-up was marked done.")
FOLLOW_UP_REOPENED = _kind("follow_up.reopened", "partnerships.followup", (), "A follow-up was opened again.")
FOLLOW_UP_REMINDER = _kind(
    "follow_up.reminder", "partnerships.followup", ("reminder", "owner_id", "due_on"), "A follow-up is due or overdue."
)
AGREEMENT_SIGNED = _kind("agreement.signed", "partnerships.agreement", ("kind",), "An agreement was recorded.")
AGREEMENT_UPDATED = _kind("agreement.updated", "partnerships.agreement", ("fields",), "An agreement was edited.")

# --- announcements ------------------------------------------------------------------------------
ANNOUNCEMENT_DRAFTED = _kind("announcement.drafted", "partnerships.announcement", ("country_ids",), "A draft was written.")
ANNOUNCEMENT_UPDATED = _kind(
    "announcement.updated", "partnerships.announcement", ("fields", "country_ids"), "An announcement was edited."
)
ANNOUNCEMENT_SCHEDULED = _kind(
    "announcement.scheduled", "partnerships.announcement", ("embargo_until",), "An announcement was put under embargo."
)
ANNOUNCEMENT_PUBLISHED = _kind(
    "announcement.published", "partnerships.announcement", ("country_ids", "tracks", "public"), "An announcement went out."
)
ANNOUNCEMENT_WITHDRAWN = _kind("announcement.withdrawn", "partnerships.announcement", ("reason",), "It was withdrawn.")


# The subject type that events carry (and webhook receivers see) for each model, where it differs from the model's
# label: the names were published while these models lived in the partnerships app, and receivers rely on them.
SUBJECT_TYPES = {
    "tracks.track": "partnerships.track",
    "tracks.stage": "partnerships.stage",
    "engagements.engagement": "partnerships.engagement",
    "engagements.followup": "partnerships.followup",
    "engagements.agreement": "partnerships.agreement",
    "announcements.announcement": "partnerships.announcement",
    "announcements.announcementrevision": "partnerships.announcementrevision",
}


def subject_type(model_or_instance) -> str:
    """The published subject type of a model (or of an instance's model)."""
    label = model_or_instance._meta.label_lower
    return SUBJECT_TYPES.get(label, label)


def check(kind: str, payload: dict | None) -> None:
    """Refuse an event the catalogue does not describe (a typo in a kind, an undeclared payload field)."""
    spec = KINDS.get(kind)
    if spec is None:
        raise ValueError(f"Unknown event kind {kind!r}: add it to core/catalogue.py")
    extra = set(payload or ()) - spec.payload
    if extra:
        raise ValueError(f"Event {kind!r} has undeclared payload fields {sorted(extra)}: declare them in core/catalogue.py")
