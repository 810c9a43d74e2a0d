"""The portal's roles, in one place.

Roles are Django groups: liaisons write for the countries assigned to them, programme staff write
all partnership data, viewers read. Superusers are treated as programme staff.
"""

from django.utils.translation import gettext_lazy as _

LIAISON = "liaison"
STAFF = "programme_staff"
VIEWER = "viewer"

ROLE_LABELS = {
    LIAISON: _("Liaison"),
    STAFF: _("Programme staff"),
    VIEWER: _("Viewer"),
}
ALL_ROLES = tuple(ROLE_LABELS)


def group_names(user) -> frozenset:
    """The user's group names, read once and kept on the user object (checks run several times a request)."""
    names = getattr(user, "_portal_group_names", None)
    if names is None:
        names = frozenset(user.groups.values_list("name", flat=True)) if user.is_authenticated else frozenset()
        user._portal_group_names = names
    return names


def is_programme_staff(user) -> bool:
    """Staff of the programme (or a superuser): may write all partnership data."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or STAFF in group_names(user)


def is_liaison(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and LIAISON in group_names(user))


def is_in_role_group(user, role: str) -> bool:
    """Whether the account belongs to ``role``'s group, active or not (an invited liaison is given countries before
    they first sign in); what the account may do is ``is_liaison`` and the others, which ask for an active user."""
    return bool(user and user.is_authenticated and role in group_names(user))


def can_read(user) -> bool:
    """Anyone with a role (or a superuser) reads the portal's non-confidential data."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or bool(group_names(user) & set(ALL_ROLES))


def may_write_something(user) -> bool:
    """Programme staff and liaisons write (each within their own rules); a viewer or a user without a role writes
    nothing, so their write requests are refused before their bodies are read."""
    return is_programme_staff(user) or is_liaison(user)


def role_labels(user) -> list[str]:
    labels = [str(ROLE_LABELS[name]) for name in ALL_ROLES if name in group_names(user)]
    if user.is_superuser:
        labels.insert(0, str(_("Administrator")))
    return labels
