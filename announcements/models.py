"""Announcements: drafted, held under embargo, published or withdrawn, with the revisions of their text."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from countries.models import Country
from engagements.models import Agreement
from infrastructure.models import Facility
from tracks.models import Track


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

    # Raised by one by every service write, so an edit based on an older read is refused (see core.conflicts).
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        db_table = "partnerships_announcement"  # the table kept its name when the model moved here
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
        db_table = "partnerships_announcementrevision"  # the table kept its name when the model moved here
        verbose_name = _("announcement revision")
        verbose_name_plural = _("announcement revisions")
        ordering = ["announcement_id", "-number"]
        constraints = [models.UniqueConstraint(fields=["announcement", "number"], name="unique_revision_number")]

    def __str__(self):
        return f"{self.announcement} · {self.number}"
