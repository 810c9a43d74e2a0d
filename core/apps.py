from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
        from .api import auth_cache, schema  # noqa: F401 - signals that drop cached tokens; the token scheme's OpenAPI
        from .permissions import sync_role_permissions

        post_migrate.connect(sync_role_permissions, dispatch_uid="core.sync_role_permissions")

        from django.contrib.auth.signals import user_logged_in

        from .mfa.policies import on_sign_in

        # What a new session owes (its second factor, or an enrolment): noted in the session at every sign-in.
        user_logged_in.connect(on_sign_in, dispatch_uid="core.mfa.on_sign_in")

        from .audit import register_models

        register_models()  # the audit log (django-auditlog): every model a user can change

        from django.contrib.sessions.backends.cached_db import KEY_PREFIX

        from .cache import forget_after_outage

        forget_after_outage(KEY_PREFIX + "*")  # a session ended while the cache was unreachable stays ended
