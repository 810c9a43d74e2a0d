"""Names of the choice sets in the OpenAPI schema (drf-spectacular ENUM_NAME_OVERRIDES needs module-level paths)."""

from announcements.models import Announcement
from engagements.models import Agreement, Engagement
from infrastructure.models import CapacityPhase, Facility, Organisation
from partnerships.models import Partnership
from tracks.models import Stage

ENGAGEMENT_KIND = Engagement.Kind.choices
AGREEMENT_KIND = Agreement.Kind.choices
STAGE_KIND = Stage.Kind.choices
PARTNERSHIP_STATUS = Partnership.Status.choices
ANNOUNCEMENT_STATUS = Announcement.Status.choices
FACILITY_KIND = Facility.Kind.choices
FACILITY_STATUS = Facility.Status.choices
ORGANISATION_KIND = Organisation.Kind.choices
CAPACITY_PHASE_STATE = CapacityPhase.State.choices
