from rest_framework.permissions import BasePermission

from core import roles


class HasPortalRole(BasePermission):
    """Any user with a role in the portal may call the API; what they may change is decided by the services."""

    message = "Your account has no role in the portal yet. Ask programme staff for access."

    def has_permission(self, request, view):
        return roles.can_read(request.user)
