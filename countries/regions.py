"""UN M49 regions, sub-regions and intermediate regions, with translatable labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Region(models.TextChoices):
    AFRICA = "002", _("Africa")
    AMERICAS = "019", _("Americas")
    ASIA = "142", _("Asia")
    EUROPE = "150", _("Europe")
    OCEANIA = "009", _("Oceania")


class SubRegion(models.TextChoices):
    NORTHERN_AFRICA = "015", _("Northern Africa")
    SUB_SAHARAN_AFRICA = "202", _("Sub-Saharan Africa")
    LATIN_AMERICA_CARIBBEAN = "419", _("Latin America and the Caribbean")
    NORTHERN_AMERICA = "021", _("Northern America")
    CENTRAL_ASIA = "143", _("Central Asia")
    EASTERN_ASIA = "030", _("Eastern Asia")
    SOUTH_EASTERN_ASIA = "035", _("South-eastern Asia")
    SOUTHERN_ASIA = "034", _("Southern Asia")
    WESTERN_ASIA = "145", _("Western Asia")
    EASTERN_EUROPE = "151", _("Eastern Europe")
    NORTHERN_EUROPE = "154", _("Northern Europe")
    SOUTHERN_EUROPE = "039", _("Southern Europe")
    WESTERN_EUROPE = "155", _("Western Europe")
    AUSTRALIA_NEW_ZEALAND = "053", _("Australia and New Zealand")
    MELANESIA = "054", _("Melanesia")
    MICRONESIA = "057", _("Micronesia")
    POLYNESIA = "061", _("Polynesia")


class IntermediateRegion(models.TextChoices):
    EASTERN_AFRICA = "014", _("Eastern Africa")
    MIDDLE_AFRICA = "017", _("Middle Africa")
    SOUTHERN_AFRICA = "018", _("Southern Africa")
    WESTERN_AFRICA = "011", _("Western Africa")
    CARIBBEAN = "029", _("Caribbean")
    CENTRAL_AMERICA = "013", _("Central America")
    SOUTH_AMERICA = "005", _("South America")
    CHANNEL_ISLANDS = "830", _("Channel Islands")
