import binascii

from django.utils import timezone
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from rest_framework import exceptions

from core.models import ApiToken

from . import auth_cache


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox token authentication that also records when each token was last used (at most once a minute),
    checks only the presented token's expiry (not every token of its user), and answers from the cache of
    authenticated tokens (``core.api.auth_cache``) when it can: no query at all on most calls."""

    def authenticate_credentials(self, token):
        # A token that is not even UTF-8 is simply not a token (knox would fail with a 500 decoding it).
        try:
            text = token.decode("utf-8")
            digest = hash_token(text)
        except (UnicodeDecodeError, TypeError, binascii.Error) as exc:
            raise exceptions.AuthenticationFailed("Invalid token.") from exc
        cached = auth_cache.get(digest)
        if cached is not None and (cached.expiry is None or cached.expiry >= timezone.now()):
            return self.validate_user(cached)
        user, auth_token = super().authenticate_credentials(token)  # an expired token is deleted (and forgotten) here
        auth_cache.put(auth_token)
        return auth_token.user, auth_token

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
            auth_cache.refresh(token)
        return user, token
