"""Django model permissions of the role groups, for the admin pages.

The portal's own rules (who writes for which country) live in the selectors and services; these
permissions only decide which admin pages programme staff can open. They are synced after every
``migrate`` (idempotent), because permissions exist only once each app has migrated.
"""

from . import roles

# app_label.model: actions beyond "view" that programme staff get in the admin.
STAFF_ADMIN_ACTIONS = {
    "countries.counterpart": ("add", "change"),
    "countries.liaisonassignment": ("add", "change", "delete"),
    "infrastructure.organisation": ("add", "change"),
    "infrastructure.facility": ("add", "change"),
    "infrastructure.capacityphase": ("add", "change", "delete"),
    "infrastructure.facilitypartner": ("add", "change", "delete"),
    "tracks.track": ("add", "change"),
    "tracks.stage": ("change",),
    "partnerships.partnership": ("add", "change"),
    "partnerships.countrytrack": ("change",),
    "engagements.engagement": ("add", "change"),
    "engagements.followup": ("add", "change"),
    "engagements.agreement": ("add", "change"),
    "announcements.announcement": ("add", "change"),
}
PORTAL_APPS = (
    "core", "countries", "infrastructure", "tracks", "engagements", "announcements", "partnerships", "notifications",
    "accounts", "imports",
)  # fmt: skip


def sync_role_permissions(**kwargs) -> None:
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.filter(name=roles.STAFF).first()
    if group is None:
        return
    # Seeing users lets staff pick liaisons and owners in the admin's user fields.
    wanted = set(Permission.objects.filter(content_type__app_label="auth", codename="view_user").values_list("pk", flat=True))
    for perm in Permission.objects.filter(content_type__app_label__in=PORTAL_APPS).select_related("content_type"):
        action, _, model = perm.codename.partition("_")
        label = f"{perm.content_type.app_label}.{perm.content_type.model}"
        if action == "view" or action in STAFF_ADMIN_ACTIONS.get(label, ()):
            wanted.add(perm.pk)
    current = set(group.permissions.values_list("pk", flat=True))
    if wanted - current:
        group.permissions.add(*(wanted - current))
