from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.i18n import TranslatedNameModel, sort_key

from .regions import IntermediateRegion, Region, SubRegion


class Country(TranslatedNameModel):
    """An ISO 3166-1 country or territory, with its UN M49 region. All 249 ship with the database."""

    iso2 = models.CharField(_("ISO alpha-2"), max_length=2, unique=True)
    iso3 = models.CharField(_("ISO alpha-3"), max_length=3, unique=True)
    numeric = models.CharField(_("ISO numeric"), max_length=3, unique=True)
    region = models.CharField(_("region"), max_length=3, choices=Region.choices, blank=True, db_index=True)
    subregion = models.CharField(_("sub-region"), max_length=3, choices=SubRegion.choices, blank=True)
    intermediate_region = models.CharField(_("intermediate region"), max_length=3, choices=IntermediateRegion.choices, blank=True)
    liaisons = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="LiaisonAssignment",
        related_name="assigned_countries",
        verbose_name=_("liaisons"),
        blank=True,
    )
    # The names as they sort (accents and case set aside, ``core.i18n.sort_key``), kept by ``save``: lists order by
    # the one of the reader's language (``core.i18n.name_order``).
    sort_en = models.CharField(_("sort key (English)"), max_length=200, editable=False, default="", db_index=True)
    sort_fr = models.CharField(_("sort key (French)"), max_length=200, editable=False, default="", db_index=True)

    class Meta:
        verbose_name = _("country")
        verbose_name_plural = _("countries")
        ordering = ["name_en"]
        constraints = [
            models.CheckConstraint(condition=Q(iso2__regex=r"^[A-Z]{2}$"), name="country_iso2_upper"),
            models.CheckConstraint(condition=Q(iso3__regex=r"^[A-Z]{3}$"), name="country_iso3_upper"),
            models.CheckConstraint(condition=Q(numeric__regex=r"^[0-9]{3}$"), name="country_numeric_digits"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.sort_en, self.sort_fr = sort_key(self.name_en), sort_key(self.name_fr or self.name_en)
        if kwargs.get("update_fields") is not None and {"name_en", "name_fr"} & set(kwargs["update_fields"]):
            kwargs["update_fields"] = {*kwargs["update_fields"], "sort_en", "sort_fr"}
        super().save(*args, **kwargs)


class LiaisonAssignment(models.Model):
    """A government liaison assigned to a country: they write partnership data for it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("liaison"), on_delete=models.CASCADE, related_name="liaison_assignments"
    )
    country = models.ForeignKey(Country, verbose_name=_("country"), on_delete=models.CASCADE, related_name="liaison_assignments")
    assigned_on = models.DateField(_("assigned on"), auto_now_add=True)

    class Meta:
        verbose_name = _("liaison assignment")
        verbose_name_plural = _("liaison assignments")
        ordering = ["country__name_en", "user__username"]
        constraints = [models.UniqueConstraint(fields=["user", "country"], name="unique_liaison_per_country")]

    def __str__(self):
        return f"{self.user} → {self.country}"


class Counterpart(models.Model):
    """A government official the programme deals with, in post from ``active_from`` to ``active_to``.

    A person: their name, title, e-mail, phone and notes are personal data. Once erased (``erased_at``,
    ``countries.services.counterpart_erase``) the row stays, so the engagements that name them keep "a counterpart
    (erased)", but holds none of it any more.
    """

    # What an erased record is called where a name is stored (the row, the audit log, event payloads, free text).
    ERASED_NAME = "Erased person"
    # Where an erased e-mail address or phone number stood in free text.
    ERASED_TEXT = "[erased]"
    # What is personal data in the row: blanked by an erasure (the name becomes ``ERASED_NAME``).
    PERSONAL_FIELDS = ("name", "title", "email", "phone", "notes")

    country = models.ForeignKey(Country, verbose_name=_("country"), on_delete=models.PROTECT, related_name="counterparts")
    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(_("title"), max_length=200, blank=True)
    organisation = models.CharField(_("ministry or agency"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    active_from = models.DateField(_("in post from"), null=True, blank=True)
    active_to = models.DateField(_("in post until"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # A duplicate merged into another record: kept (with its own dates) but out of every list.
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.PROTECT, related_name="merged"
    )
    # Erased at the person's request (or when no longer needed): the personal fields were blanked for good.
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True, editable=False)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("erased by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    erasure_reason = models.TextField(_("reason for the erasure"), blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Raised by one by every service write, so an edit based on an older read is refused (see core.conflicts).
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        verbose_name = _("counterpart")
        verbose_name_plural = _("counterparts")
        ordering = ["country__name_en", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(active_to__isnull=True) | Q(active_from__isnull=True) | Q(active_to__gte=F("active_from")),
                name="counterpart_dates_in_order",
                violation_error_message=_("“In post until” cannot be before “in post from”."),
            ),
        ]

    def __str__(self):
        if self.erased_at:
            return str(self.display_name)
        return f"{self.name} ({self.title})" if self.title else self.name

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    @property
    def display_name(self) -> str:
        """The name to show: an erased person is "a counterpart (erased)" in the reader's language."""
        return _("a counterpart (erased)") if self.erased_at else self.name

    def clean(self):
        # Named on the field (the database constraint says the same, without a field).
        if self.active_from and self.active_to and self.active_to < self.active_from:
            raise ValidationError({"active_to": _("“In post until” cannot be before “in post from”.")})

    @property
    def is_active(self) -> bool:
        return self.active_to is None or self.active_to >= timezone.localdate()


class Health(models.TextChoices):
    """Health of a country-track, from best to worst (see ``HEALTH_RANK``)."""

    INACTIVE = "inactive", _("Not active")
    ON_TRACK = "on_track", _("On track")
    PAUSED = "paused", _("Paused")
    AT_RISK = "at_risk", _("At risk")
    STALLED = "stalled", _("Stalled")


HEALTH_RANK = {Health.INACTIVE: 0, Health.ON_TRACK: 1, Health.PAUSED: 2, Health.AT_RISK: 3, Health.STALLED: 4}


class CountryStatus(models.Model):
    """The rolled-up status of one country: a read model rewritten by the rollup.

    It holds plain values (no foreign key to partnerships, which sits above this app), so
    dashboards and REST clients read one row per country instead of the raw history.
    ``tracks`` holds one entry per track: key, name, stage, stage position, health, days in stage,
    last engagement.
    """

    country = models.OneToOneField(
        Country, verbose_name=_("country"), on_delete=models.CASCADE, primary_key=True, related_name="status"
    )
    furthest_stage_key = models.CharField(_("furthest stage"), max_length=50, blank=True)
    furthest_stage_name = models.CharField(_("furthest stage name"), max_length=200, blank=True)
    furthest_stage_position = models.PositiveSmallIntegerField(_("furthest stage position"), default=0)
    readiness = models.DecimalField(
        _("readiness (%)"),
        max_digits=5,
        decimal_places=1,
        default=0,
        help_text=_("Share of the stage ladder climbed across tracks."),
    )
    worst_health = models.CharField(_("worst health"), max_length=16, choices=Health.choices, default=Health.INACTIVE)
    engagement_count = models.PositiveIntegerField(_("engagements"), default=0)
    last_engagement_on = models.DateField(_("last engagement"), null=True, blank=True)
    open_follow_ups = models.PositiveIntegerField(_("open follow-ups"), default=0)
    overdue_follow_ups = models.PositiveIntegerField(_("overdue follow-ups"), default=0)
    mw_planned = models.DecimalField(_("MW planned"), max_digits=12, decimal_places=2, default=0)
    mw_operational = models.DecimalField(_("MW operational"), max_digits=12, decimal_places=2, default=0)
    tracks = models.JSONField(_("tracks"), default=list, blank=True)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("country status")
        verbose_name_plural = _("country statuses")
        ordering = ["country__name_en"]
        constraints = [
            models.CheckConstraint(condition=Q(readiness__gte=0) & Q(readiness__lte=100), name="countrystatus_readiness_percent"),
            models.CheckConstraint(
                condition=Q(mw_planned__gte=0) & Q(mw_operational__gte=0), name="countrystatus_mw_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.country}: {self.get_worst_health_display()}"


class CountryGrouping(models.Model):
    """A named set of countries that staff define ("Gulf partners", "G7"), to ask for briefing packs of them."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    countries = models.ManyToManyField(Country, verbose_name=_("countries"), related_name="groupings")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("country grouping")
        verbose_name_plural = _("country groupings")
        ordering = ["name"]

    def __str__(self):
        return self.name
