from django.utils import timezone
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions

from core.models import ApiToken


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox token authentication that also records when each token was last used (at most once a minute)."""

    def authenticate_credentials(self, token):
        # A token that is not even UTF-8 is simply not a token (knox would fail with a 500 decoding it).
        try:
            token.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid token.") from exc
        return super().authenticate_credentials(token)

    def validate_user(self, auth_token):
        user, token = super().validate_user(auth_token)
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return user, token
