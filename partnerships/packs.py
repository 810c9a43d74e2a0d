"""Briefing packs: one PDF of the briefs of several countries (a region, a grouping or a selection), built by a task.

Each brief is generated for the user who asked, with their rights at the time it is built (``briefing.country_briefing``),
and laid out as its own document before the pages are joined: the confidential mark, a running string of the brief's
stylesheet, appears on the pages of the briefs that hold something confidential, and on no other. Progress (countries
done out of the total) is written on the pack as each brief is laid out. The PDF is stored in the database (every host
reaches it, backups hold it) and deleted ``PACK_KEEP_DAYS`` days after the request.
"""

import datetime
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core import catalogue
from core.broker import safe_enqueue
from core.events import emit
from core.pdf import PdfUnavailable, html_document, join_pdf
from countries.policies import ensure_can_read
from countries.selectors import programme_countries

from .models import BriefingPack

logger = logging.getLogger(__name__)

PACK_KEEP_DAYS = 7
LABEL_MAX = 200


def pack_limit() -> int:
    """A pack holds at most every country of the programme."""
    return programme_countries().count()


@transaction.atomic
def pack_request(*, actor, countries, label: str, language: str | None = None) -> BriefingPack:
    """Ask for a pack of ``countries`` (programme countries only) for ``actor``: refused before any work starts when
    empty or larger than the programme; the build task is queued once the request is saved."""
    ensure_can_read(actor)
    ids = {c.pk for c in countries}
    chosen = list(programme_countries().filter(pk__in=ids))
    if not chosen:
        raise ValidationError(_("Choose at least one country of the programme: the pack would be empty."))
    if len(chosen) > pack_limit():
        raise ValidationError(_("A pack holds at most the %(limit)d countries of the programme.") % {"limit": pack_limit()})
    pack = BriefingPack.objects.create(
        requested_by=actor,
        label=(label or "")[:LABEL_MAX] or _("Briefing pack"),
        language=language or translation.get_language() or "en",
        total=len(chosen),
    )
    pack.countries.set(chosen)
    emit(
        kind=catalogue.BRIEFING_PACK_REQUESTED,
        subject=pack,
        actor=actor,
        payload={"owner_id": actor.pk, "total": pack.total},
    )
    transaction.on_commit(lambda: _enqueue(pack.pk))
    return pack


def _enqueue(pack_id: int) -> None:
    from .tasks import build_briefing_pack

    if not safe_enqueue(build_briefing_pack, args=[pack_id]):
        pack_fail(pack_id, _("The task queue could not be reached. Try again in a few minutes."))


@transaction.atomic
def pack_retry(*, actor, pack: BriefingPack) -> BriefingPack:
    """Build a failed (or stalled) pack again (its owner only)."""
    pack = BriefingPack.objects.select_for_update().get(pk=pack.pk, requested_by=actor)
    if not pack.may_retry:
        raise ValidationError(_("Only a pack that failed, or that has waited for more than 30 minutes, can be built again."))
    pack.status, pack.done, pack.error, pack.finished_at = BriefingPack.Status.PENDING, 0, "", None
    pack.save(update_fields=["status", "done", "error", "finished_at"])
    transaction.on_commit(lambda: _enqueue(pack.pk))
    return pack


def pack_fail(pack_id: int, error: str) -> None:
    with transaction.atomic():
        pack = BriefingPack.objects.select_for_update().filter(pk=pack_id).first()
        if pack is None or pack.status == BriefingPack.Status.READY:
            return
        pack.status, pack.error, pack.finished_at = BriefingPack.Status.FAILED, error[:2000], timezone.now()
        pack.save(update_fields=["status", "error", "finished_at"])
        emit(
            kind=catalogue.BRIEFING_PACK_FAILED,
            subject=pack,
            payload={"owner_id": pack.requested_by_id, "error": pack.error[:300]},
        )


def _brief_html(user, country) -> str:
    from .briefing import country_briefing

    brief = country_briefing(user=user, country=country)
    return render_to_string("partnerships/briefing.html", {"brief": brief, "country": country, "for_pdf": True})


def build_pack(pack_id: int) -> BriefingPack | None:
    """Lay out each country's brief for the pack's owner, writing progress as it goes, then store the joined PDF.
    Safe to run twice: a pack already built is left alone."""
    from announcements.services import release_due_without_beat

    pack = BriefingPack.objects.select_related("requested_by").filter(pk=pack_id).first()
    if pack is None or pack.status == BriefingPack.Status.READY:
        return pack
    BriefingPack.objects.filter(pk=pack.pk).update(status=BriefingPack.Status.RUNNING, done=0, error="")
    user = pack.requested_by
    try:
        ensure_can_read(user)
        release_due_without_beat()
        documents = []
        with translation.override(pack.language):
            for country in pack.countries.select_related("status", "partnership").order_by("name_en"):
                documents.append(html_document(_brief_html(user, country)))
                BriefingPack.objects.filter(pk=pack.pk).update(done=F("done") + 1)
            pdf = join_pdf(documents)
    except PdfUnavailable:
        pack_fail(pack.pk, _("This server cannot make PDFs (WeasyPrint or the libraries it needs are missing)."))
        return BriefingPack.objects.get(pk=pack.pk)
    except Exception as exc:  # any failure is shown on the pack's page, which offers to try again
        logger.exception("briefing pack %s failed", pack.pk)
        pack_fail(pack.pk, _("The pack could not be built: %(error)s") % {"error": exc.__class__.__name__ + ": " + str(exc)})
        return BriefingPack.objects.get(pk=pack.pk)
    with transaction.atomic():
        BriefingPack.objects.filter(pk=pack.pk).update(
            status=BriefingPack.Status.READY, pdf=pdf, done=pack.total, finished_at=timezone.now()
        )
        emit(kind=catalogue.BRIEFING_PACK_READY, subject=pack, payload={"owner_id": user.pk, "total": pack.total})
    return BriefingPack.objects.get(pk=pack.pk)


def handle_event(event) -> None:
    """After a person's erasure, the packs that hold a brief of their country are deleted (a PDF cannot be
    scrubbed; its owner can ask for it again). Safe to run twice."""
    if event.kind == catalogue.COUNTERPART_ERASED and event.country_id:
        BriefingPack.objects.filter(countries__id=event.country_id).delete()


def purge_expired_packs(*, now=None) -> int:
    """Delete the packs asked for more than ``PACK_KEEP_DAYS`` days ago (with their PDFs)."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=PACK_KEEP_DAYS)
    deleted, _counts = BriefingPack.objects.filter(created_at__lt=cutoff).delete()
    return deleted
