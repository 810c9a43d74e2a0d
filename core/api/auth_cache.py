"""Authenticated API tokens, kept in the cache so that an API call costs no query to authenticate.

A token is looked up by the SHA-512 digest of what the client sent (never by the token itself): the
entry holds the token row and its user (without the password hash) with the user's portal roles, for
``SECONDS`` at most. Anything that changes what a token may do drops the entries concerned at once:
the token revoked or edited; its user edited (deactivated, made superuser, password changed); the
user's groups changed; a group renamed or deleted. The token's expiry and its last-use stamp are
still checked on every call (see ``core.api.auth``).

With several web processes, ``CACHE_URL`` must point at Redis (docs/operations.md) so that a revocation reaches
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
from core.cache import forget_after_outage, must
from core.models import ApiToken
from core.versions import data_changed

SECONDS = 300


def cache_key(digest: str) -> str:
    return f"api:auth:{digest}"


forget_after_outage(cache_key("*"))  # a token revoked while the cache was unreachable could not be dropped


# What ``forget`` leaves in place of an entry, for ``FORGOTTEN_SECONDS`` (longer than a request may run: the
# web server's timeout is 30 s): ``put`` only adds, so a request that read the token before a revocation
# committed cannot store it again afterwards.
FORGOTTEN = "forgotten"
FORGOTTEN_SECONDS = 40


def get(digest: str):
    """The cached token (with its user) of this digest, or None."""
    entry = cache.get(cache_key(digest))
    return None if entry is None or entry == FORGOTTEN else entry


def put(token) -> None:
    """Cache a token that has just authenticated, with its user's roles and without the password hash (hence the
    user read again, deferred). Never over an entry that ``forget`` left."""
    user = get_user_model().objects.defer("password").get(pk=token.user_id)
    roles.group_names(user)  # computed now, so it travels with the cached user
    token.user = user
    cache.add(cache_key(token.digest), token, SECONDS)


def refresh(token) -> None:
    """After the token's last-use stamp moved: drop its entry; the next call reads it afresh (about once a minute)."""
    if get(token.digest) is not None:
        cache.delete(cache_key(token.digest))


def forget(digests) -> None:
    entries = {cache_key(d): FORGOTTEN for d in digests}
    if not entries:
        return
    # Strict: if the cache does not answer, the change (a revocation, a deactivation...) is refused, 503, rolled back.
    must("set_many", entries, FORGOTTEN_SECONDS)
    # Again after commit, so the marker outlives the change by as long.
    transaction.on_commit(lambda: cache.set_many(entries, FORGOTTEN_SECONDS))


def forget_users(user_ids) -> None:
    data_changed()  # roles decide what pages show: cached pages are not served again
    forget(list(ApiToken.objects.filter(user_id__in=list(user_ids)).values_list("digest", flat=True)))


@receiver(post_save, sender=ApiToken)
@receiver(post_delete, sender=ApiToken)
def _token_changed(sender, instance, created=False, **kwargs):
    if not created:  # a new token has nothing cached yet
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
