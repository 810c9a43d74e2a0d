"""Engagements with governments, the follow-ups they leave, and the agreements signed."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from countries.models import Counterpart, Country
from tracks.models import Track


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
    tracks = models.ManyToManyField(
        Track, verbose_name=_("tracks touched"), related_name="engagements", blank=True, through="EngagementTrack"
    )
    counterparts = models.ManyToManyField(Counterpart, verbose_name=_("counterparts"), related_name="engagements", blank=True)
    sensitivity = models.CharField(
        _("sensitivity"), max_length=16, choices=Sensitivity.choices, default=Sensitivity.NORMAL, db_index=True
    )
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("logged by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Voided (a duplicate, a mistake): kept, but out of lists, counts and health; staff see it struck through.
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("voided by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    void_reason = models.TextField(_("reason for voiding"), blank=True)
    # Raised by one by every service write, so an edit based on an older read is refused (see core.conflicts).
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        db_table = "partnerships_engagement"  # the table kept its name when the model moved here
        verbose_name = _("engagement")
        verbose_name_plural = _("engagements")
        ordering = ["-occurred_on", "-id"]
        # Lists read a country's engagements newest first with the id as tie-break: with the id in the index a
        # page is read straight off it, without a sort (docs/benchmarks.md, "Why the code is shaped so").
        indexes = [
            models.Index(fields=["country", "-occurred_on", "-id"], name="engagement_country_date_id_idx"),
            # Every engagement newest first (the API's list, a page at a time): read off the index, not sorted.
            models.Index(fields=["-occurred_on", "-id"], name="engagement_date_id_idx"),
            # The few voided ones, found without reading the rest (what no follow-up may belong to, follow_up_live_q).
            models.Index(fields=["voided_at"], name="engagement_voided_idx", condition=Q(voided_at__isnull=False)),
        ]

    def __str__(self):
        return f"{self.country} · {self.get_kind_display()} · {self.occurred_on}"

    @property
    def is_confidential(self) -> bool:
        return self.sensitivity == self.Sensitivity.CONFIDENTIAL

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None

    def track_link_fields(self) -> dict:
        """What each of its links to tracks copies from it (``EngagementTrack``)."""
        return {"country_id": self.country_id, "occurred_on": self.occurred_on}


class EngagementTrack(models.Model):
    """An engagement's link to a track it touched (the table Django made for the many-to-many field, kept)."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE)
    track = models.ForeignKey(Track, on_delete=models.CASCADE)
    # The engagement's country and date, copied (the country never changes; engagement_update moves the date): the
    # last activity on each of a country's tracks up to a past day is then one step down an index per track, where
    # reading it through the engagements grouped every link of the window (the pipeline as of a date).
    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="+", db_index=False)
    occurred_on = models.DateField()

    class Meta:
        db_table = "partnerships_engagement_tracks"
        verbose_name = _("engagement's track")
        verbose_name_plural = _("engagements' tracks")
        unique_together = [("engagement", "track")]
        indexes = [models.Index(fields=["country", "track", "-occurred_on"], name="link_country_track_date_idx")]

    def __str__(self):
        return f"{self.engagement_id} · {self.track_id}"


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

    # Raised by one by every service write, so an edit based on an older read is refused (see core.conflicts).
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        db_table = "partnerships_followup"  # the table kept its name when the model moved here
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["done_at", "due_on", "id"]
        indexes = [
            # A country's open follow-ups soonest due first (its page): a page is read straight off this partial
            # index. With (country, done_at, due_on) instead, PostgreSQL could not take the order from it and walked
            # every follow-up in due order (311,891 of them for 50: 98 ms at 1,000,000 engagements, 0.13 ms now).
            models.Index(fields=["country", "due_on", "id"], name="followup_open_idx", condition=Q(done_at__isnull=True)),
            # The follow-ups done lately, newest first, of every country and of one (the "done" tab): at 1,000,000
            # engagements 79 ms (every follow-up read and sorted) and 6 ms, 0.13 and 0.12 ms with these.
            models.Index(fields=["-done_at", "-id"], name="followup_done_idx", condition=Q(done_at__isnull=False)),
            models.Index(
                fields=["country", "-done_at", "-id"], name="followup_country_done_idx", condition=Q(done_at__isnull=False)
            ),
            # Every follow-up by due date (the API's list, a page at a time): read off the index, not sorted.
            models.Index(fields=["due_on", "id"], name="followup_due_id_idx"),
        ]

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

    # Raised by one by every service write, so an edit based on an older read is refused (see core.conflicts).
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        db_table = "partnerships_agreement"  # the table kept its name when the model moved here
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
