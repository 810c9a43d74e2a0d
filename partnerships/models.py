from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.i18n import TranslatedNameModel
from countries.models import Counterpart, Country, Health
from infrastructure.models import Facility


class Track(TranslatedNameModel):
    """A line of work of the programme (workforce, public services, safety standards, data centres...)."""

    key = models.SlugField(_("key"), max_length=50, unique=True)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("track")
        verbose_name_plural = _("tracks")
        ordering = ["position", "key"]


class Stage(TranslatedNameModel):
    """One stage of a track: a rung of its ordered ladder, or a side state (paused, withdrawn)."""

    class Kind(models.TextChoices):
        LADDER = "ladder", _("Ladder")
        PAUSED = "paused", _("Paused")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    track = models.ForeignKey(Track, verbose_name=_("track"), on_delete=models.CASCADE, related_name="stages")
    key = models.SlugField(_("key"), max_length=50)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.LADDER)
    position = models.PositiveSmallIntegerField(
        _("position"), help_text=_("Order on the ladder, from 0 (not started). Side states come after the ladder.")
    )
    stalled_after_days = models.PositiveSmallIntegerField(
        _("stalled after (days)"),
        null=True,
        blank=True,
        help_text=_("A track in this stage with no engagement for longer than this is stalled. Empty: never stalls."),
    )

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["track__position", "position"]
        constraints = [
            models.UniqueConstraint(fields=["track", "key"], name="unique_stage_key_per_track"),
            models.UniqueConstraint(fields=["track", "position"], name="unique_stage_position_per_track"),
            models.UniqueConstraint(
                fields=["track", "kind"],
                condition=~Q(kind="ladder"),
                name="one_paused_and_one_withdrawn_stage_per_track",
                violation_error_message=_("A track has exactly one paused and one withdrawn state."),
            ),
        ]

    @property
    def is_side_state(self) -> bool:
        return self.kind != self.Kind.LADDER


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
        from django.utils import timezone

        return (timezone.localdate() - timezone.localdate(self.stage_changed_at)).days

    def clean(self):
        errors = {}
        if self.stage_id and self.track_id and self.stage.track_id != self.track_id:
            errors["stage"] = _("The stage belongs to another track.")
        if self.ladder_stage_id and self.ladder_stage.kind != Stage.Kind.LADDER:
            errors["ladder_stage"] = _("The last ladder stage must be a rung of the ladder.")
        if errors:
            raise ValidationError(errors)


class Engagement(models.Model):
    """A contact with a country's government: meeting, call, visit, letter, workshop or signing."""

    class Kind(models.TextChoices):
        MEETING = "meeting", _("Meeting")
        CALL = "call", _("Call")
        VISIT = "visit", _("Visit")
        LETTER = "letter", _("Letter")
        WORKSHOP = "workshop", _("Workshop")
        SIGNING = "signing", _("Signing")
        OTHER = "other", _("Other")

    class Sensitivity(models.TextChoices):
        NORMAL = "normal", _("Normal")
        CONFIDENTIAL = "confidential", _("Confidential")

    country = models.ForeignKey(Country, verbose_name=_("country"), on_delete=models.PROTECT, related_name="engagements")
    occurred_on = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.MEETING)
    summary = models.TextField(_("summary"))
    outcome = models.TextField(_("outcome"), blank=True)
    tracks = models.ManyToManyField(Track, verbose_name=_("tracks touched"), related_name="engagements", blank=True)
    counterparts = models.ManyToManyField(Counterpart, verbose_name=_("counterparts"), related_name="engagements", blank=True)
    sensitivity = models.CharField(
        _("sensitivity"), max_length=16, choices=Sensitivity.choices, default=Sensitivity.NORMAL, db_index=True
    )
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("logged by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Raised by one by every service write, so an edit based on an older read is refused (see core.conflicts).
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        verbose_name = _("engagement")
        verbose_name_plural = _("engagements")
        ordering = ["-occurred_on", "-id"]
        # Lists read a country's engagements newest first with the id as tie-break: with the id in the index a
        # page is read straight off it (EXPLAIN ANALYZE: 7 ms sorting 3,000 rows before, a few rows after).
        indexes = [models.Index(fields=["country", "-occurred_on", "-id"], name="engagement_country_date_id_idx")]

    def __str__(self):
        return f"{self.country} · {self.get_kind_display()} · {self.occurred_on}"

    @property
    def is_confidential(self) -> bool:
        return self.sensitivity == self.Sensitivity.CONFIDENTIAL


class FollowUp(models.Model):
    """Something to do after an engagement, owned by someone, due on a date.

    ``track`` says which track an overdue follow-up puts at risk; without one it counts only in the
    country's totals.
    """

    country = models.ForeignKey(Country, verbose_name=_("country"), on_delete=models.PROTECT, related_name="follow_ups")
    engagement = models.ForeignKey(
        Engagement, verbose_name=_("engagement"), null=True, blank=True, on_delete=models.CASCADE, related_name="follow_ups"
    )
    track = models.ForeignKey(
        Track, verbose_name=_("track"), null=True, blank=True, on_delete=models.PROTECT, related_name="follow_ups"
    )
    description = models.CharField(_("what to do"), max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
    )
    due_on = models.DateField(_("due on"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("done by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["done_at", "due_on", "id"]
        indexes = [models.Index(fields=["country", "done_at", "due_on"], name="followup_open_idx")]

    def __str__(self):
        return self.description

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class Agreement(models.Model):
    """A signed document with a country: letter of intent, memorandum of understanding or binding agreement."""

    class Kind(models.TextChoices):
        LETTER_OF_INTENT = "loi", _("Letter of intent")
        MOU = "mou", _("Memorandum of understanding")
        BINDING = "binding", _("Binding agreement")

    class SignatoryLevel(models.TextChoices):
        HEAD = "head", _("Head of state or government")
        MINISTER = "minister", _("Minister")
        SENIOR_OFFICIAL = "official", _("Senior official")
        AGENCY = "agency", _("Agency")

    country = models.ForeignKey(Country, verbose_name=_("country"), on_delete=models.PROTECT, related_name="agreements")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=300)
    signed_on = models.DateField(_("signed on"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    signatory_level = models.CharField(
        _("signatory level"), max_length=10, choices=SignatoryLevel.choices, default=SignatoryLevel.MINISTER
    )
    tracks = models.ManyToManyField(Track, verbose_name=_("tracks"), related_name="agreements", blank=True)
    source_url = models.URLField(_("source"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        ordering = ["-signed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gt=F("signed_on")),
                name="agreement_expires_after_signing",
                violation_error_message=_("An agreement must expire after the day it was signed."),
            )
        ]

    def __str__(self):
        return self.title


class Announcement(models.Model):
    """A public statement about a partnership: drafted, held under embargo, then published (or withdrawn)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", pgettext_lazy("announcement status", "Withdrawn")

    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("body"), blank=True)
    countries = models.ManyToManyField(Country, verbose_name=_("countries"), related_name="announcements", blank=True)
    tracks = models.ManyToManyField(Track, verbose_name=_("tracks"), related_name="announcements", blank=True)
    agreements = models.ManyToManyField(Agreement, verbose_name=_("agreements"), related_name="announcements", blank=True)
    facilities = models.ManyToManyField(Facility, verbose_name=_("facilities"), related_name="announcements", blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    embargo_until = models.DateTimeField(_("embargo until"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, db_index=True)
    source_url = models.URLField(_("source"), blank=True)
    is_public = models.BooleanField(_("public"), default=True, help_text=_("Shown on the public pages once published."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        ordering = ["-published_at", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="scheduled") | Q(embargo_until__isnull=False),
                name="announcement_scheduled_has_embargo",
                violation_error_message=_("A scheduled announcement needs an embargo date and time."),
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="announcement_published_has_date",
                violation_error_message=_("A published announcement needs its publication date."),
            ),
        ]

    def __str__(self):
        return self.title


class AnnouncementRevision(models.Model):
    """The title and body of an announcement as they stood after each edit (the first is the draft as written).

    Written by the announcement services; a published announcement edited later keeps what it said before.
    """

    announcement = models.ForeignKey(
        Announcement, verbose_name=_("announcement"), on_delete=models.CASCADE, related_name="revisions"
    )
    number = models.PositiveIntegerField(_("revision"))
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("body"), blank=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("edited by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    edited_at = models.DateTimeField(_("edited at"), auto_now_add=True)
    published = models.BooleanField(_("edited after publication"), default=False)

    class Meta:
        verbose_name = _("announcement revision")
        verbose_name_plural = _("announcement revisions")
        ordering = ["announcement_id", "-number"]
        constraints = [models.UniqueConstraint(fields=["announcement", "number"], name="unique_revision_number")]

    def __str__(self):
        return f"{self.announcement} · {self.number}"


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
        indexes = [models.Index(fields=["country_track", "changed_at"], name="stagechange_ct_time_idx")]

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
