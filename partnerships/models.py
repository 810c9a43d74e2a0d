"""The programme's partnerships with countries, the country x track matrix and its stage history."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from announcements.models import Announcement
from countries.models import Country, Health
from engagements.models import Agreement, Engagement
from tracks.models import Stage, Track


class Partnership(models.Model):
    """The programme's relationship with one country: where it stands overall and who leads it."""

    class Status(models.TextChoices):
        PIPELINE = "pipeline", _("Pipeline")
        ENGAGED = "engaged", _("Engaged")
        PARTNERED = "partnered", _("Partnered")
        PAUSED = "paused", _("Paused")

    country = models.OneToOneField(Country, verbose_name=_("country"), on_delete=models.PROTECT, related_name="partnership")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PIPELINE, db_index=True)
    lead_liaison = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lead liaison"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_partnerships",
    )
    started_on = models.DateField(_("started on"))
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # Raised by one by every service write, so an edit based on an older read is refused (see core.conflicts).
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        verbose_name = _("partnership")
        verbose_name_plural = _("partnerships")
        ordering = ["country__name_en"]

    def __str__(self):
        return str(self.country)


class CountryTrack(models.Model):
    """One cell of the country x track matrix: the track's current stage in that country.

    ``ladder_stage`` remembers the last rung reached, so a paused track resumes where it was and
    still counts towards readiness. ``health``, ``last_engagement_on`` and the follow-up counts are
    written by the rollup.
    """

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")

    country = models.ForeignKey(Country, verbose_name=_("country"), on_delete=models.PROTECT, related_name="country_tracks")
    track = models.ForeignKey(Track, verbose_name=_("track"), on_delete=models.PROTECT, related_name="country_tracks")
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="+")
    ladder_stage = models.ForeignKey(Stage, verbose_name=_("last ladder stage"), on_delete=models.PROTECT, related_name="+")
    stage_changed_at = models.DateTimeField(_("stage changed at"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    next_step = models.CharField(_("next step"), max_length=300, blank=True)
    next_step_due = models.DateField(_("next step due"), null=True, blank=True)
    pause_reason = models.TextField(_("reason for pause or withdrawal"), blank=True)
    resume_on = models.DateField(_("resume on"), null=True, blank=True)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    # Written by the rollup.
    health = models.CharField(_("health"), max_length=16, choices=Health.choices, default=Health.INACTIVE)
    last_engagement_on = models.DateField(_("last engagement"), null=True, blank=True)
    open_follow_ups = models.PositiveIntegerField(_("open follow-ups"), default=0)
    overdue_follow_ups = models.PositiveIntegerField(_("overdue follow-ups"), default=0)
    health_computed_at = models.DateTimeField(_("health computed at"), null=True, blank=True)
    # Raised by one by every service write (not by the rollup's figures): a form or an API client that read an
    # older version is refused instead of undoing the newer change (see core.conflicts).
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        verbose_name = _("country track")
        verbose_name_plural = _("country tracks")
        ordering = ["country__name_en", "track__position"]
        constraints = [
            models.UniqueConstraint(fields=["country", "track"], name="unique_track_per_country"),
        ]

    def __str__(self):
        return f"{self.country} · {self.track}"

    @property
    def days_in_stage(self) -> int:
        return (timezone.localdate() - timezone.localdate(self.stage_changed_at)).days

    def clean(self):
        errors = {}
        if self.stage_id and self.track_id and self.stage.track_id != self.track_id:
            errors["stage"] = _("The stage belongs to another track.")
        if self.ladder_stage_id and self.ladder_stage.kind != Stage.Kind.LADDER:
            errors["ladder_stage"] = _("The last ladder stage must be a rung of the ladder.")
        if errors:
            raise ValidationError(errors)


class StageChange(models.Model):
    """The history of a country-track: every move between stages, who made it, why, and the evidence."""

    country_track = models.ForeignKey(
        CountryTrack, verbose_name=_("country track"), on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.ForeignKey(
        Stage, verbose_name=_("from"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(_("when"), db_index=True)
    note = models.TextField(_("note"), blank=True)
    evidence_engagement = models.ForeignKey(
        Engagement, verbose_name=_("evidence: engagement"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    evidence_agreement = models.ForeignKey(
        Agreement, verbose_name=_("evidence: agreement"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    evidence_announcement = models.ForeignKey(
        Announcement,
        verbose_name=_("evidence: announcement"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["country_track", "changed_at"], name="stagechange_ct_time_idx"),
            # Every stage change newest first (the API's list, a page at a time): read off the index, not sorted.
            models.Index(fields=["-changed_at", "-id"], name="stagechange_time_id_idx"),
        ]

    def __str__(self):
        return f"{self.country_track}: {self.from_stage} → {self.to_stage}"


class RollupRequest(models.Model):
    """A country whose status must be recomputed. Events add a row (one per country, however many
    events); the rollup task takes all rows at once, so a burst of changes costs one rollup."""

    country = models.OneToOneField(
        Country, verbose_name=_("country"), on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rollup request")
        verbose_name_plural = _("rollup requests")

    def __str__(self):
        return f"rollup of {self.country_id} requested at {self.requested_at}"


class BriefingPack(models.Model):
    """One PDF of the briefs of several countries, built by a task for the user who asked (each brief generated for
    their rights). The PDF is kept in the database, which every host reaches and every backup holds, for
    ``PACK_KEEP_DAYS`` days (``partnerships.packs.purge_expired_packs``)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to start")
        RUNNING = "running", _("Being built")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.CASCADE, related_name="briefing_packs"
    )
    label = models.CharField(_("label"), max_length=200)
    countries = models.ManyToManyField(Country, verbose_name=_("countries"), related_name="+")
    language = models.CharField(_("language"), max_length=8, default="en")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    done = models.PositiveIntegerField(_("countries done"), default=0)
    total = models.PositiveIntegerField(_("countries in the pack"), default=0)
    error = models.TextField(_("why it failed"), blank=True)
    pdf = models.BinaryField(_("PDF"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("briefing pack")
        verbose_name_plural = _("briefing packs")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.label} ({self.get_status_display()})"

    # A pack still "waiting" or "being built" this long after its request was lost (a worker killed, a queue
    # emptied): it may be asked for again.
    STALLED_AFTER = datetime.timedelta(minutes=30)

    @property
    def in_progress(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.RUNNING)

    @property
    def stalled(self) -> bool:
        return self.in_progress and timezone.now() - self.created_at > self.STALLED_AFTER

    @property
    def may_retry(self) -> bool:
        return self.status == self.Status.FAILED or self.stalled
