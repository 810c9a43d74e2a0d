"""Lengths of free text and the range of dates that every surface (portal forms, API serializers, services) applies alike."""

import datetime

# A note on a stage move, the reason for a pause or a withdrawal (of a track or an announcement).
REASON_MAX_LENGTH = 5000

# The dates a record of the programme can carry (an engagement, a due date, an embargo, an agreement's expiry):
# wide enough for history and for long agreements, narrow enough that year 1 or 9999 is a typo, not a plan.
EARLIEST_DATE = datetime.date(1990, 1, 1)
LATEST_DATE = datetime.date(2100, 12, 31)
