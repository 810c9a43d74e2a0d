from django.contrib import admin

from core.admin_tools import ReadOnlyAdmin

from .models import Invitation, SignedInSession


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    """Invitations are sent, re-sent and withdrawn on the users pages (accounts.services), which e-mail the link."""

    list_display = ("email", "user", "invited_by", "created_at", "expires_at", "accepted_at", "withdrawn_at")
    list_filter = (("accepted_at", admin.EmptyFieldListFilter), ("withdrawn_at", admin.EmptyFieldListFilter))
    search_fields = ("email", "user__username", "user__email")
    list_select_related = ("user", "invited_by")
    exclude = ("token_digest",)


@admin.register(SignedInSession)
class SignedInSessionAdmin(ReadOnlyAdmin):
    """Ended on the users pages (deactivation) and on each user's account page, never here."""

    list_display = ("user", "signed_in_at", "last_seen_at", "ip_address", "expires_at")
    search_fields = ("user__username", "user__email", "ip_address")
    list_select_related = ("user",)
    exclude = ("session_key",)
