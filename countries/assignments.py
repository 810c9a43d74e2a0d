"""A liaison assignment decides what its user sees and writes (confidential engagements, write forms, drafts of
announcements), so any change to one, however it is made (a service, the admin's country page, a cascade from a
deleted user or country), moves the data version that cached pages depend on and drops the user's cached API
tokens (``core.api.auth_cache.forget_users``). Derived data only: no rule is decided here."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core.api.auth_cache import forget_users

from .models import LiaisonAssignment


@receiver(post_save, sender=LiaisonAssignment)
@receiver(post_delete, sender=LiaisonAssignment)
def _assignment_changed(sender, instance, **kwargs):
    forget_users([instance.user_id])
