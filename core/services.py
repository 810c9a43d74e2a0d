"""Writes owned by core: API tokens and the provenance of public-record data."""

import datetime

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core import catalogue

from .events import emit
from .models import ApiToken, PublicRecordSource
from .roles import is_programme_staff

MAX_TOKEN_DAYS = 366


@transaction.atomic
def api_token_create(*, actor, user, name: str, days: int | None = 90) -> tuple[ApiToken, str]:
    """Create a named token for ``user``; returns the row and the token itself, which is shown once and never stored."""
    if actor.pk != user.pk and not actor.is_superuser:
        raise PermissionDenied(_("You may only create tokens for yourself."))
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = _("Give the token a name, for example the system that will use it.")
    elif len(name) > 100:
        errors["name"] = _("Keep the name under 100 characters.")
    if days is not None and not 1 <= days <= MAX_TOKEN_DAYS:
        errors["days"] = _("A token lasts between 1 and %(max)s days.") % {"max": MAX_TOKEN_DAYS}
    if errors:
        raise ValidationError(errors)
    if ApiToken.objects.filter(user=user, name=name).exists():
        raise ValidationError({"name": _("You already have a token called “%(name)s”.") % {"name": name}})
    token, secret = ApiToken.objects.create(user=user, expiry=datetime.timedelta(days=days) if days else None, name=name)
    # The token's primary key is its hash: the event names the user and the token's name, never the hash.
    emit(kind=catalogue.API_TOKEN_CREATED, subject=user, actor=actor, payload={"name": name})
    return token, secret


@transaction.atomic
def api_token_revoke(*, actor, token: ApiToken) -> None:
    if actor.pk != token.user_id and not actor.is_superuser:
        raise PermissionDenied(_("You may only revoke your own tokens."))
    emit(kind=catalogue.API_TOKEN_REVOKED, subject=token.user, actor=actor, payload={"name": token.name})
    token.delete()


PUBLIC_RECORD_FIELDS = (
    "fact",
    "reported_on",
    "source_urls",
    "source_text",
    "certainty",
    "verified",
    "verification_note",
    "curated_on",
)


@transaction.atomic
def public_record_source_attach(*, actor, subject, key: str, **fields) -> tuple[PublicRecordSource, bool]:
    """Record (or refresh) the provenance of one public-record fact on ``subject``; returns the row and whether it is new.

    Keyed by the fact's key and its record, so loading the curated dataset again updates rather than duplicates.
    Only programme staff curate the public record. Audited by django-auditlog like the records it describes.
    """
    if not is_programme_staff(actor):
        raise PermissionDenied(_("Only programme staff may load the public record."))
    unknown = set(fields) - set(PUBLIC_RECORD_FIELDS)
    if unknown:
        raise ValueError(f"unknown public-record fields: {sorted(unknown)}")
    content_type = ContentType.objects.get_for_model(subject)
    source = PublicRecordSource.objects.filter(key=key, content_type=content_type, object_id=subject.pk).first()
    created = source is None
    if created:
        source = PublicRecordSource(key=key, content_type=content_type, object_id=subject.pk)
    changed = created
    for name, value in fields.items():
        if getattr(source, name) != value:
            setattr(source, name, value)
            changed = True
    if changed:
        source.full_clean()
        source.save()
    return source, created
