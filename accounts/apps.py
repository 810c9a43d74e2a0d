from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """The people of the portal: programme staff invite and manage users; each user's own account page and the
    sessions they are signed in with."""

    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from . import sessions  # noqa: F401 - every sign-in records its session, every sign-out forgets it
