from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Invitation(models.Model):
    """An e-mailed, one-time link with which an invited person sets their password and signs in.

    Only the SHA-256 digest of the link's token is stored: the token itself is in the e-mail and nowhere else. A link
    works once (``accepted_at``), until ``expires_at`` (``INVITATION_EXPIRY_DAYS`` after it was sent), and not after a
    newer invitation replaced it or the user was deactivated (``withdrawn_at``).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("e-mail sent to"))
    token_digest = models.CharField(_("token digest"), max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.email} ({self.created_at:%Y-%m-%d})"

    def is_pending(self, now=None) -> bool:
        now = now or timezone.now()
        return self.accepted_at is None and self.withdrawn_at is None and self.expires_at > now


class SignedInSession(models.Model):
    """A browser session of a signed-in user, recorded at sign-in and refreshed as it is used.

    Django's session rows cannot be listed by user (their data is encoded), so each sign-in records its session key
    here: the account page lists a user's sessions, "sign out my other sessions" and a deactivation end them all.
    The key is the session's credential, like Django's own session table: it is never shown.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="signed_in_sessions"
    )
    session_key = models.CharField(_("session key"), max_length=40, unique=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    signed_in_at = models.DateTimeField(_("signed in at"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        verbose_name = _("signed-in session")
        verbose_name_plural = _("signed-in sessions")
        ordering = ["-last_seen_at", "-id"]

    def __str__(self):
        return f"{self.user} ({self.last_seen_at:%Y-%m-%d %H:%M})"
