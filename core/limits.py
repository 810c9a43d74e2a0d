"""Lengths of free text that every surface (portal forms, API serializers, services) applies alike."""

# A note on a stage move, the reason for a pause or a withdrawal (of a track or an announcement).
REASON_MAX_LENGTH = 5000
