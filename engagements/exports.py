"""The engagements as a table to download (CSV streamed, XLSX): one line per engagement, read a chunk at a time.

Counterparts are named only (``display_name``: an erased person stays "a counterpart (erased)"); their e-mail and
phone are for their country's writers (``countries.policies.can_see_contact_details``) and never travel in a file.
"""

from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Engagement

# Engagements read per query; their tracks and counterparts are fetched once per chunk (two queries), so a
# download of any length holds one chunk at a time and costs 1 + 2 x (rows / chunk) queries.
CHUNK_SIZE = 1000


def headers() -> list[str]:
    return [
        _("Id"),
        _("Date"),
        _("Country"),
        _("ISO code"),
        _("Kind"),
        _("Tracks"),
        _("Counterparts"),
        _("Summary"),
        _("Outcome"),
        _("Sensitivity"),
        _("Logged by"),
        _("Logged at (%(zone)s)") % {"zone": timezone.get_current_timezone_name()},
    ]


def rows(engagements, chunk_size: int | None = None):
    """One list of values per engagement of ``engagements`` (``selectors.engagements_for_export``), in its order."""
    # The labels once, in the language of the request (``get_FOO_display`` looks each one up again, per row).
    kinds = {key: str(label) for key, label in Engagement.Kind.choices}
    sensitivities = {key: str(label) for key, label in Engagement.Sensitivity.choices}
    for engagement in engagements.iterator(chunk_size=chunk_size or CHUNK_SIZE):
        logged_by = engagement.logged_by
        yield [
            engagement.pk,
            engagement.occurred_on,
            engagement.country.name,
            engagement.country.iso2,
            kinds.get(engagement.kind, engagement.kind),
            "; ".join(track.name for track in engagement.track_list),
            "; ".join(str(person.display_name) for person in engagement.counterpart_list),
            engagement.summary,
            engagement.outcome,
            sensitivities.get(engagement.sensitivity, engagement.sensitivity),
            (logged_by.get_full_name() or logged_by.get_username()) if logged_by else "",
            engagement.created_at,
        ]
