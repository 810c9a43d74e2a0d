from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from countries.models import Country


class Organisation(models.Model):
    """A partner company, agency, university or government body that finances, builds or runs facilities."""

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        GOVERNMENT = "government", _("Government body")
        AGENCY = "agency", _("Agency")
        UNIVERSITY = "university", _("University or research institute")
        INVESTOR = "investor", _("Investor or fund")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.COMPANY)
    country = models.ForeignKey(
        Country, verbose_name=_("headquarters"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    website = models.URLField(_("website"), blank=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Facility(models.Model):
    """A data centre or supercomputer in a partner country, with its capacity phases and partners."""

    class Kind(models.TextChoices):
        DATA_CENTRE = "data_centre", _("Data centre")
        SUPERCOMPUTER = "supercomputer", _("Supercomputer")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        PLANNED = "planned", _("Planned")
        UNDER_CONSTRUCTION = "under_construction", _("Under construction")
        OPERATIONAL = "operational", _("Operational")
        CANCELLED = "cancelled", _("Cancelled")

    class Certainty(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        LIKELY = "likely", _("Likely")
        UNLIKELY = "unlikely", _("Unlikely")

    class Sector(models.TextChoices):
        PUBLIC = "public", _("Public")
        PRIVATE = "private", _("Private")
        PUBLIC_PRIVATE = "public_private", _("Public-private")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.DATA_CENTRE)
    country = models.ForeignKey(Country, verbose_name=_("country"), on_delete=models.PROTECT, related_name="facilities")
    city = models.CharField(_("city"), max_length=120, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=8, decimal_places=5, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=8, decimal_places=5, null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PROPOSED, db_index=True)
    sector = models.CharField(_("sector"), max_length=20, choices=Sector.choices, default=Sector.PUBLIC_PRIVATE)
    announced_on = models.DateField(_("announced on"), null=True, blank=True)
    expected_online = models.DateField(_("expected online"), null=True, blank=True)
    source_url = models.URLField(_("source"), blank=True)
    description = models.TextField(_("description"), blank=True)
    certainty = models.CharField(
        _("certainty"),
        max_length=10,
        choices=Certainty.choices,
        blank=True,
        help_text=_("How sure the source is that the facility exists or will (Epoch AI's confirmed / likely / unlikely)."),
    )
    partners = models.ManyToManyField(Organisation, through="FacilityPartner", related_name="facilities", blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # Raised by one by every service write, so an edit based on an older read is refused (see core.conflicts).
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        ordering = ["country__name_en", "name"]
        constraints = [
            models.UniqueConstraint(fields=["country", "name"], name="unique_facility_name_per_country"),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | (Q(latitude__gte=-90) & Q(latitude__lte=90)),
                name="facility_latitude_range",
                violation_error_message=_("Latitude must be between -90 and 90."),
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | (Q(longitude__gte=-180) & Q(longitude__lte=180)),
                name="facility_longitude_range",
                violation_error_message=_("Longitude must be between -180 and 180."),
            ),
            models.CheckConstraint(
                condition=Q(expected_online__isnull=True)
                | Q(announced_on__isnull=True)
                | Q(expected_online__gte=F("announced_on")),
                name="facility_online_after_announcement",
                violation_error_message=_("The facility cannot be expected online before it was announced."),
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.announced_on and self.expected_online and self.expected_online < self.announced_on:
            raise ValidationError({"expected_online": _("The facility cannot be expected online before it was announced.")})


class CapacityPhase(models.Model):
    """One phase of a facility's capacity: power, accelerators and cost, planned or actually online."""

    class State(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ACTUAL = "actual", _("Online")

    facility = models.ForeignKey(Facility, verbose_name=_("facility"), on_delete=models.CASCADE, related_name="phases")
    name = models.CharField(_("phase"), max_length=100, default="Phase 1")
    online_on = models.DateField(_("online on"), help_text=_("Expected date if planned, actual date if online."))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PLANNED)
    power_mw = models.DecimalField(_("power (MW)"), max_digits=10, decimal_places=2, default=0)
    accelerator_count = models.PositiveIntegerField(_("accelerators"), default=0)
    accelerator_type = models.CharField(_("accelerator type"), max_length=100, blank=True)
    h100_equivalents = models.DecimalField(_("H100-equivalents"), max_digits=12, decimal_places=1, default=0)
    capital_cost_usd = models.DecimalField(_("capital cost (USD)"), max_digits=16, decimal_places=0, null=True, blank=True)

    class Meta:
        verbose_name = _("capacity phase")
        verbose_name_plural = _("capacity phases")
        ordering = ["facility_id", "online_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(power_mw__gte=0),
                name="phase_power_not_negative",
                violation_error_message=_("Power cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(h100_equivalents__gte=0),
                name="phase_h100_not_negative",
                violation_error_message=_("H100-equivalents cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(capital_cost_usd__isnull=True) | Q(capital_cost_usd__gte=0),
                name="phase_cost_not_negative",
                violation_error_message=_("Capital cost cannot be negative."),
            ),
        ]

    def __str__(self):
        return f"{self.facility}: {self.name}"


class FacilityPartner(models.Model):
    """An organisation's role in a facility (financier, builder, operator, chip supplier, local partner)."""

    class Role(models.TextChoices):
        FINANCIER = "financier", _("Financier")
        BUILDER = "builder", _("Builder")
        OPERATOR = "operator", _("Operator")
        CHIP_SUPPLIER = "chip_supplier", _("Chip supplier")
        LOCAL_PARTNER = "local_partner", _("Local partner")
        OWNER = "owner", _("Owner")
        USER = "user", _("User")
        ENERGY = "energy", _("Energy company")

    facility = models.ForeignKey(Facility, verbose_name=_("facility"), on_delete=models.CASCADE, related_name="partner_roles")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="facility_roles"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    confidence = models.CharField(
        _("confidence"), max_length=20, blank=True, help_text=_("The source's confidence tag, e.g. confident or speculative.")
    )

    class Meta:
        verbose_name = _("facility partner")
        verbose_name_plural = _("facility partners")
        ordering = ["facility_id", "role", "organisation__name"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "organisation", "role"], name="unique_partner_role_per_facility")
        ]

    def __str__(self):
        return f"{self.organisation} ({self.get_role_display()})"
