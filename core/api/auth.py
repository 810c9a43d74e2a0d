import binascii

from django.utils import timezone
from django.utils.translation import gettext
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header

from core.models import ApiToken
from core.security import client_address

from . import auth_cache
from .throttling import FailedTokenLockout

LAST_USED_EVERY = 60  # seconds: how often a token's last-use stamp is written, at most


def stamp_is_fresh(token, now) -> bool:
    return token.last_used_at is not None and (now - token.last_used_at).total_seconds() <= LAST_USED_EVERY


def ready_as_cached(token, now) -> bool:
    """Whether a cached token authenticates as it is, with nothing to write: unexpired, its user active, its
    last-use stamp fresh. (The cached-read path, ``core.api.fastpath``, answers only for such tokens.)"""
    return (token.expiry is None or token.expiry >= now) and token.user.is_active and stamp_is_fresh(token, now)


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox token authentication that also records when each token was last used (at most once a minute),
    checks only the presented token's expiry (not every token of its user), locks out an address after
    repeated failed tokens (the sign-in lockout's limits, see ``FailedTokenLockout``), and answers from the
    cache of authenticated tokens (``core.api.auth_cache``) when it can: no query at all on most calls."""

    def authenticate(self, request):
        """Refuse every token from an address locked out for failed attempts (429), and count each failure."""
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.authenticate_header(request).encode().lower():
            return None  # no token presented: nothing to count
        address = client_address(request)
        if wait := FailedTokenLockout.seconds_left(address):
            raise exceptions.Throttled(wait=wait, detail=gettext("Too many failed token attempts from this address."))
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            FailedTokenLockout.record_failure(address)
            raise

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
        if not stamp_is_fresh(token, now):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
            auth_cache.refresh(token)
        return user, token
