"""Atom 1.0 feeds of the published public announcements: the whole programme, one country, one track.

Each entry's id is a tag URI built from ``FEED_ID_AUTHORITY``, the publication date and the announcement's
id, so it never changes once published, whatever host serves the feed (an edit updates the entry's
``updated`` time, not its id).
"""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext_lazy as _

from core import country_codes
from countries.models import Country
from tracks.models import Track

from .selectors import public_announcements
from .services import release_due_without_beat

FEED_ITEMS = 50


class AnnouncementFeed(Feed):
    feed_type = Atom1Feed
    title = _("AI Partnership Programme: announcements")
    subtitle = _("Published announcements of the programme's partnerships.")
    author_name = _("AI Partnership Programme")

    def feed_guid(self, obj=None):
        # The feed's own id, like its entries': a tag URI that does not depend on the host serving it.
        return f"tag:{settings.FEED_ID_AUTHORITY},2026:announcements"

    def __call__(self, request, *args, **kwargs):
        release_due_without_beat()
        return super().__call__(request, *args, **kwargs)

    def link(self, obj=None):
        return reverse("public-announcements")

    def feed_url(self, obj=None):
        return reverse("announcement-feed")

    def items(self, obj=None):
        return public_announcements()[:FEED_ITEMS]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        # The body is plain text: escaped, then paragraphs, so HTML typed in it reaches readers as text.
        return linebreaks(escape(item.body))

    def item_link(self, item):
        return reverse("public-announcement", args=[item.pk])

    def item_guid(self, item):
        # tag:<authority>,<publication date>:announcement:<id> - the same whatever host serves the feed.
        return f"tag:{settings.FEED_ID_AUTHORITY},{item.published_at:%Y-%m-%d}:announcement:{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return max(item.published_at, item.updated_at)

    def item_categories(self, item):
        return [track.name for track in item.tracks.all()] + [country.name for country in item.countries.all()]


class CountryAnnouncementFeed(AnnouncementFeed):
    def get_object(self, request, code):
        return get_object_or_404(Country, iso2=country_codes.parse(code) or "")

    def feed_guid(self, obj):
        return f"tag:{settings.FEED_ID_AUTHORITY},2026:announcements:country:{obj.iso2.lower()}"

    def title(self, obj):
        return _("AI Partnership Programme: announcements about %(country)s") % {"country": obj.name}

    def link(self, obj):
        return reverse("public-announcements") + f"?country={obj.iso2.lower()}"

    def feed_url(self, obj):
        return reverse("announcement-feed-country", args=[obj.iso2.lower()])

    def items(self, obj):
        return public_announcements().filter(countries=obj)[:FEED_ITEMS]


class TrackAnnouncementFeed(AnnouncementFeed):
    def get_object(self, request, key):
        return get_object_or_404(Track, key=key, is_active=True)

    def feed_guid(self, obj):
        return f"tag:{settings.FEED_ID_AUTHORITY},2026:announcements:track:{obj.key}"

    def title(self, obj):
        return _("AI Partnership Programme: announcements on %(track)s") % {"track": obj.name}

    def link(self, obj):
        return reverse("public-announcements") + f"?track={obj.key}"

    def feed_url(self, obj):
        return reverse("announcement-feed-track", args=[obj.key])

    def items(self, obj):
        return public_announcements().filter(tracks=obj)[:FEED_ITEMS]
