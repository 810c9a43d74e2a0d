from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken


class Event(models.Model):
    """An outbox row: one thing that happened, written in the same transaction as the change.

    Every service writes one. After commit a Celery task dispatches it to the handlers that the
    higher apps register (status rollup, notifications); a periodic sweep dispatches whatever is
    still pending, so a broker outage delays the reaction but never loses it. The table doubles as
    the activity log: who did what to which object, and when.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DISPATCHED = "dispatched", _("Dispatched")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=64, db_index=True)
    subject_type = models.CharField(_("subject type"), max_length=64)
    subject_id = models.CharField(_("subject id"), max_length=200)
    # A plain integer, not a foreign key: core sits below countries and must not import it.
    country_id = models.BigIntegerField(_("country id"), null=True, blank=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "created_at"], name="core_event_pending_idx")]

    def __str__(self):
        return f"{self.kind} {self.subject_type}:{self.subject_id}"


class DemoDataset(models.Model):
    """Marks that ``seed_demo`` filled this database with illustrative data (shown as a banner)."""

    seed = models.IntegerField(_("seed"))
    countries = models.PositiveIntegerField(_("countries"))
    engagements = models.PositiveIntegerField(_("engagements"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("demo dataset")
        verbose_name_plural = _("demo datasets")

    def __str__(self):
        return f"demo seed={self.seed} countries={self.countries} engagements={self.engagements}"


class ApiToken(AbstractAuthToken):
    """A REST client's API token (django-rest-knox): only a SHA-512 digest is stored, never the token.

    Each client gets its own named token with an expiry; it carries its user's rights and can be
    revoked on its own.
    """

    name = models.CharField(_("name"), max_length=100)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created"]

    def __str__(self):
        return f"{self.name} ({self.user})"


class IdempotencyKey(models.Model):
    """A create already answered: the same user sending the same key again within ``core.idempotency.WINDOW`` gets
    this answer back instead of a second write.

    The row is written in the write's own transaction (so a write that rolls back leaves no key, and two hosts
    sending the same key meet at the unique constraint). ``request_hash`` is the SHA-256 of the method, path and
    body: the same key with another request is refused. API keys are the client's ``Idempotency-Key``; the portal's
    one-time form tokens are stored as ``portal:<token>:<hash of the input>``, their answer a redirect.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+")
    key = models.CharField(
        _("key"),
        max_length=255,
        validators=[RegexValidator(r"\A[\x20-\x7e]+\Z", _("Printable ASCII characters only."))],
    )
    request_hash = models.CharField(_("request hash"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"))
    content_type = models.CharField(_("content type"), max_length=255, blank=True)
    body = models.BinaryField(_("body"), blank=True, default=b"")
    location = models.CharField(_("location"), max_length=2000, blank=True)
    etag = models.CharField(_("ETag"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="core_idempotency_key_per_user")]

    def __str__(self):
        return f"{self.key} ({self.user_id})"


class PublicRecordSource(models.Model):
    """One publicly reported fact behind a record (a country's track, an agreement, a facility...): its provenance.

    Written by ``load_public_record`` from the curated dataset committed in ``demo/public_record/``. A record with
    such rows is shown as public record with its sources, distinct from illustrative demo data; a fact whose
    verification says it was not checked against its source is shown as not verified.
    """

    class Certainty(models.TextChoices):
        OFFICIAL = "official", _("Official source")
        REPORTED = "reported", _("Reported by the press")
        SECONDARY = "secondary", _("Secondary source only")
        DISPUTED = "disputed", _("Sources disagree")

    key = models.SlugField(_("key"), max_length=120, help_text=_("The fact's key in the curated dataset."))
    content_type = models.ForeignKey("contenttypes.ContentType", verbose_name=_("record type"), on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField(_("record id"))
    fact = models.TextField(_("fact"))
    reported_on = models.CharField(
        _("reported on"), max_length=10, help_text=_("YYYY-MM-DD, or YYYY-MM when only the month is known.")
    )
    source_urls = models.JSONField(_("source URLs"), default=list, blank=True)
    source_text = models.TextField(_("source as reported"), help_text=_("The sources as the leads name them."))
    certainty = models.CharField(_("certainty"), max_length=12, choices=Certainty.choices)
    verified = models.BooleanField(_("verified against its source"), default=False)
    verification_note = models.CharField(_("verification"), max_length=300)
    curated_on = models.DateField(_("curated on"))

    class Meta:
        verbose_name = _("public-record source")
        verbose_name_plural = _("public-record sources")
        ordering = ["reported_on", "key"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="core_publicrecord_subject_idx")]
        constraints = [
            models.UniqueConstraint(fields=["key", "content_type", "object_id"], name="core_publicrecord_one_fact_per_record")
        ]

    def __str__(self):
        return self.key
