from rest_framework.permissions import SAFE_METHODS, BasePermission

from core import roles


class HasPortalRole(BasePermission):
    """Any user with a role in the portal may read through the API; only staff and liaisons may send writes, and what
    they may change is decided by the services."""

    message = "Your account has no role in the portal yet. Ask programme staff for access."

    def has_permission(self, request, view):
        if not roles.can_read(request.user):
            return False
        offered = getattr(view, request.method.lower(), None) is not None  # else 405, whoever asks
        if request.method not in SAFE_METHODS and offered and not roles.may_write_something(request.user):
            # Refused before the body is parsed or validated: a reader's write costs no lookup at all.
            self.message = "Your role reads the portal but does not change it."
            return False
        return True
