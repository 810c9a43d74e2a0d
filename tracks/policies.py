"""The rules about tracks that other apps' services apply."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def ensure_active_tracks(tracks) -> list:
    """Only an active track can be named on a new or edited record (an engagement, agreement, announcement)."""
    tracks = list(tracks or [])
    inactive = [t for t in tracks if not t.is_active]
    if inactive:
        raise ValidationError({"tracks": _("Track “%(track)s” is no longer active.") % {"track": inactive[0].name}})
    return tracks
