from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CountriesConfig(AppConfig):
    name = "countries"
    verbose_name = _("Countries")

    def ready(self):
        from . import (
            assignments,  # noqa: F401 - a changed assignment moves the data version and drops tokens
            status_cache,  # noqa: F401 - drops the cached status version when a status row is deleted
        )
