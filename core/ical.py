"""iCalendar (RFC 5545) files, written with the icalendar library: the personal feeds and the one-off downloads.

What every calendar of the portal shares, whatever it holds: one ``VCALENDAR`` with our ``PRODID``; all-day events
for dates (``DTSTART;VALUE=DATE`` with the next day as ``DTEND``, so no time zone can move them to another day) and
timed events in UTC (no ``VTIMEZONE`` to get wrong); a ``UID`` per row, ``<kind>-<pk>@FEED_ID_AUTHORITY``, that never
changes, so a client updates an event instead of adding a second one; ``SEQUENCE`` from the row's version, which every
service write raises, so a changed row replaces the copy a client holds. Events are ``TRANSP:TRANSPARENT``: a
deadline does not make anyone busy.
"""

import datetime
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified
from django.utils import timezone
from icalendar import Calendar, Event, vDuration

PRODID = "-//AI Partnership Programme//Partnership portal//EN"
CONTENT_TYPE = "text/calendar; charset=utf-8"
# How often a subscribed client is asked to fetch again (RFC 7986 REFRESH-INTERVAL, and Outlook's X-PUBLISHED-TTL).
REFRESH = datetime.timedelta(hours=1)


@dataclass(frozen=True)
class Entry:
    """One event: a day (all-day) or a moment (timed, in UTC)."""

    uid: str
    summary: str
    url: str
    sequence: int
    day: datetime.date | None = None
    moment: datetime.datetime | None = None
    description: str = ""

    def key(self) -> tuple:
        """What a client would see change (not DTSTAMP, which is the time of writing): the ETag is made of it."""
        return (self.uid, self.summary, self.url, self.sequence, str(self.day), str(self.moment), self.description)


def uid(kind: str, pk) -> str:
    """The event's identity: the same for the same row in every feed and download, as long as the portal lives."""
    return f"{kind}-{pk}@{settings.FEED_ID_AUTHORITY}"


def absolute(path: str) -> str:
    """A link into the portal: its configured address, never the Host header of whoever fetched the file."""
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def sequence(version: int | None) -> int:
    """RFC 5545 counts revisions from 0; our versions start at 1."""
    return max((version or 1) - 1, 0)


def calendar(entries, *, name: str, stamp: datetime.datetime | None = None, subscribed: bool = False) -> bytes:
    stamp = (stamp or timezone.now()).astimezone(datetime.UTC).replace(microsecond=0)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    if subscribed:
        cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", vDuration(REFRESH))  # an x-property is text unless given its type
    for entry in entries:
        event = Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", stamp)
        if entry.day is not None:
            event.add("dtstart", entry.day)
            event.add("dtend", entry.day + datetime.timedelta(days=1))
        else:
            # A moment, such as an embargo lifting: no DTEND, so it lasts no time (RFC 5545, 3.6.1).
            event.add("dtstart", entry.moment.astimezone(datetime.UTC))
        event.add("summary", entry.summary)
        event.add("description", "\n\n".join(filter(None, [entry.description, entry.url])))
        event.add("url", entry.url)
        event.add("sequence", entry.sequence)
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()


def etag(entries) -> str:
    digest = hashlib.sha256(repr([entry.key() for entry in entries]).encode()).hexdigest()[:32]
    return f'"{digest}"'


def response(request, entries, *, name: str, filename: str, subscribed: bool = False) -> HttpResponse:
    """The calendar as a response: ``text/calendar``, never kept by a shared cache, revalidated on every fetch (an
    unchanged one answers 304 to ``If-None-Match``), not indexed, and not sending its own address on as a referrer."""
    tag = etag(entries)
    if tag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        answer = HttpResponseNotModified()
    else:
        answer = HttpResponse(calendar(entries, name=name, subscribed=subscribed), content_type=CONTENT_TYPE)
        disposition = "inline" if subscribed else "attachment"
        answer["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    answer["ETag"] = tag
    answer["Cache-Control"] = "private, no-cache"
    answer["X-Robots-Tag"] = "noindex, nofollow"
    answer["Referrer-Policy"] = "no-referrer"
    return answer
