"""Illustrative demo data for the portal: a made-up, deterministic programme (``manage.py seed_demo``).

This module is a data generator, not a write path of the application. For speed it writes rows
with ``bulk_create`` (engagements, their track and counterpart links, follow-ups, stage history,
agreements, facilities...) and does not call the per-row services, so it emits no outbox events
and writes no per-row history. It keeps the rules those services enforce instead:

- every country-track's history chains from ``None -> not started`` to its current stage, each
  change starting where the previous one ended, all within the last two years; moving back down
  the ladder carries a note; ``stage``, ``ladder_stage`` and ``stage_changed_at`` match the last
  change;
- paused tracks have a reason and a resume date in the future; a withdrawn track has a reason;
- engagements, signatures and publications are in the past, embargoes in the future;
- counterparts linked to an engagement were in post on its date.

It then runs the status rollup once. The same seed on the same day gives the same data: every
random choice comes from ``random.Random`` seeded from ``seed`` and all dates are relative to
``timezone.localdate()``. Every person, ministry, company and facility name is invented.
"""

import bisect
import datetime
import random
from collections import Counter
from decimal import Decimal

from auditlog.context import disable_auditlog
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from announcements.models import Announcement
from core import roles
from core.models import DemoDataset, Event
from countries.models import Counterpart, Country, CountryStatus, LiaisonAssignment
from engagements.models import Agreement, Engagement, FollowUp
from infrastructure.models import CapacityPhase, Facility, FacilityPartner, Organisation
from partnerships.models import CountryTrack, Partnership, StageChange
from partnerships.rollup import rollup_countries
from tracks.models import Stage, Track

DEMO_CACHE_KEY = "portal:demo-dataset"
DEFAULT_SEED = 2026
DEFAULT_COUNTRIES = 35
DEFAULT_ENGAGEMENTS = 600
DEFAULT_PASSWORD = "demo-password"
HISTORY_DAYS = 725  # stage history stays within the last ~two years
CHUNK = 5000  # engagements written per round (keeps memory flat on big runs)

# --- users --------------------------------------------------------------------------------------

# username, first name, last name, role group (None: superuser only), is_staff, is_superuser
DEMO_USERS = [
    ("demo-admin", "Demo", "Administrator", None, True, True),
    ("demo-staff", "Demo", "Programme Staff", roles.STAFF, True, False),
    ("demo-liaison", "Demo", "Liaison", roles.LIAISON, False, False),
    ("demo-viewer", "Demo", "Viewer", roles.VIEWER, False, False),
    ("demo-liaison-2", "Demo", "Liaison Two", roles.LIAISON, False, False),
    ("demo-liaison-3", "Demo", "Liaison Three", roles.LIAISON, False, False),
    ("demo-liaison-4", "Demo", "Liaison Four", roles.LIAISON, False, False),
    ("demo-liaison-5", "Demo", "Liaison Five", roles.LIAISON, False, False),
]
DEMO_USERNAMES = [spec[0] for spec in DEMO_USERS]
MAIN_LIAISON = "demo-liaison"
OTHER_LIAISONS = ["demo-liaison-2", "demo-liaison-3", "demo-liaison-4", "demo-liaison-5"]
# demo-liaison covers GB, FR and NO, plus these three when they are in the demo.
MAIN_LIAISON_COUNTRIES = ("GB", "FR", "NO", "KE", "JP", "NZ")

# --- countries ----------------------------------------------------------------------------------

NAMED_COUNTRIES = ("GB", "FR", "DE", "NO", "AE", "IN", "JP", "KE", "BR")
# After the named ones, in this order: every UN region early on, 35 countries in all.
PREFERRED_COUNTRIES = (
    "NZ", "SG", "CA", "NG", "KR", "ZA", "MX", "EE", "ID", "CL", "RW", "SA", "PL", "FJ",
    "VN", "GH", "CO", "IE", "MY", "MA", "KZ", "NL", "UY", "EG", "SE", "PH",
)  # fmt: skip
# How far along the named countries are (0 = just in the pipeline, 1 = operational everywhere).
NAMED_MATURITY = {"GB": 0.85, "FR": 0.75, "DE": 0.6, "NO": 0.7, "AE": 0.8, "IN": 0.6, "JP": 0.55, "KE": 0.5, "BR": 0.45}

# Real cities (approximate coordinates) where invented facilities can sit; other countries get
# facilities whose site is still to be chosen (no coordinates).
CITIES = {
    "GB": [
        ("London", 51.507, -0.128),
        ("Manchester", 53.480, -2.242),
        ("Edinburgh", 55.953, -3.189),
        ("Cardiff", 51.481, -3.179),
    ],
    "FR": [("Paris", 48.857, 2.352), ("Marseille", 43.296, 5.370), ("Lyon", 45.764, 4.836), ("Grenoble", 45.188, 5.724)],
    "DE": [("Frankfurt", 50.110, 8.682), ("Berlin", 52.520, 13.405), ("Munich", 48.137, 11.575), ("Leipzig", 51.340, 12.375)],
    "NO": [("Oslo", 59.914, 10.752), ("Stavanger", 58.970, 5.733), ("Bergen", 60.391, 5.322), ("Trondheim", 63.430, 10.395)],
    "AE": [("Abu Dhabi", 24.454, 54.377), ("Dubai", 25.205, 55.271), ("Sharjah", 25.346, 55.421)],
    "IN": [("Mumbai", 19.076, 72.878), ("Hyderabad", 17.385, 78.487), ("Chennai", 13.083, 80.271), ("Pune", 18.520, 73.857)],
    "JP": [("Tokyo", 35.676, 139.650), ("Osaka", 34.694, 135.502), ("Sapporo", 43.062, 141.354), ("Fukuoka", 33.590, 130.402)],
    "KE": [("Nairobi", -1.292, 36.822), ("Mombasa", -4.043, 39.668), ("Naivasha", -0.717, 36.431)],
    "BR": [("São Paulo", -23.551, -46.633), ("Rio de Janeiro", -22.907, -43.173), ("Fortaleza", -3.732, -38.527)],
    "NZ": [("Auckland", -36.848, 174.763), ("Christchurch", -43.532, 172.637), ("Wellington", -41.287, 174.776)],
    "SG": [("Singapore", 1.352, 103.820)],
    "CA": [("Montreal", 45.502, -73.567), ("Toronto", 43.653, -79.383), ("Calgary", 51.045, -114.072)],
    "NG": [("Lagos", 6.524, 3.379), ("Abuja", 9.076, 7.398)],
    "KR": [("Seoul", 37.567, 126.978), ("Busan", 35.180, 129.076), ("Daejeon", 36.351, 127.385)],
    "ZA": [("Johannesburg", -26.204, 28.047), ("Cape Town", -33.925, 18.424), ("Durban", -29.858, 31.022)],
    "MX": [("Querétaro", 20.588, -100.390), ("Mexico City", 19.433, -99.133), ("Monterrey", 25.686, -100.316)],
    "EE": [("Tallinn", 59.437, 24.754), ("Tartu", 58.378, 26.729)],
    "ID": [("Jakarta", -6.208, 106.846), ("Batam", 1.045, 104.031), ("Surabaya", -7.257, 112.752)],
    "CL": [("Santiago", -33.449, -70.669), ("Valparaíso", -33.047, -71.613)],
    "RW": [("Kigali", -1.944, 30.062)],
    "SA": [("Riyadh", 24.713, 46.675), ("Jeddah", 21.486, 39.193), ("Dammam", 26.421, 50.089)],
    "PL": [("Warsaw", 52.230, 21.012), ("Kraków", 50.065, 19.945), ("Poznań", 52.406, 16.925)],
    "FJ": [("Suva", -18.142, 178.442)],
    "VN": [("Hanoi", 21.028, 105.834), ("Ho Chi Minh City", 10.823, 106.630)],
    "GH": [("Accra", 5.604, -0.187), ("Kumasi", 6.688, -1.624)],
    "CO": [("Bogotá", 4.711, -74.072), ("Medellín", 6.244, -75.581)],
    "IE": [("Dublin", 53.350, -6.260), ("Cork", 51.899, -8.476)],
    "MY": [("Johor Bahru", 1.493, 103.741), ("Kuala Lumpur", 3.139, 101.687), ("Cyberjaya", 2.922, 101.650)],
    "MA": [("Casablanca", 33.573, -7.590), ("Rabat", 34.020, -6.841)],
    "KZ": [("Astana", 51.161, 71.470), ("Almaty", 43.222, 76.851)],
    "NL": [("Amsterdam", 52.368, 4.904), ("Groningen", 53.219, 6.567), ("Eindhoven", 51.441, 5.470)],
    "UY": [("Montevideo", -34.901, -56.164)],
    "EG": [("Cairo", 30.044, 31.236), ("Alexandria", 31.200, 29.918)],
    "SE": [("Stockholm", 59.329, 18.069), ("Luleå", 65.584, 22.155)],
    "PH": [("Manila", 14.600, 120.984), ("Cebu City", 10.316, 123.885)],
    "AU": [("Sydney", -33.869, 151.209), ("Melbourne", -37.814, 144.963), ("Perth", -31.951, 115.861)],
    "FI": [("Helsinki", 60.170, 24.938), ("Kajaani", 64.227, 27.728)],
    "DK": [("Copenhagen", 55.676, 12.568), ("Aarhus", 56.163, 10.204)],
    "IT": [("Milan", 45.464, 9.190), ("Bologna", 44.495, 11.343), ("Rome", 41.903, 12.496)],
    "ES": [("Madrid", 40.417, -3.704), ("Barcelona", 41.385, 2.173)],
    "PT": [("Lisbon", 38.722, -9.139), ("Sines", 37.956, -8.870)],
    "CH": [("Zurich", 47.377, 8.541), ("Lugano", 46.004, 8.951)],
    "AR": [("Buenos Aires", -34.604, -58.382), ("Córdoba", -31.420, -64.189)],
    "SN": [("Dakar", 14.716, -17.467)],
    "ET": [("Addis Ababa", 9.030, 38.740)],
    "TH": [("Bangkok", 13.756, 100.502), ("Chonburi", 13.361, 100.985)],
    "BD": [("Dhaka", 23.810, 90.412)],
    "JM": [("Kingston", 17.971, -76.793)],
    "TR": [("Istanbul", 41.008, 28.978), ("Ankara", 39.933, 32.860)],
    "GR": [("Athens", 37.984, 23.728)],
    "AT": [("Vienna", 48.208, 16.373)],
    "BE": [("Brussels", 50.850, 4.352)],
    "CZ": [("Prague", 50.075, 14.438)],
    "RO": [("Bucharest", 44.427, 26.103)],
    "TZ": [("Dar es Salaam", -6.792, 39.208)],
    "UG": [("Kampala", 0.348, 32.582)],
    "CR": [("San José", 9.928, -84.091)],
    "PE": [("Lima", -12.046, -77.043)],
    "TT": [("Port of Spain", 10.654, -61.502)],
    "LK": [("Colombo", 6.927, 79.861)],
    "MN": [("Ulaanbaatar", 47.886, 106.906)],
    "UZ": [("Tashkent", 41.299, 69.240)],
    "OM": [("Muscat", 23.588, 58.383)],
    "BH": [("Manama", 26.229, 50.586)],
    "JO": [("Amman", 31.954, 35.911)],
    "TN": [("Tunis", 36.806, 10.182)],
    "CI": [("Abidjan", 5.360, -4.008)],
    "ZM": [("Lusaka", -15.387, 28.322)],
    "BW": [("Gaborone", -24.628, 25.923)],
    "NA": [("Windhoek", -22.560, 17.066)],
    "MU": [("Port Louis", -20.161, 57.501)],
    "IS": [("Reykjavík", 64.147, -21.942)],
    "LT": [("Vilnius", 54.687, 25.280)],
    "LV": [("Riga", 56.950, 24.105)],
    "SI": [("Ljubljana", 46.057, 14.506)],
    "HR": [("Zagreb", 45.815, 15.982)],
    "PA": [("Panama City", 8.982, -79.519)],
    "DO": [("Santo Domingo", 18.486, -69.931)],
    "EC": [("Quito", -0.181, -78.468)],
    "WS": [("Apia", -13.833, -171.767)],
    "TO": [("Nukuʻalofa", -21.139, -175.204)],
    "NP": [("Kathmandu", 27.717, 85.324)],
    "KH": [("Phnom Penh", 11.556, 104.928)],
    "LU": [("Luxembourg", 49.611, 6.130)],
}

# --- invented people, bodies and texts ----------------------------------------------------------

FIRST_NAMES = (
    "Amara", "Bjorn", "Chen", "Daniela", "Emeka", "Farah", "Gustavo", "Hana", "Ingrid", "Jomo",
    "Kiran", "Leila", "Mateus", "Nadia", "Oluwaseun", "Priya", "Quentin", "Rania", "Soren", "Tomoko",
    "Ulla", "Vikram", "Wanjiru", "Xavier", "Yasmin", "Zanele", "Aiko", "Bruno", "Camille", "Dev",
    "Elif", "Fatima", "Gabriel", "Hiroshi", "Ines", "Jonas", "Lucia", "Malik", "Noor", "Olga",
)  # fmt: skip
LAST_NAMES = (
    "Adeyemi", "Bergstrom", "Castillo", "Dubois", "Eriksen", "Fernandes", "Gupta", "Haddad", "Ishikawa",
    "Jansen", "Kamau", "Larsen", "Mendes", "Nakamura", "Okafor", "Petrova", "Quinlan", "Rahman", "Schneider",
    "Takeda", "Umarova", "Varga", "Wojcik", "Xu", "Yilmaz", "Zulu", "Moreau", "Achterberg", "Banda", "Costa",
)  # fmt: skip
MINISTRIES = (
    "Ministry of Digital Affairs",
    "National AI Office",
    "Ministry of Education and Skills",
    "Ministry of Finance",
    "Ministry of Energy",
    "Digital Government Agency",
    "National Standards Bureau",
    "Office of the Prime Minister",
    "Ministry of Science and Innovation",
    "Ministry of Labour",
)
TITLES = (
    "Permanent Secretary",
    "Director-General for Digital Government",
    "Chief AI Officer",
    "Head of Compute Strategy",
    "Deputy Minister",
    "Senior Adviser on Technology",
    "Director of Skills Policy",
    "Head of Standards",
    "Chief Digital Officer",
    "Special Envoy for Technology",
)
# name, kind, headquarters (ISO alpha-2 or None), what it does in facilities
ORGANISATIONS = (
    ("Northwind Compute", Organisation.Kind.COMPANY, "GB", "builder"),
    ("Meridian Data Centres", Organisation.Kind.COMPANY, "NL", "builder"),
    ("Bluefjord Hyperscale", Organisation.Kind.COMPANY, "NO", "operator"),
    ("Tessellate Cloud", Organisation.Kind.COMPANY, "SG", "operator"),
    ("Granite Peak Infrastructure", Organisation.Kind.COMPANY, "CA", "builder"),
    ("Lumen Grid Systems", Organisation.Kind.COMPANY, "DE", "operator"),
    ("Aurora Silicon", Organisation.Kind.COMPANY, "JP", "chip_supplier"),
    ("Quantix Semiconductors", Organisation.Kind.COMPANY, "KR", "chip_supplier"),
    ("Helix Accelerators", Organisation.Kind.COMPANY, "IN", "chip_supplier"),
    ("Cobalt Ridge Capital", Organisation.Kind.INVESTOR, "AE", "financier"),
    ("Harbourstone Infrastructure Fund", Organisation.Kind.INVESTOR, "GB", "financier"),
    ("Evergreen Sovereign Partners", Organisation.Kind.INVESTOR, "SA", "financier"),
    ("Development Compute Facility", Organisation.Kind.AGENCY, None, "financier"),
    ("Eastbrook Institute of Technology", Organisation.Kind.UNIVERSITY, "FR", "research"),
    ("Lakeshore University Computing Centre", Organisation.Kind.UNIVERSITY, "CA", "research"),
    ("Institute for Applied Computing", Organisation.Kind.UNIVERSITY, "DE", "research"),
    ("Highland Digital Partners", Organisation.Kind.COMPANY, None, "local_partner"),
    ("Coastal Power & Data", Organisation.Kind.COMPANY, None, "local_partner"),
    ("Savanna Cloud Services", Organisation.Kind.COMPANY, "KE", "local_partner"),
    ("Summit Grid Utilities", Organisation.Kind.COMPANY, None, "local_partner"),
    ("Riverside Telecom", Organisation.Kind.COMPANY, "BR", "local_partner"),
    ("Regional Energy Transition Agency", Organisation.Kind.GOVERNMENT, None, "local_partner"),
)
SUPERCOMPUTER_NAMES = (
    "Kestrel", "Baobab", "Condor", "Heron", "Ibis", "Lynx", "Cedar", "Tern", "Osprey", "Marula", "Kauri", "Jacaranda",
)  # fmt: skip
ACCELERATORS = (("H100", 1.0), ("H200", 1.4), ("B200", 2.5), ("MI300X", 1.3), ("GB200", 2.7))

TOPICS = {
    "workforce": (
        "a national AI skills academy",
        "data-literacy training for civil servants",
        "an AI apprenticeship scheme",
        "a teacher-training pilot on AI tools",
        "university scholarships in machine learning",
        "a reskilling fund for workers in affected sectors",
    ),
    "public_services": (
        "an AI assistant for the tax helpline",
        "triage tools for public hospitals",
        "a shared data platform for ministries",
        "machine translation for government services",
        "faster processing of benefit claims",
        "AI support for planning applications",
    ),
    "safety_standards": (
        "a national AI safety institute",
        "evaluation methods for advanced models",
        "a national AI assurance framework",
        "procurement standards for AI systems",
        "joint red-teaming exercises",
        "incident reporting for AI systems",
    ),
    "data_centres": (
        "a sovereign compute facility",
        "the grid connection for a new data centre",
        "a national supercomputer upgrade",
        "renewable power for compute",
        "compute access for universities",
        "site selection for an AI data centre",
    ),
}
GENERAL_TOPICS = (
    "the overall partnership roadmap",
    "the annual programme review",
    "priorities for the coming year",
    "coordination across the partnership's tracks",
)
OUTCOMES = (
    "Agreed to set up a joint working group.",
    "Officials to share a draft proposal within a month.",
    "The ministry asked for costings before committing.",
    "Positive reception; next meeting pencilled in.",
    "Data-protection concerns raised; legal review requested.",
    "Budget approval expected after the next cabinet meeting.",
    "Agreed a list of pilot sites.",
    "",
    "",
)
FOLLOW_UPS = (
    "Send the draft memorandum",
    "Share the costed proposal",
    "Arrange a technical workshop",
    "Circulate the meeting notes to the ministry",
    "Confirm attendees for the next visit",
    "Send the model evaluation methodology",
    "Introduce the ministry to compute partners",
    "Draft terms of reference for the working group",
    "Follow up on the site survey",
    "Request budget figures from the finance ministry",
)
NEXT_STEPS = {
    1: ("Agree the scope of a first project", "Identify a lead ministry"),
    2: ("Send the revised draft memorandum", "Agree the funding split"),
    3: ("Set up the joint steering committee", "Appoint the implementation lead"),
    4: ("Review the first milestone report", "Recruit the first cohort"),
    5: ("Agree the date of the annual review", "Publish the first impact figures"),
}
PAUSE_REASONS = (
    "Elections: talks on hold until a new government is formed.",
    "Budget freeze announced by the finance ministry.",
    "The counterpart ministry is being restructured.",
    "Waiting for the national AI strategy to be published.",
    "The grid capacity study must finish before site talks resume.",
)
WITHDRAW_REASONS = (
    "The government chose to take this work forward with another partner.",
    "No longer a priority after the spending review.",
)
REGRESSION_NOTES = (
    "Negotiations reopened after a change of minister.",
    "The ministry asked to revisit the scope before negotiating further.",
    "Funding model rejected by the treasury; back to exploring options.",
)
RESUME_NOTES = ("Talks resumed after the new minister took office.", "Budget confirmed; work restarts.", "")

# random-fill engagements: kind and weight (signings come only with agreements)
FILL_KINDS = (
    (Engagement.Kind.MEETING, 30),
    (Engagement.Kind.CALL, 30),
    (Engagement.Kind.VISIT, 8),
    (Engagement.Kind.LETTER, 10),
    (Engagement.Kind.WORKSHOP, 12),
    (Engagement.Kind.OTHER, 6),
)
MILESTONE_KINDS = {
    1: (Engagement.Kind.CALL, Engagement.Kind.MEETING),
    2: (Engagement.Kind.MEETING, Engagement.Kind.WORKSHOP),
    3: (Engagement.Kind.SIGNING,),
    4: (Engagement.Kind.WORKSHOP, Engagement.Kind.VISIT),
    5: (Engagement.Kind.VISIT,),
}


# --- users --------------------------------------------------------------------------------------


def lower(name: str) -> str:
    """Lower-case a name for use mid-sentence, keeping acronyms ("AI safety standards")."""
    return name if name[:2].isupper() else name[:1].lower() + name[1:]


def ensure_demo_users(password: str) -> dict:
    """Create or update the demo users (roles and password set on every run). Returns them by username."""
    User = get_user_model()
    groups = {g.name: g for g in Group.objects.filter(name__in=roles.ALL_ROLES)}
    missing = set(roles.ALL_ROLES) - set(groups)
    for name in sorted(missing):
        groups[name] = Group.objects.create(name=name)
    # One hash for all: they share the password anyway, and hashing is deliberately slow.
    encoded = make_password(password)
    users = {}
    for username, first, last, role, is_staff, is_superuser in DEMO_USERS:
        user, _created = User.objects.get_or_create(username=username)
        user.first_name, user.last_name, user.email = first, last, f"{username}@example.org"
        user.is_staff, user.is_superuser, user.is_active = is_staff, is_superuser, True
        user.password = encoded
        user.save()
        user.groups.set([groups[role]] if role else [])
        users[username] = user
    return users


# --- reset --------------------------------------------------------------------------------------

RESET_EVENT_SUBJECTS = (
    "partnerships.partnership", "partnerships.countrytrack", "partnerships.stagechange", "partnerships.engagement",
    "partnerships.followup", "partnerships.agreement", "partnerships.announcement", "infrastructure.organisation",
    "infrastructure.facility", "infrastructure.capacityphase", "infrastructure.facilitypartner",
    "countries.counterpart", "countries.liaisonassignment",
)  # fmt: skip


def reset_demo_data() -> dict:
    """Delete all partnership, infrastructure and counterpart data, demo liaison assignments, their
    outbox events, country statuses and the demo marker. Tracks, stages, countries and users stay."""
    deleted = Counter()

    def wipe(qs, label):
        n, _by_model = qs.delete()
        deleted[label] += n

    # Children first, so each delete is a plain DELETE rather than a cascade collected in Python.
    wipe(StageChange.objects.all(), "stage changes")
    wipe(FollowUp.objects.all(), "follow-ups")
    wipe(Engagement.tracks.through.objects.all(), "links")
    wipe(Engagement.counterparts.through.objects.all(), "links")
    for field in ("countries", "tracks", "agreements", "facilities"):
        wipe(getattr(Announcement, field).through.objects.all(), "links")
    wipe(Announcement.objects.all(), "announcements")
    wipe(Agreement.tracks.through.objects.all(), "links")
    wipe(Agreement.objects.all(), "agreements")
    deleted["engagements"] += _delete_all_unreferenced(Engagement)
    wipe(CountryTrack.objects.all(), "country tracks")
    wipe(Partnership.objects.all(), "partnerships")
    wipe(CountryStatus.objects.all(), "country statuses")
    wipe(FacilityPartner.objects.all(), "facility partners")
    wipe(CapacityPhase.objects.all(), "capacity phases")
    wipe(Facility.objects.all(), "facilities")
    wipe(Organisation.objects.all(), "organisations")
    wipe(Counterpart.objects.filter(merged_into__isnull=False), "counterparts")  # they point at the ones kept
    wipe(Counterpart.objects.all(), "counterparts")
    wipe(LiaisonAssignment.objects.filter(user__username__in=DEMO_USERNAMES), "liaison assignments")
    wipe(Event.objects.filter(subject_type__in=RESET_EVENT_SUBJECTS), "events")
    wipe(DemoDataset.objects.all(), "demo datasets")
    cache.delete(DEMO_CACHE_KEY)
    return dict(deleted)


def _delete_all_unreferenced(model) -> int:
    """Delete every row of ``model`` in one statement once nothing refers to them any more.

    Django's cascading delete loads every row to look for dependants; for 100,000 engagements that
    takes seconds although ``reset_demo_data`` has already deleted their dependants. If some row
    still refers to the table (a model added later, say), fall back to the cascading delete.
    """
    reverse = [f for f in model._meta.get_fields(include_hidden=True) if f.auto_created and not f.concrete]
    for rel in reverse:
        if (rel.one_to_many or rel.one_to_one) and rel.related_model._base_manager.filter(
            **{f"{rel.field.name}__isnull": False}
        ).exists():
            return model.objects.all().delete()[0]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
        return cursor.rowcount


def demo_data_present() -> bool:
    return DemoDataset.objects.exists() or Partnership.objects.exists()


# --- the plan -----------------------------------------------------------------------------------


class CountryPlan:
    __slots__ = ("country", "index", "maturity", "started_on", "liaison", "cells", "counterparts", "partnership", "cities")

    def __init__(self, country, index):
        self.country = country
        self.index = index
        self.cells = []
        self.counterparts = []
        self.cities = CITIES.get(country.iso2, [])


class CellPlan:
    """One country-track: its target, its fate (health it should show) and its stage history."""

    __slots__ = (
        "cp", "track", "target", "final", "health", "moves", "timeline_dates", "timeline_states",
        "instance", "agreements", "first_active_on",
    )  # fmt: skip

    def __init__(self, cp, track, target):
        self.cp, self.track, self.target = cp, track, target
        self.final = "ladder"  # or "paused", "withdrawn"
        self.health = ""  # on_track / at_risk / stalled for active cells; "" for the rest
        self.moves = []  # [date, datetime, to_stage, note, milestone engagement spec or None, agreement or None]
        self.agreements = {}
        self.first_active_on = None

    def active_on(self, day) -> bool:
        i = bisect.bisect_right(self.timeline_dates, day) - 1
        return i >= 0 and self.timeline_states[i] >= 1


class EngagementSpec:
    __slots__ = (
        "cp", "day", "kind", "summary", "outcome", "confidential", "tracks", "counterparts", "logged_by", "follow_ups",
        "milestone", "instance",
    )  # fmt: skip

    def __init__(self, cp, day, kind, summary, outcome, confidential, tracks, counterparts, logged_by):
        self.cp, self.day, self.kind, self.summary, self.outcome = cp, day, kind, summary, outcome
        self.confidential, self.tracks, self.counterparts, self.logged_by = confidential, tracks, counterparts, logged_by
        self.follow_ups = []
        self.milestone = False  # evidence of a stage move: keep the saved row for the StageChange
        self.instance = None


class DemoBuilder:
    """Plans the whole programme in memory from the seed, then writes it with a few bulk inserts."""

    def __init__(self, *, seed: int, countries: int, engagements: int, users: dict, log=None):
        self.seed = seed
        self.n_countries = countries
        self.n_engagements = engagements
        self.users = users
        self.log = log or (lambda message: None)
        self.now = timezone.now()
        self.today = timezone.localdate(self.now)
        self.tz = timezone.get_current_timezone()
        self.batch = 2000 if connection.vendor != "sqlite" else None
        self.counts = Counter()

    # helpers

    def rng(self, *parts) -> random.Random:
        """An independent stream per concern, so one part of the plan does not shift another."""
        return random.Random(":".join(str(p) for p in (self.seed, *parts)))

    def at(self, day: datetime.date, r: random.Random, start_hour=8, end_hour=18) -> datetime.datetime:
        naive = datetime.datetime.combine(day, datetime.time(r.randint(start_hour, end_hour - 1), r.choice((0, 15, 30, 45))))
        return timezone.make_aware(naive, self.tz)

    def ago(self, days: int) -> datetime.date:
        return self.today - datetime.timedelta(days=days)

    def ahead(self, days: int) -> datetime.date:
        return self.today + datetime.timedelta(days=days)

    def bulk(self, model, objs, label=None):
        if objs:
            model.objects.bulk_create(objs, batch_size=self.batch)
        if label:
            self.counts[label] += len(objs)
        return objs

    # entry point

    def build(self) -> dict:
        self.load_reference()
        self.plan_countries()
        self.log(f"countries: {len(self.plans)}")
        self.assign_liaisons()
        self.plan_cells()
        self.write_partnerships()
        self.write_counterparts()
        self.log(f"counterparts: {self.counts['counterparts']}")
        self.write_agreements()
        self.log(f"agreements: {self.counts['agreements']}")
        self.write_facilities()
        self.log(f"facilities: {self.counts['facilities']} ({self.counts['capacity phases']} capacity phases)")
        self.plan_engagements()
        self.write_engagements()
        self.write_announcements()
        self.log(f"announcements: {self.counts['announcements']}")
        self.write_stage_history()
        self.log(f"stage changes: {self.counts['stage changes']}")
        DemoDataset.objects.all().delete()
        DemoDataset.objects.create(seed=self.seed, countries=len(self.plans), engagements=self.counts["engagements"])
        n = rollup_countries(now=self.now)
        self.log(f"country statuses: {n}")
        cache.delete(DEMO_CACHE_KEY)
        return dict(self.counts)

    def load_reference(self):
        self.tracks = list(Track.objects.filter(is_active=True).order_by("position", "key"))
        stages = list(Stage.objects.filter(track__in=self.tracks).order_by("track_id", "position"))
        self.ladder = {t.pk: [s for s in stages if s.track_id == t.pk and s.kind == Stage.Kind.LADDER] for t in self.tracks}
        self.side = {(s.track_id, s.kind): s for s in stages if s.kind != Stage.Kind.LADDER}
        self.tracks = [t for t in self.tracks if self.ladder[t.pk]]
        self.staff = self.users["demo-staff"]

    def plan_countries(self):
        by_code = {c.iso2: c for c in Country.objects.order_by("iso2")}
        chosen = [code for code in (*NAMED_COUNTRIES, *PREFERRED_COUNTRIES, *CITIES) if code in by_code]
        chosen = list(dict.fromkeys(chosen))
        rest_with_region = sorted(code for code, c in by_code.items() if c.region and code not in chosen)
        self.rng("countries").shuffle(rest_with_region)
        rest_without = sorted(code for code, c in by_code.items() if not c.region and code not in chosen)
        order = chosen + rest_with_region + rest_without
        self.plans = []
        for index, code in enumerate(order[: self.n_countries]):
            cp = CountryPlan(by_code[code], index)
            r = self.rng("country", code)
            if code in NAMED_MATURITY:
                cp.maturity = min(1.0, max(0.0, NAMED_MATURITY[code] + r.uniform(-0.05, 0.05)))
            elif code in PREFERRED_COUNTRIES:
                cp.maturity = r.betavariate(2, 2.5)
            else:
                cp.maturity = r.betavariate(1.4, 3.2)
            days_ago = min(HISTORY_DAYS - 5, int(90 + cp.maturity * 560 + r.randint(0, 70)))
            cp.started_on = self.ago(days_ago)
            self.plans.append(cp)

    def assign_liaisons(self):
        main = self.users[MAIN_LIAISON]
        others = [self.users[name] for name in OTHER_LIAISONS]
        i = 0
        for cp in self.plans:
            if cp.country.iso2 in MAIN_LIAISON_COUNTRIES:
                cp.liaison = main
            else:
                cp.liaison = others[i % len(others)]
                i += 1
        LiaisonAssignment.objects.bulk_create(
            [LiaisonAssignment(user=cp.liaison, country=cp.country) for cp in self.plans],
            ignore_conflicts=True,
            batch_size=self.batch,
        )

    # stage history

    def plan_cells(self):
        for cp in self.plans:
            r = self.rng("targets", cp.country.iso2)
            for track in self.tracks:
                top = len(self.ladder[track.pk]) - 1
                bias = -0.6 if track.key == "data_centres" else 0.0
                target = round(cp.maturity * top + bias + r.gauss(0, 0.9))
                cp.cells.append(CellPlan(cp, track, max(0, min(top, target))))
            if cp.country.iso2 in NAMED_MATURITY and not any(c.target for c in cp.cells):
                cp.cells[0].target = 1
        self.choose_fates()
        for cp in self.plans:
            for cell in cp.cells:
                self.plan_history(cell)
        self.log(f"country tracks: {sum(len(cp.cells) for cp in self.plans)}")

    def choose_fates(self):
        """Pick which cells end paused or withdrawn, and which should show as stalled or at risk."""
        r = self.rng("fates")
        cells = [cell for cp in self.plans for cell in cp.cells]
        climbing = [c for c in cells if c.target >= 1]
        n = len(self.plans)
        pausable = [c for c in climbing if (c.track.pk, Stage.Kind.PAUSED) in self.side]
        for cell in r.sample(pausable, min(len(pausable), max(2 if n >= 6 else 0, round(len(climbing) * 0.06)))):
            cell.final = "paused"
        withdrawable = [
            c for c in climbing
            if c.final == "ladder" and c.target <= 2 and (c.track.pk, Stage.Kind.WITHDRAWN) in self.side
            and c.cp.country.iso2 not in NAMED_COUNTRIES
        ]  # fmt: skip
        for cell in r.sample(withdrawable, min(len(withdrawable), (1 if n >= 5 else 0) + n // 50)):
            cell.final = "withdrawn"
        active = [c for c in climbing if c.final == "ladder"]
        for c in active:
            c.health = "on_track"
        # Stalled needs a history old enough to have gone quiet for more than the threshold.
        old_enough = [c for c in active if (self.today - c.cp.started_on).days >= 150]
        n_stalled = min(len(old_enough), max(1 if active else 0, round(len(active) * 0.06)))
        for c in r.sample(old_enough, n_stalled):
            c.health = "stalled"
        healthy = [c for c in active if c.health == "on_track"]
        n_risk = min(len(healthy), max(2, round(len(active) * 0.10)))
        for c in r.sample(healthy, n_risk):
            c.health = "at_risk"

    def plan_history(self, cell: CellPlan):
        r = self.rng("history", cell.cp.country.iso2, cell.track.key)
        ladder = self.ladder[cell.track.pk]
        # ("ladder", position, note) or ("paused" / "withdrawn", None, reason)
        climb = []
        paused_before = False
        for pos in range(1, cell.target + 1):
            climb.append(("ladder", pos, ""))
            if pos == 2 and cell.target >= 3 and r.random() < 0.12:
                climb.append(("ladder", 1, r.choice(REGRESSION_NOTES)))  # moving back needs a note
                climb.append(("ladder", 2, ""))
            if pos < cell.target and not paused_before and (cell.track.pk, Stage.Kind.PAUSED) in self.side and r.random() < 0.06:
                climb.append(("paused", None, r.choice(PAUSE_REASONS)))
                climb.append(("ladder", pos, r.choice(RESUME_NOTES)))  # resuming returns to the rung reached
                paused_before = True
        lo = cell.cp.started_on + datetime.timedelta(days=3)
        side, side_day = None, None
        if cell.final == "paused":
            side, side_day = ("paused", None, r.choice(PAUSE_REASONS)), self.ago(r.randint(7, 150))
        elif cell.final == "withdrawn":
            side, side_day = ("withdrawn", None, r.choice(WITHDRAW_REASONS)), self.ago(r.randint(30, 300))
        if side:
            side_day = min(self.ago(1), max(side_day, lo + datetime.timedelta(days=len(climb) + 1)))
            hi = side_day - datetime.timedelta(days=1)
        elif cell.health == "stalled":
            hi = self.ago(r.randint(80, 200))
            if (hi - lo).days + 1 < len(climb):
                hi = min(self.ago(80), lo + datetime.timedelta(days=len(climb) + 10))
            if (hi - lo).days + 1 < len(climb):
                cell.health, hi = "on_track", self.ago(1)
        else:
            hi = self.ago(1)
        room = (hi - lo).days + 1
        if room < len(climb):  # a young partnership: drop the detours, then the top rungs
            climb = [("ladder", p, "") for p in range(1, cell.target + 1)][: max(0, room)]
        days = sorted(r.sample(range(room), len(climb))) if climb else []
        dates = [lo + datetime.timedelta(days=d) for d in days]
        if side:
            climb.append(side)
            dates.append(side_day)
        start_dt = timezone.make_aware(datetime.datetime.combine(cell.cp.started_on, datetime.time(9, 0)), self.tz)
        cell.moves = [[cell.cp.started_on, start_dt, ladder[0], "", None, None]]
        states, position = [0], 0
        for (kind, pos, note), day in zip(climb, dates, strict=True):
            if kind == "ladder":
                stage, position = ladder[pos], pos
            else:
                stage = self.side[(cell.track.pk, Stage.Kind.PAUSED if kind == "paused" else Stage.Kind.WITHDRAWN)]
            cell.moves.append([day, self.at(day, r), stage, note, None, None])
            states.append(position if kind == "ladder" else -1)
            if kind == "ladder" and position >= 1 and cell.first_active_on is None:
                cell.first_active_on = day
        cell.timeline_dates = [m[0] for m in cell.moves]
        cell.timeline_states = states
        if states[-1] < 1:
            cell.health = ""  # not started (or paused / withdrawn): no health to show

    # writes: partnerships and cells

    def write_partnerships(self):
        partnerships, cts = [], []
        for cp in self.plans:
            r = self.rng("partnership", cp.country.iso2)
            positions = [c.moves[-1][2].position if c.moves[-1][2].kind == Stage.Kind.LADDER else -1 for c in cp.cells]
            ladder_max = max((m[2].position for c in cp.cells for m in c.moves if m[2].kind == Stage.Kind.LADDER), default=0)
            if max(positions, default=0) >= 1:
                status = Partnership.Status.PARTNERED if max(positions) >= 3 else Partnership.Status.ENGAGED
            elif any(c.final == "paused" for c in cp.cells):
                status = Partnership.Status.PAUSED
            else:
                status = Partnership.Status.ENGAGED if ladder_max >= 1 else Partnership.Status.PIPELINE
            cp.partnership = Partnership(
                country=cp.country,
                status=status,
                lead_liaison=cp.liaison,
                started_on=cp.started_on,
                notes="Illustrative demo partnership: every name and figure is invented.",
            )
            partnerships.append(cp.partnership)
            for cell in cp.cells:
                last = cell.moves[-1]
                ladder_stage = next(m[2] for m in reversed(cell.moves) if m[2].kind == Stage.Kind.LADDER)
                ct = CountryTrack(
                    country=cp.country,
                    track=cell.track,
                    stage=last[2],
                    ladder_stage=ladder_stage,
                    stage_changed_at=last[1],
                    owner=cp.liaison,
                    priority=r.choices(
                        (CountryTrack.Priority.HIGH, CountryTrack.Priority.NORMAL, CountryTrack.Priority.LOW), (2, 6, 2)
                    )[0],
                )
                if cell.final == "paused":
                    ct.pause_reason = last[3]
                    ct.resume_on = self.ahead(r.randint(14, 150))
                    ct.next_step, ct.next_step_due = "Check whether talks can resume", ct.resume_on
                elif cell.final == "withdrawn":
                    ct.pause_reason = last[3]
                elif ladder_stage.position >= 1:
                    ct.next_step = r.choice(NEXT_STEPS.get(ladder_stage.position, NEXT_STEPS[5]))
                    overdue = cell.health == "at_risk" and r.random() < 0.5
                    ct.next_step_due = self.ago(r.randint(2, 20)) if overdue else self.ahead(r.randint(5, 75))
                cell.instance = ct
                cts.append(ct)
        self.bulk(Partnership, partnerships, "partnerships")
        self.bulk(CountryTrack, cts, "country tracks")

    # counterparts

    def write_counterparts(self):
        rows = []
        for cp in self.plans:
            r = self.rng("counterparts", cp.country.iso2)
            names = set()
            domain = f"{cp.country.iso2.lower()}.gov.example"
            for _ in range(r.randint(3, 6)):
                while True:
                    first, last = r.choice(FIRST_NAMES), r.choice(LAST_NAMES)
                    if (first, last) not in names:
                        names.add((first, last))
                        break
                title, org = r.choice(TITLES), r.choice(MINISTRIES)
                active_from = cp.started_on - datetime.timedelta(days=r.randint(0, 500))
                person = Counterpart(
                    country=cp.country,
                    name=f"{first} {last}",
                    title=title,
                    organisation=org,
                    email=f"{first}.{last}@{domain}".lower(),
                    active_from=active_from,
                    notes="Illustrative contact (invented).",
                )
                rows.append(person)
                cp.counterparts.append(person)
                span = (self.ago(10) - active_from).days
                if span > 90 and r.random() < 0.25:  # left the post; a successor took over
                    person.active_to = active_from + datetime.timedelta(days=r.randint(60, span))
                    successor_from = person.active_to + datetime.timedelta(days=r.randint(1, 30))
                    if successor_from < self.today:
                        while True:
                            first, last = r.choice(FIRST_NAMES), r.choice(LAST_NAMES)
                            if (first, last) not in names:
                                names.add((first, last))
                                break
                        successor = Counterpart(
                            country=cp.country,
                            name=f"{first} {last}",
                            title=title,
                            organisation=org,
                            email=f"{first}.{last}@{domain}".lower(),
                            active_from=successor_from,
                            notes=f"Took over from {person.name}. Illustrative contact (invented).",
                        )
                        rows.append(successor)
                        cp.counterparts.append(successor)
        self.bulk(Counterpart, rows, "counterparts")
        self.counts["counterparts who left"] = sum(1 for c in rows if c.active_to)

    def counterparts_on(self, cp, day, r, k):
        present = [c for c in cp.counterparts if c.active_from <= day and (c.active_to is None or c.active_to >= day)]
        return r.sample(present, min(k, len(present)))

    # agreements

    def write_agreements(self):
        agreements, links = [], []
        for cp in self.plans:
            r = self.rng("agreements", cp.country.iso2)
            if cp.maturity > 0.3 and r.random() < 0.4 and any(c.first_active_on for c in cp.cells):
                signed = min(cp.started_on + datetime.timedelta(days=r.randint(10, 60)), self.ago(1))
                a = Agreement(
                    country=cp.country,
                    kind=Agreement.Kind.LETTER_OF_INTENT,
                    title=f"Letter of intent on an AI partnership ({cp.country.name_en})",
                    signed_on=signed,
                    signatory_level=r.choice((Agreement.SignatoryLevel.MINISTER, Agreement.SignatoryLevel.HEAD)),
                    notes="Illustrative agreement (invented).",
                    created_by=self.staff,
                )
                agreements.append(a)
            for cell in cp.cells:
                for move in cell.moves:
                    stage, day = move[2], move[0]
                    if stage.kind != Stage.Kind.LADDER or stage.position not in (3, 4) or stage.position in cell.agreements:
                        continue
                    if stage.position == 3:
                        kind = r.choices(
                            (Agreement.Kind.MOU, Agreement.Kind.LETTER_OF_INTENT, Agreement.Kind.BINDING), (6, 3, 1)
                        )[0]
                    elif r.random() < 0.5:
                        kind = Agreement.Kind.BINDING
                    else:
                        continue
                    label = {
                        Agreement.Kind.MOU: "Memorandum of understanding",
                        Agreement.Kind.LETTER_OF_INTENT: "Letter of intent",
                        Agreement.Kind.BINDING: "Implementation agreement" if stage.position == 4 else "Agreement",
                    }[kind]
                    a = Agreement(
                        country=cp.country,
                        kind=kind,
                        title=f"{label} on {lower(cell.track.name_en)} ({cp.country.name_en})",
                        signed_on=day,
                        expires_on=day + datetime.timedelta(days=365 * r.randint(2, 5)) if r.random() < 0.5 else None,
                        signatory_level=r.choices(
                            (
                                Agreement.SignatoryLevel.HEAD,
                                Agreement.SignatoryLevel.MINISTER,
                                Agreement.SignatoryLevel.SENIOR_OFFICIAL,
                                Agreement.SignatoryLevel.AGENCY,
                            ),
                            (1, 6, 3, 1),
                        )[0],
                        notes="Illustrative agreement (invented).",
                        created_by=cell.cp.liaison,
                    )
                    a.demo_track = cell.track
                    cell.agreements[stage.position] = a
                    move[5] = a
                    agreements.append(a)
        # A few come up for renewal within the next 90 days.
        r = self.rng("expiring")
        if agreements:
            for a in r.sample(agreements, max(1, round(len(agreements) * 0.12))):
                a.expires_on = self.ahead(r.randint(7, 85))
        self.bulk(Agreement, agreements, "agreements")
        for a in agreements:
            track = getattr(a, "demo_track", None)
            if track is not None:
                links.append(Agreement.tracks.through(agreement_id=a.pk, track_id=track.pk))
        self.bulk(Agreement.tracks.through, links)
        self.agreements = agreements
        self.counts["agreements expiring within 90 days"] = sum(
            1 for a in agreements if a.expires_on and self.today <= a.expires_on <= self.ahead(90)
        )

    # infrastructure

    def write_facilities(self):
        orgs = {}
        rows = []
        codes = {c.iso2: c for c in Country.objects.filter(iso2__in=[o[2] for o in ORGANISATIONS if o[2]])}
        for name, kind, hq, role in ORGANISATIONS:
            org = Organisation(name=name, kind=kind, country=codes.get(hq))
            org.demo_role = role
            rows.append(org)
        self.bulk(Organisation, rows, "organisations")
        for org in rows:
            orgs.setdefault(org.demo_role, []).append(org)

        facilities, phases, partners = [], [], []
        self.facilities = facilities
        for cp in self.plans:
            r = self.rng("facilities", cp.country.iso2)
            dc = next((c for c in cp.cells if c.track.key == "data_centres"), None)
            planned = []
            reached = max((m[2].position for m in dc.moves if m[2].kind == Stage.Kind.LADDER), default=0) if dc else 0
            if reached >= 2:
                for _ in range(1 if reached < 4 else r.randint(1, 2)):
                    planned.append((Facility.Kind.DATA_CENTRE, reached, dc.final == "withdrawn"))
            if cp.maturity > 0.55 and r.random() < 0.5:
                planned.append((Facility.Kind.SUPERCOMPUTER, min(5, round(cp.maturity * 5)), False))
            used_names = set()
            for kind, reached, withdrawn in planned:
                facility = self.plan_facility(cp, r, kind, reached, withdrawn, used_names)
                facilities.append(facility)
                phases.extend(self.plan_phases(facility, r))
                partners.extend(self.plan_partners(facility, r, orgs))
        self.bulk(Facility, facilities, "facilities")
        for phase in phases:
            phase.facility_id = phase.facility.pk
        self.bulk(CapacityPhase, phases, "capacity phases")
        for partner in partners:
            partner.facility_id = partner.facility.pk
        self.bulk(FacilityPartner, partners, "facility partners")

    def plan_facility(self, cp, r, kind, reached, withdrawn, used_names):
        if withdrawn or r.random() < 0.03:
            status = Facility.Status.CANCELLED
        elif kind == Facility.Kind.SUPERCOMPUTER:
            status = r.choice((Facility.Status.PLANNED, Facility.Status.UNDER_CONSTRUCTION, Facility.Status.OPERATIONAL))
        else:
            status = {
                2: r.choice((Facility.Status.PROPOSED, Facility.Status.PLANNED)),
                3: r.choice((Facility.Status.PLANNED, Facility.Status.UNDER_CONSTRUCTION)),
                4: r.choice((Facility.Status.UNDER_CONSTRUCTION, Facility.Status.OPERATIONAL)),
            }.get(reached, Facility.Status.OPERATIONAL if reached >= 5 else Facility.Status.PROPOSED)
        city = r.choice(cp.cities) if cp.cities else None
        while True:
            if kind == Facility.Kind.SUPERCOMPUTER:
                name = f"{r.choice(SUPERCOMPUTER_NAMES)} National Supercomputer"
            elif city:
                name = f"{city[0]} {r.choice(('AI Data Centre', 'Sovereign Cloud Campus', 'Compute Campus', 'AI Factory'))}"
            else:
                name = f"National AI Data Centre {len(used_names) + 1}"
            if name not in used_names:
                used_names.add(name)
                break
        announced = self.ago(r.randint(200, 700) if status == Facility.Status.OPERATIONAL else r.randint(30, 540))
        facility = Facility(
            name=name,
            kind=kind,
            country=cp.country,
            status=status,
            sector=r.choice(Facility.Sector.values),
            announced_on=None if status == Facility.Status.PROPOSED else announced,
            description="Illustrative facility: name, partners and figures are invented."
            + ("" if city else " Site not yet selected."),
        )
        facility.demo_announced = announced
        if city:
            facility.city = city[0]
            facility.latitude = Decimal(f"{city[1] + r.uniform(-0.12, 0.12):.5f}")
            facility.longitude = Decimal(f"{city[2] + r.uniform(-0.12, 0.12):.5f}")
        return facility

    def plan_phases(self, facility, r):
        phases = []
        n = r.randint(1, 3) if facility.kind == Facility.Kind.DATA_CENTRE else r.randint(1, 2)
        announced = facility.demo_announced
        for i in range(n):
            if facility.status == Facility.Status.OPERATIONAL and i == 0:
                online = min(self.ago(1), announced + datetime.timedelta(days=r.randint(120, 400)))
                online = max(online, announced)
                state = CapacityPhase.State.ACTUAL
            else:
                if facility.status == Facility.Status.UNDER_CONSTRUCTION:
                    first = r.randint(90, 540)
                elif facility.status == Facility.Status.OPERATIONAL:
                    first = r.randint(120, 600)
                else:
                    first = r.randint(365, 1100)
                online = self.ahead(first + i * r.randint(270, 540))
                state = CapacityPhase.State.PLANNED
            if facility.kind == Facility.Kind.DATA_CENTRE:
                mw = r.choice((10, 20, 25, 40, 50, 80, 100, 150, 200, 300))
            else:
                mw = r.choice((2, 4, 5, 8, 10, 15, 20, 30))
            chip, factor = r.choice(ACCELERATORS)
            count = int(mw * r.randint(450, 700) / factor) // 8 * 8  # roughly 1.4-2 kW per H100-equivalent
            capex = Decimal(round((mw * r.uniform(9e6, 13e6) + count * r.uniform(25e3, 40e3)) / 1e6) * 1_000_000)
            phases.append(
                CapacityPhase(
                    facility=facility,
                    name=f"Phase {i + 1}",
                    online_on=online,
                    state=state,
                    power_mw=Decimal(mw),
                    accelerator_count=count,
                    accelerator_type=chip,
                    h100_equivalents=Decimal(f"{count * factor:.1f}"),
                    capital_cost_usd=capex,
                )
            )
        facility.expected_online = phases[0].online_on
        return phases

    def plan_partners(self, facility, r, orgs):
        roles_wanted = [FacilityPartner.Role.BUILDER, FacilityPartner.Role.OPERATOR]
        roles_wanted += [
            role for role in (FacilityPartner.Role.FINANCIER, FacilityPartner.Role.CHIP_SUPPLIER) if r.random() < 0.7
        ]
        if r.random() < 0.6:
            roles_wanted.append(FacilityPartner.Role.LOCAL_PARTNER)
        pools = {
            FacilityPartner.Role.BUILDER: orgs["builder"],
            FacilityPartner.Role.OPERATOR: orgs["research"] if facility.kind == Facility.Kind.SUPERCOMPUTER else orgs["operator"],
            FacilityPartner.Role.FINANCIER: orgs["financier"],
            FacilityPartner.Role.CHIP_SUPPLIER: orgs["chip_supplier"],
            FacilityPartner.Role.LOCAL_PARTNER: orgs["local_partner"],
        }
        return [FacilityPartner(facility=facility, organisation=r.choice(pools[role]), role=role) for role in roles_wanted]

    # engagements and follow-ups

    def plan_engagements(self):
        """Anchors keep healthy tracks recent, milestones document stage moves, the rest fills in."""
        r = self.rng("engagements")
        budget = self.n_engagements
        specs = []
        active_cells = [c for cp in self.plans for c in cp.cells if c.health in ("on_track", "at_risk")]
        anchors = []
        for cell in active_cells:
            if len(anchors) >= budget:
                break
            day = self.ago(r.randint(2, 45))
            tracks = [cell]
            others = [c for c in cell.cp.cells if c is not cell and c.health in ("on_track", "at_risk") and c.active_on(day)]
            if others and r.random() < 0.3:
                tracks.append(r.choice(others))
            kind = r.choice((Engagement.Kind.MEETING, Engagement.Kind.CALL, Engagement.Kind.WORKSHOP, Engagement.Kind.VISIT))
            spec = self.make_spec(r, cell.cp, day, kind, tracks)
            anchors.append(spec)
            if cell.health == "at_risk":
                due = day + datetime.timedelta(days=r.randint(1, max(1, (self.today - day).days - 1)))
                spec.follow_ups.append((r.choice(FOLLOW_UPS), due, cell.track, None))
        specs.extend(anchors)
        # at-risk cells whose anchor did not fit in the budget still get their overdue follow-up
        self.loose_follow_ups = []
        for cell in active_cells[len(anchors) :]:
            if cell.health == "at_risk":
                self.loose_follow_ups.append((cell.cp, r.choice(FOLLOW_UPS), self.ago(r.randint(3, 30)), cell.track))

        milestones = [
            (cell, move)
            for cp in self.plans
            for cell in cp.cells
            for move in cell.moves[1:]
            if move[2].kind == Stage.Kind.LADDER and move[2].position >= 1 and not move[3]
        ]
        n_milestones = min(len(milestones), int(self.n_engagements * 0.4), budget - len(specs))
        for cell, move in r.sample(milestones, n_milestones):
            day, stage, agreement = move[0], move[2], move[5]
            kind = Engagement.Kind.SIGNING if agreement else r.choice(MILESTONE_KINDS.get(stage.position, MILESTONE_KINDS[5]))
            if kind == Engagement.Kind.SIGNING and not agreement:
                kind = Engagement.Kind.MEETING
            spec = self.make_spec(r, cell.cp, day, kind, [cell], milestone=(stage, agreement))
            move[4] = spec
            spec.milestone = True
            specs.append(spec)

        fill = budget - len(specs)
        if fill > 0:
            weights = [0.4 + cp.maturity + (0.5 if cp.country.iso2 in NAMED_COUNTRIES else 0) for cp in self.plans]
            kinds, kind_weights = zip(*FILL_KINDS, strict=True)
            stalled_cutoff = self.ago(75)
            for cp in r.choices(self.plans, weights, k=fill):
                span = max(0, (self.ago(1) - cp.started_on).days)
                day = self.ago(1 + int(span * r.random() ** 1.8))
                candidates = [c for c in cp.cells if c.active_on(day) and not (c.health == "stalled" and day > stalled_cutoff)]
                if not candidates:
                    soon = day + datetime.timedelta(days=45)
                    candidates = [c for c in cp.cells if c.first_active_on and day < c.first_active_on <= soon][:1]
                k = min(len(candidates), r.choices((0, 1, 2, 3), (1, 12, 6, 2))[0]) if candidates else 0
                cells = r.sample(candidates, k)
                spec = self.make_spec(r, cp, day, r.choices(kinds, kind_weights)[0], cells)
                self.random_follow_ups(r, spec, cells)
                specs.append(spec)
        specs.sort(key=lambda s: (s.day, s.cp.index))
        self.specs = specs

    def make_spec(self, r, cp, day, kind, cells, milestone=None):
        people = self.counterparts_on(cp, day, r, r.choices((0, 1, 2), (1, 2, 1))[0])
        org = people[0].organisation if people else r.choice(MINISTRIES)
        topic = r.choice(TOPICS.get(cells[0].track.key, GENERAL_TOPICS) if cells else GENERAL_TOPICS)
        if milestone is not None:
            stage, agreement = milestone
            if agreement is not None:
                summary = f"Signing of the {agreement.title}."
            else:
                summary = {
                    1: f"Scoping discussion with the {org} on {topic}.",
                    2: f"Negotiation round with the {org} on {topic}.",
                    3: f"Terms agreed with the {org} on {topic}.",
                    4: f"Implementation kick-off with the {org}: {topic}.",
                }.get(stage.position, f"Review of {topic}, now operational, with the {org}.")
        elif kind == Engagement.Kind.CALL:
            who = f"the {people[0].title} ({org})" if people else f"officials of the {org}"
            summary = f"Call with {who} about {topic}."
        elif kind == Engagement.Kind.VISIT:
            place = r.choice(cp.cities)[0] if cp.cities else "the capital"
            summary = f"Visit to {place} with officials of the {org}: {topic}."
        elif kind == Engagement.Kind.LETTER:
            summary = f"Letter to the {org} setting out proposals for {topic}."
        elif kind == Engagement.Kind.WORKSHOP:
            summary = f"Technical workshop with the {org} on {topic}."
        elif kind == Engagement.Kind.OTHER:
            summary = f"Round table with industry and the {org} on {topic}."
        else:
            summary = f"Meeting with the {org} on {topic}."
        logged_by = self.staff if r.random() < 0.08 else cp.liaison
        return EngagementSpec(
            cp,
            day,
            kind,
            summary,
            r.choice(OUTCOMES),
            r.random() < 0.12,
            [c.track for c in cells],
            people,
            logged_by,
        )

    def random_follow_ups(self, r, spec, cells):
        n = r.choices((0, 1, 2), (65, 30, 5))[0]
        for _ in range(n):
            track = r.choice(cells).track if cells and r.random() < 0.7 else None
            due = spec.day + datetime.timedelta(days=r.randint(5, 40))
            done_at = None
            if due >= self.today:
                if r.random() < 0.2 and (self.today - spec.day).days >= 2:
                    done_at = self.at(spec.day + datetime.timedelta(days=r.randint(1, (self.today - spec.day).days - 1)), r)
            elif not (track is None and r.random() < 0.04):  # a few overdue ones on no particular track
                done_day = max(spec.day, min(self.ago(1), due + datetime.timedelta(days=r.randint(-5, 5))))
                done_at = self.at(done_day, r)
            spec.follow_ups.append((r.choice(FOLLOW_UPS), due, track, done_at))

    def write_engagements(self):
        total = len(self.specs)
        track_link, cp_link = Engagement.tracks.through, Engagement.counterparts.through
        for start in range(0, total, CHUNK):
            chunk = self.specs[start : start + CHUNK]
            rows = [
                Engagement(
                    country=s.cp.country,
                    occurred_on=s.day,
                    kind=s.kind,
                    summary=s.summary,
                    outcome=s.outcome,
                    sensitivity=Engagement.Sensitivity.CONFIDENTIAL if s.confidential else Engagement.Sensitivity.NORMAL,
                    logged_by=s.logged_by,
                )
                for s in chunk
            ]
            self.bulk(Engagement, rows, "engagements")
            tracks, people, follow_ups = [], [], []
            for s, e in zip(chunk, rows, strict=True):
                if s.milestone:
                    s.instance = e
                tracks.extend(track_link(engagement_id=e.pk, track_id=t.pk, **e.track_link_fields()) for t in s.tracks)
                people.extend(cp_link(engagement_id=e.pk, counterpart_id=c.pk) for c in s.counterparts)
                for description, due, track, done_at in s.follow_ups:
                    follow_ups.append(self.follow_up(s.cp, e, description, due, track, done_at))
            self.bulk(track_link, tracks, "engagement-track links")
            self.bulk(cp_link, people, "engagement-counterpart links")
            self.bulk(FollowUp, follow_ups, "follow-ups")
            self.log(f"engagements: {start + len(chunk)}/{total}, follow-ups: {self.counts['follow-ups']}")
        if not total:
            self.log("engagements: 0")
        loose = [self.follow_up(cp, None, d, due, track, None) for cp, d, due, track in self.loose_follow_ups]
        self.bulk(FollowUp, loose, "follow-ups")

    def follow_up(self, cp, engagement, description, due, track, done_at):
        return FollowUp(
            country=cp.country,
            engagement=engagement,
            track=track,
            description=description,
            owner=cp.liaison,
            due_on=due,
            done_at=done_at,
            done_by=cp.liaison if done_at else None,
        )

    # announcements

    def write_announcements(self):
        r = self.rng("announcements")
        rows = []  # (announcement, countries, tracks, agreements, facilities)

        def add(title, body, status, countries, tracks=(), agreements=(), facilities=(), **fields):
            ann = Announcement(title=title, body=body, status=status, created_by=self.staff, **fields)
            rows.append((ann, countries, tracks, agreements, facilities))
            return ann

        note = "Illustrative announcement: the partnership, people and figures are invented."
        for a in self.agreements:
            if r.random() < 0.6:
                day = min(self.ago(1), a.signed_on + datetime.timedelta(days=r.randint(0, 2)))
                track = getattr(a, "demo_track", None)
                add(
                    f"{a.country.name_en} signs {a.get_kind_display().lower()}"
                    + (f" on {lower(track.name_en)}" if track else " on an AI partnership"),
                    f"{a.title}, signed on {a.signed_on:%d %B %Y}. {note}",
                    Announcement.Status.PUBLISHED,
                    [a.country],
                    [track] if track else [],
                    [a],
                    published_at=self.at(day, r, 9, 12),
                    is_public=r.random() < 0.9,
                )
        for f in self.facilities:
            if f.announced_on and f.status != Facility.Status.CANCELLED and r.random() < 0.5:
                add(
                    f"Plans announced for {f.name}",
                    f"A new {f.get_kind_display().lower()} in {f.country.name_en}. {note}",
                    Announcement.Status.PUBLISHED,
                    [f.country],
                    [t for t in self.tracks if t.key == "data_centres"],
                    facilities=[f],
                    published_at=self.at(min(f.announced_on, self.ago(1)), r, 9, 12),
                )
        n = len(self.plans)
        for cp in r.sample(self.plans, min(n, max(2, n // 8))):
            track = r.choice(self.tracks)
            add(
                f"Joint statement with {cp.country.name_en} on {lower(track.name_en)}",
                f"Embargoed until the joint statement. {note}",
                Announcement.Status.SCHEDULED,
                [cp.country],
                [track],
                embargo_until=self.at(self.ahead(r.randint(2, 21)), r, 8, 11),
            )
        for cp in r.sample(self.plans, min(n, max(2, n // 10))):
            track = r.choice(self.tracks)
            add(
                f"Draft: progress on {lower(track.name_en)} in {cp.country.name_en}",
                f"Draft for review by programme staff. {note}",
                Announcement.Status.DRAFT,
                [cp.country],
                [track],
                is_public=r.random() < 0.7,
            )
        if n >= 10:
            cp = r.choice(self.plans)
            add(
                f"{cp.country.name_en} partnership update (withdrawn)",
                f"Withdrawn: published in error before the text was agreed. {note}",
                Announcement.Status.WITHDRAWN,
                [cp.country],
                published_at=self.at(self.ago(r.randint(20, 200)), r, 9, 12),
            )
        self.bulk(Announcement, [row[0] for row in rows], "announcements")
        targets = {"countries": "country_id", "tracks": "track_id", "agreements": "agreement_id", "facilities": "facility_id"}
        for i, field in enumerate(targets, start=1):
            through = getattr(Announcement, field).through
            links = [through(announcement_id=row[0].pk, **{targets[field]: o.pk}) for row in rows for o in row[i]]
            self.bulk(through, links)
        status_counts = Counter(row[0].status for row in rows)
        for status, count in status_counts.items():
            self.counts[f"announcements {status}"] = count

    # stage history

    def write_stage_history(self):
        rows = []
        for cp in self.plans:
            for cell in cp.cells:
                previous = None
                for _day, changed_at, stage, note, spec, agreement in cell.moves:
                    rows.append(
                        StageChange(
                            country_track=cell.instance,
                            from_stage=previous,
                            to_stage=stage,
                            actor=cp.liaison,
                            changed_at=changed_at,
                            note=note,
                            evidence_engagement=spec.instance if spec is not None else None,
                            evidence_agreement=agreement,
                        )
                    )
                    previous = stage
        self.bulk(StageChange, rows, "stage changes")


# --- entry points -------------------------------------------------------------------------------


@transaction.atomic
def seed_demo(*, seed: int, countries: int, engagements: int, password: str, reset: bool = False, log=None) -> dict:
    """Build the demo programme. Returns ``{"created": bool, "users": {...}, "counts": {...}}``.

    Without ``reset``, an existing dataset (a DemoDataset row or any partnership) is left alone and
    only the demo users and their password are brought up to date.
    """
    log = log or (lambda message: None)
    # A generator, not a user's change: no audit-log entries (a reset would otherwise delete row by row, logging
    # each).
    with disable_auditlog():
        if reset:
            parts = [f"{n} {label}" for label, n in reset_demo_data().items() if n]
            log("reset: deleted " + ", ".join(parts) if parts else "reset: nothing to delete")
        present = demo_data_present()
        users = ensure_demo_users(password)
        if present:
            return {"created": False, "users": users, "counts": {}}
        counts = DemoBuilder(seed=seed, countries=countries, engagements=engagements, users=users, log=log).build()
    # Cleared again once committed, so a request in between cannot cache "no demo data" for long.
    transaction.on_commit(lambda: cache.delete(DEMO_CACHE_KEY))
    return {"created": True, "users": users, "counts": counts}


def demo_summary() -> dict:
    """Counts of what is in the database now (printed at the end of ``seed_demo``)."""
    today = timezone.localdate()
    open_fu = FollowUp.objects.filter(done_at__isnull=True)
    return {
        "partnerships": Partnership.objects.count(),
        "country tracks": CountryTrack.objects.count(),
        "paused tracks": CountryTrack.objects.filter(stage__kind=Stage.Kind.PAUSED).count(),
        "withdrawn tracks": CountryTrack.objects.filter(stage__kind=Stage.Kind.WITHDRAWN).count(),
        "stage changes": StageChange.objects.count(),
        "engagements": Engagement.objects.count(),
        "confidential engagements": Engagement.objects.filter(sensitivity=Engagement.Sensitivity.CONFIDENTIAL).count(),
        "follow-ups": FollowUp.objects.count(),
        "open follow-ups": open_fu.count(),
        "overdue follow-ups": open_fu.filter(due_on__lt=today).count(),
        "counterparts": Counterpart.objects.count(),
        "counterparts who left their post": Counterpart.objects.filter(active_to__lt=today).count(),
        "agreements": Agreement.objects.count(),
        "agreements expiring within 90 days": Agreement.objects.filter(
            expires_on__gte=today, expires_on__lte=today + datetime.timedelta(days=90)
        ).count(),
        "announcements published": Announcement.objects.filter(status=Announcement.Status.PUBLISHED).count(),
        "announcements embargoed": Announcement.objects.filter(
            Q(status=Announcement.Status.SCHEDULED) & Q(embargo_until__gt=timezone.now())
        ).count(),
        "announcement drafts": Announcement.objects.filter(status=Announcement.Status.DRAFT).count(),
        "organisations": Organisation.objects.count(),
        "facilities": Facility.objects.count(),
        "capacity phases": CapacityPhase.objects.count(),
        "country statuses": CountryStatus.objects.count(),
    }
