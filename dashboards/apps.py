from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    """Read-only pictures of the whole programme for staff: matrix, funnels, attention, capacity, map, history."""

    name = "dashboards"
    verbose_name = _("Dashboards")
