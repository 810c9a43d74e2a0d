from django.utils import timezone
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions

from core.models import ApiToken


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox token authentication that also records when each token was last used (at most once a minute),
    and checks only the presented token's expiry (not every token of its user)."""

    def authenticate_credentials(self, token):
        # A token that is not even UTF-8 is simply not a token (knox would fail with a 500 decoding it).
        try:
            token.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid token.") from exc
        return super().authenticate_credentials(token)

    def _cleanup_token(self, auth_token) -> bool:
        """Refuse (and delete) this token if it has expired.

        Knox also loads every other token of the user on every request to delete the expired ones: a query
        per request that grows with the user's tokens. Expired tokens cannot authenticate either way; they
        stay listed as expired on the user's token page until revoked.
        """
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False

    def validate_user(self, auth_token):
        user, token = super().validate_user(auth_token)
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return user, token
