"""Authenticated API tokens, kept in the cache so that an API call costs no query to authenticate.

A token is looked up by the SHA-512 digest of what the client sent (never by the token itself): the
entry holds the token row and its user (without the password hash) with the user's portal roles, for
``SECONDS`` at most. Anything that changes what a token may do drops the entries concerned at once:
the token revoked or edited; its user edited (deactivated, made superuser, password changed); the
user's groups changed; a group renamed or deleted. The token's expiry and its last-use stamp are
still checked on every call (see ``core.api.auth``).

With several web processes, ``CACHE_URL`` must point at Redis (README) so that a revocation reaches
every process; with the per-process default cache a revocation made elsewhere is seen within
``SECONDS``.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from core import roles
from core.models import ApiToken
from core.versions import data_changed

SECONDS = 300


def _key(digest: str) -> str:
    return f"api:auth:{digest}"


def get(digest: str):
    """The cached (token, user) pair of this digest, or None."""
    return cache.get(_key(digest))


def put(token) -> None:
    """Cache a token that has just authenticated, with its user's roles and without the password hash."""
    user = get_user_model().objects.defer("password").get(pk=token.user_id)
    roles.group_names(user)  # computed now, so it travels with the cached user
    token.user = user
    cache.set(_key(token.digest), token, SECONDS)


def refresh(token) -> None:
    """Store a cached token again after its last-use stamp moved (its user is already the cached one)."""
    if cache.get(_key(token.digest)) is not None:
        cache.set(_key(token.digest), token, SECONDS)


def forget(digests) -> None:
    keys = [_key(d) for d in digests]
    if not keys:
        return
    cache.delete_many(keys)
    # Also after commit: a request that read the old rows before the change committed may have put them back.
    transaction.on_commit(lambda: cache.delete_many(keys))


def forget_users(user_ids) -> None:
    data_changed()  # roles decide what pages show: cached pages are not served again
    forget(list(ApiToken.objects.filter(user_id__in=list(user_ids)).values_list("digest", flat=True)))


@receiver(post_save, sender=ApiToken)
@receiver(post_delete, sender=ApiToken)
def _token_changed(sender, instance, **kwargs):
    forget([instance.digest])


@receiver(post_save, sender=get_user_model())
def _user_changed(sender, instance, created, **kwargs):
    if created:
        return
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a sign-in stamp changes nothing a token may do
    forget_users([instance.pk])


@receiver(m2m_changed, sender=get_user_model().groups.through)
def _memberships_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if not reverse:  # user.groups changed: instance is the user
        if action.startswith("post_"):
            forget_users([instance.pk])
    elif action == "pre_clear":  # group.user_set.clear(): its members are still there to be found
        forget_users(instance.user_set.values_list("pk", flat=True))
    elif action in ("post_add", "post_remove"):
        forget_users(pk_set)


@receiver(post_save, sender=Group)
def _group_changed(sender, instance, created, **kwargs):
    if not created:
        forget_users(instance.user_set.values_list("pk", flat=True))


@receiver(pre_delete, sender=Group)
def _group_deleted(sender, instance, **kwargs):
    forget_users(instance.user_set.values_list("pk", flat=True))
