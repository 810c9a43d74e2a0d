from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import Event
from countries.models import Country
from engagements.models import FollowUp
from tracks.models import Track


class Preference(models.Model):
    """How a user wants to hear about what happens: e-mail frequency and language."""

    class Frequency(models.TextChoices):
        IMMEDIATE = "immediate", _("One e-mail per notification")
        DAILY = "daily", _("A daily digest")
        WEEKLY = "weekly", _("A weekly digest (Mondays)")
        NEVER = "never", _("No e-mail (inbox only)")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_frequency = models.CharField(_("e-mail"), max_length=10, choices=Frequency.choices, default=Frequency.DAILY)
    language = models.CharField(_("language of e-mails"), max_length=8, choices=settings.LANGUAGES, default="en")
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self):
        return f"{self.user}: {self.get_email_frequency_display()}"


class Subscription(models.Model):
    """What a user follows: one country, one track, or the whole programme.

    Liaisons follow their assigned countries without a row here.
    """

    class Scope(models.TextChoices):
        COUNTRY = "country", _("Country")
        TRACK = "track", _("Track")
        PROGRAMME = "programme", _("Whole programme")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="subscriptions"
    )
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    country = models.ForeignKey(
        Country, verbose_name=_("country"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    track = models.ForeignKey(Track, verbose_name=_("track"), null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["user_id", "scope", "country__name_en", "track__position"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(scope="country", country__isnull=False, track__isnull=True))
                | (Q(scope="track", track__isnull=False, country__isnull=True))
                | (Q(scope="programme", country__isnull=True, track__isnull=True)),
                name="subscription_scope_matches_target",
                violation_error_message=_("A subscription names a country, a track, or neither (the whole programme)."),
            ),
            models.UniqueConstraint(fields=["user", "country"], condition=Q(scope="country"), name="unique_country_subscription"),
            models.UniqueConstraint(fields=["user", "track"], condition=Q(scope="track"), name="unique_track_subscription"),
            models.UniqueConstraint(fields=["user"], condition=Q(scope="programme"), name="unique_programme_subscription"),
        ]

    def __str__(self):
        target = self.country or self.track or _("whole programme")
        return f"{self.user} → {target}"


class Notification(models.Model):
    """One event in one user's inbox. The (event, user) pair is unique, so a redelivered task adds nothing."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.ForeignKey(Event, verbose_name=_("event"), on_delete=models.CASCADE, related_name="notifications")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    digest = models.ForeignKey(
        "Digest", verbose_name=_("sent in digest"), null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="one_notification_per_event_and_user")]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread_idx")]

    def __str__(self):
        return f"{self.user}: {self.event.kind}"


class EmailDelivery(models.Model):
    """One e-mail for one notification (immediate frequency). Unique per notification: the idempotency key."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    notification = models.OneToOneField(
        Notification, verbose_name=_("notification"), on_delete=models.CASCADE, related_name="email_delivery"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("e-mail delivery")
        verbose_name_plural = _("e-mail deliveries")

    def __str__(self):
        return f"{self.notification} ({self.status})"


class Digest(models.Model):
    """One digest e-mail for one user and period ("2026-11-25" or "2026-W48"): unique, so it goes out once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+")
    period = models.CharField(_("period"), max_length=12)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("digest")
        verbose_name_plural = _("digests")
        constraints = [models.UniqueConstraint(fields=["user", "period"], name="one_digest_per_user_and_period")]

    def __str__(self):
        return f"{self.user} {self.period}"


class Reminder(models.Model):
    """A follow-up reminder sent on a day: unique, so the daily task can run twice."""

    class Kind(models.TextChoices):
        DUE_TOMORROW = "due_tomorrow", _("Due tomorrow")
        OVERDUE = "overdue", _("Overdue")

    follow_up = models.ForeignKey(FollowUp, verbose_name=_("follow-up"), on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices)
    sent_on = models.DateField(_("sent on"))

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [models.UniqueConstraint(fields=["follow_up", "kind", "sent_on"], name="one_reminder_per_day")]

    def __str__(self):
        return f"{self.follow_up_id} {self.kind} {self.sent_on}"


class WebhookEndpoint(models.Model):
    """A REST client's URL that receives the events it asked for, signed with its secret (HMAC-SHA256)."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("secret"), max_length=200, help_text=_("Shared with the receiver to verify signatures."))
    event_kinds = models.JSONField(
        _("event kinds"),
        default=list,
        blank=True,
        help_text=_('For example ["stage.moved", "announcement.published"]; empty: all.'),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        kinds = self.event_kinds
        if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
            raise ValidationError({"event_kinds": _('A list of event kinds, for example ["stage.moved"], or [] for all.')})

    def wants(self, kind: str) -> bool:
        kinds = self.event_kinds if isinstance(self.event_kinds, list) else []
        return not kinds or kind in kinds


class WebhookDelivery(models.Model):
    """One event sent to one endpoint, with its attempts. Unique per (endpoint, event)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(WebhookEndpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, verbose_name=_("event"), on_delete=models.CASCADE, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="one_delivery_per_endpoint_and_event")]

    def __str__(self):
        return f"{self.endpoint} ← {self.event_id} ({self.status})"


class CalendarFeed(models.Model):
    """A personal calendar feed (iCalendar) at a secret address that its user created, saw once and may revoke.

    Only the SHA-256 digest of the secret is stored, never the secret: the feed is found by its digest, which is
    unique. Revoking keeps the row (when it was made, last used and revoked) but the address answers 404 at once,
    as it does when the user is deactivated. What a feed holds is decided on every fetch from the user's rights of
    that moment (``notifications.calendars``).
    """

    class Scope(models.TextChoices):
        MINE = "mine", _("My follow-ups")
        MY_COUNTRIES = "countries", _("All follow-ups of my countries")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    name = models.CharField(_("name"), max_length=100)
    scope = models.CharField(_("follow-ups"), max_length=10, choices=Scope.choices, default=Scope.MINE)
    secret_digest = models.CharField(_("digest of the secret"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.user})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
