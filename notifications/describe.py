"""Turn outbox events into sentences for the inbox and e-mails, in the reader's language.

Events carry ids and keys only; names are looked up here, a few queries for a whole page of
notifications (never one per row).
"""

from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from announcements.models import Announcement
from announcements.policies import can_write_announcements
from core import catalogue
from countries.models import Country
from engagements.models import Engagement, FollowUp
from tracks.models import Stage, Track

NOTIFY_KINDS = {
    catalogue.STAGE_MOVED,
    catalogue.STAGE_PAUSED,
    catalogue.STAGE_RESUMED,
    catalogue.STAGE_WITHDRAWN,
    catalogue.ENGAGEMENT_LOGGED,
    catalogue.AGREEMENT_SIGNED,
    catalogue.ANNOUNCEMENT_PUBLISHED,
    catalogue.TRACK_HEALTH_CHANGED,
    catalogue.FOLLOW_UP_REMINDER,
    catalogue.BRIEFING_PACK_READY,
    catalogue.BRIEFING_PACK_FAILED,
}


class Describer:
    """Describes many events with one query per kind of name needed."""

    def __init__(self, events):
        events = list(events)
        country_ids = {e.country_id for e in events if e.country_id}
        self.countries = {c.pk: c for c in Country.objects.filter(pk__in=country_ids)}
        self.tracks = {t.key: t for t in Track.objects.all()}
        self.stages = {(s.track_id, s.key): s for s in Stage.objects.all()}
        ann_ids = [e.subject_id for e in events if e.kind.startswith("announcement.")]
        self.announcements = {str(a.pk): a for a in Announcement.objects.filter(pk__in=ann_ids)} if ann_ids else {}
        fu_ids = [e.subject_id for e in events if e.kind == catalogue.FOLLOW_UP_REMINDER]
        self.follow_ups = {str(f.pk): f for f in FollowUp.objects.filter(pk__in=fu_ids)} if fu_ids else {}

    def _country(self, event) -> str:
        country = self.countries.get(event.country_id)
        return country.name if country else _("the programme")

    def _track(self, key) -> str:
        track = self.tracks.get(key)
        return track.name if track else key or ""

    def _stage(self, track_key, stage_key) -> str:
        track = self.tracks.get(track_key)
        stage = self.stages.get((track.pk, stage_key)) if track else None
        return stage.name if stage else stage_key or ""

    def link(self, event, user=None) -> str | None:
        """The page of what the event is about for ``user`` (the page itself decides what its reader may see), or
        None."""
        subject = event.subject_type
        if event.kind in (catalogue.BRIEFING_PACK_READY, catalogue.BRIEFING_PACK_FAILED):
            return reverse("briefing-pack", args=[event.subject_id])
        if subject == catalogue.subject_type(Engagement):
            return reverse("engagement-detail", args=[event.subject_id])
        if subject == catalogue.subject_type(FollowUp) and event.country_id:
            return reverse("follow-ups") + "?show=all"
        if subject == catalogue.subject_type(Announcement):
            announcement = self.announcements.get(event.subject_id)
            if announcement is not None and announcement.status == Announcement.Status.PUBLISHED and announcement.is_public:
                return reverse("public-announcement", args=[event.subject_id])
            if user is not None and can_write_announcements(user):
                return reverse("announcement-edit", args=[event.subject_id])
            return None
        country = self.countries.get(event.country_id)
        return reverse("country-detail", args=[country.iso2.lower()]) if country else None

    def describe(self, event, language: str | None = None) -> str:
        with translation.override(language or translation.get_language()):
            return self._describe(event)

    def _describe(self, event) -> str:
        p = event.payload if isinstance(event.payload, dict) else {}
        country, track = self._country(event), self._track(p.get("track"))
        if event.kind == catalogue.STAGE_MOVED:
            return _("%(country)s · %(track)s moved from “%(from)s” to “%(to)s”.") % {
                "country": country,
                "track": track,
                "from": self._stage(p.get("track"), p.get("from")),
                "to": self._stage(p.get("track"), p.get("to")),
            }
        if event.kind == catalogue.STAGE_PAUSED:
            return _("%(country)s · %(track)s was paused until %(date)s.") % {
                "country": country,
                "track": track,
                "date": p.get("resume_on", "?"),
            }
        if event.kind == catalogue.STAGE_RESUMED:
            return _("%(country)s · %(track)s resumed at “%(to)s”.") % {
                "country": country,
                "track": track,
                "to": self._stage(p.get("track"), p.get("to")),
            }
        if event.kind == catalogue.STAGE_WITHDRAWN:
            return _("%(country)s · %(track)s was withdrawn.") % {"country": country, "track": track}
        if event.kind == catalogue.ENGAGEMENT_LOGGED:
            tracks = ", ".join(self._track(k) for k in p.get("tracks", [])) or _("no track")
            return _("%(country)s: an engagement was logged (%(tracks)s).") % {"country": country, "tracks": tracks}
        if event.kind == catalogue.AGREEMENT_SIGNED:
            return _("%(country)s: an agreement was recorded.") % {"country": country}
        if event.kind == catalogue.ANNOUNCEMENT_PUBLISHED:
            announcement = self.announcements.get(event.subject_id)
            return _("Announcement published: %(title)s") % {"title": announcement.title if announcement else "?"}
        if event.kind == catalogue.TRACK_HEALTH_CHANGED:
            labels = {"stalled": _("stalled"), "at_risk": _("at risk")}
            return _("%(country)s · %(track)s is now %(health)s.") % {
                "country": country,
                "track": track,
                "health": labels.get(p.get("to"), p.get("to")),
            }
        if event.kind == catalogue.FOLLOW_UP_REMINDER:
            follow_up = self.follow_ups.get(event.subject_id)
            what = follow_up.description if follow_up else "?"
            if p.get("reminder") == "due_tomorrow":
                return _("Follow-up due tomorrow (%(country)s): %(what)s") % {"country": country, "what": what}
            return _("Follow-up overdue (%(country)s): %(what)s") % {"country": country, "what": what}
        if event.kind == catalogue.BRIEFING_PACK_READY:
            return ngettext(
                "Your briefing pack of %(count)d country is ready.",
                "Your briefing pack of %(count)d countries is ready.",
                p.get("total") or 0,
            ) % {"count": p.get("total") or 0}
        if event.kind == catalogue.BRIEFING_PACK_FAILED:
            return _("Your briefing pack could not be built.")
        return event.kind
