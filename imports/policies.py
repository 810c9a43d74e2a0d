"""Who imports: programme staff anything, a liaison for their own countries (each row's country is checked by the
writer rule, ``countries.policies``); an import's page and report are for the person who uploaded it and staff."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from core import roles


def can_import(user) -> bool:
    return roles.is_programme_staff(user) or roles.is_liaison(user)


def ensure_can_import(user) -> None:
    if not can_import(user):
        raise PermissionDenied(_("Only programme staff and liaisons may import spreadsheets."))


def visible_jobs_q(user):
    from django.db.models import Q

    return Q() if roles.is_programme_staff(user) else Q(uploaded_by=user)


def ensure_can_see_job(user, job) -> None:
    if not (roles.is_programme_staff(user) or (job.uploaded_by_id and job.uploaded_by_id == user.pk)):
        raise PermissionDenied(_("This import is someone else's."))
