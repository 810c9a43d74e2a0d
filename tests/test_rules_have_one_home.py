"""Each rule lives in one policy module (docs/rules.md), and the apps import one another downwards only.

Two kinds of check: the code is read for restatements of a rule outside its home (a filter on sensitivity in a
view, an embargo condition in a serializer, a role test of the writer rule), and the main surfaces are run with
the policy replaced, to show they call it rather than a copy of it.
"""

import ast
import re
from pathlib import Path

import pytest
from django.db.models import Q
from django.utils import timezone

from announcements import policies as announcement_policies
from announcements.selectors import announcement_list, public_announcements
from countries import policies as country_policies
from engagements import policies as engagement_policies
from engagements.selectors import engagement_list, follow_up_list
from partnerships import policies as partnership_policies
from tests import factories
from tracks import policies as track_policies

ROOT = Path(__file__).resolve().parent.parent
APPS = [
    "core", "countries", "infrastructure", "tracks", "engagements", "announcements", "partnerships", "portal",
    "dashboards", "notifications", "accounts", "demo", "config",
]  # fmt: skip

# What each app may import of ours (docs/architecture.md#layers).
BELOW = {
    "core": set(),
    "countries": {"core"},
    "infrastructure": {"countries", "core"},
    "tracks": {"core"},
    "engagements": {"tracks", "countries", "core"},
    "announcements": {"engagements", "tracks", "infrastructure", "countries", "core"},
    "partnerships": {"announcements", "engagements", "tracks", "infrastructure", "countries", "core"},
}
for top in ("portal", "dashboards", "notifications", "accounts", "demo"):
    BELOW[top] = {"partnerships", *BELOW["partnerships"]}
BELOW["config"] = set(APPS) - {"config"}


def _code_files():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield app, path


def _imported_apps(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
    return found & set(APPS)


def test_imports_point_down_only():
    wrong = [
        f"{path.relative_to(ROOT)} imports {other}"
        for app, path in _code_files()
        for other in _imported_apps(path)
        if other != app and other not in BELOW[app]
    ]
    assert wrong == []


# rule -> (pattern that restates it, the files allowed to hold it)
RESTATEMENTS = {
    "confidentiality": (
        # a filter on sensitivity (a keyword argument: no spaces), a comparison with a value, the flag of an event
        re.compile(
            r"(engagement__)?sensitivity(__\w+)?=(?!=)(?!sensitivity\b|form\.)|Sensitivity\.(NORMAL|CONFIDENTIAL)"
            r"|\.is_confidential\b|get\(\"confidential\"\)"
        ),
        {
            "engagements/policies.py",  # the rule
            "engagements/models.py",  # the field and its property
            "engagements/services.py",  # writes the value it is given
            "engagements/forms.py",  # the checkbox becomes the value
            "engagements/api/serializers.py",  # the input's choices
            "demo/builder.py",  # generates rows
        },
    ),
    "embargo": (
        re.compile(r"published_at__lte|embargo_until__isnull=True|\.embargo_until\s*<="),
        {"announcements/policies.py"},
    ),
    "writer": (
        re.compile(r"is_liaison\(|liaison_assignments__country"),
        {
            "countries/policies.py",  # the rule
            "announcements/policies.py",  # who drafts announcements: a liaison, for their countries
            "core/roles.py",  # what the role is
            "countries/services.py",  # only a liaison can be assigned a country
            "countries/admin.py",  # the same, on the admin's assignment form
        },
    ),
    "readiness": (re.compile(r"ROUND_HALF_UP|/\s*len\(tracks\)"), {"partnerships/policies.py"}),
    # which counterparts are listed (not merged away, not erased), and who reads their contact details
    "counterparts listed": (
        re.compile(r"erased_at__isnull=True|merged_into__isnull=True|merged_into__isnull\"\: True"),
        {"countries/policies.py"},
    ),
}


@pytest.mark.parametrize("rule", RESTATEMENTS)
def test_no_rule_is_restated_outside_its_home(rule):
    pattern, allowed = RESTATEMENTS[rule]
    found = []
    for _app, path in _code_files():
        name = str(path.relative_to(ROOT))
        if name in allowed:
            continue
        found += [
            f"{name}:{n}: {line.strip()}" for n, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)
        ]
    assert found == [], f"the {rule} rule restated outside {sorted(allowed)}"


def test_each_policy_is_importable_and_documented():
    docs = (ROOT / "docs" / "rules.md").read_text()
    for module, names in [
        (country_policies, ["user_can_write_country", "ensure_can_write_country", "writable_country_ids", "country_writers"]),
        (country_policies, ["can_see_contact_details", "can_handle_personal_data", "listed_counterparts_q"]),
        (engagement_policies, ["can_see_confidential", "visible_engagements_q", "in_published_figures_q"]),
        (announcement_policies, ["published_q", "is_published", "visible_q", "ensure_can_edit"]),
        (partnership_policies, ["readiness"]),
        (track_policies, ["ensure_active_tracks"]),
    ]:
        for name in names:
            assert callable(getattr(module, name)), name
            assert f"`{name}`" in docs, f"{module.__name__}.{name} is missing from docs/rules.md"


@pytest.mark.django_db
def test_the_lists_read_the_visibility_policies(monkeypatch, gb, viewer_user):
    """With each policy replaced by 'nothing is visible', the selectors that every surface reads show nothing."""
    factories.EngagementFactory(country=gb)
    factories.FollowUpFactory(country=gb)
    factories.AnnouncementFactory(status="published", published_at=timezone.now(), is_public=True)
    assert engagement_list(user=viewer_user).exists() and follow_up_list(user=viewer_user).exists()
    assert announcement_list(user=viewer_user).exists() and public_announcements().exists()

    monkeypatch.setattr(engagement_policies, "visible_engagements_q", lambda user, prefix="", include_voided=False: Q(pk__in=[]))
    monkeypatch.setattr(engagement_policies, "visible_follow_ups_q", lambda user: Q(pk__in=[]))
    monkeypatch.setattr(announcement_policies, "visible_q", lambda user: Q(pk__in=[]))
    monkeypatch.setattr(announcement_policies, "published_q", lambda now=None, prefix="": Q(pk__in=[]))
    assert not engagement_list(user=viewer_user).exists()
    assert not follow_up_list(user=viewer_user).exists()
    assert not announcement_list(user=viewer_user).exists()
    assert not public_announcements().exists()


def test_readiness_averages_the_ladder_climbed_over_the_active_tracks():
    # Two of four tracks: half-way up a ladder of 5, and at the top; a withdrawn one counts as not climbed.
    climbs = [(2, 4, False), (4, 4, False), (3, 4, True), (0, 4, False)]
    assert str(partnership_policies.readiness(climbs, 4)) == "37.5"
    assert str(partnership_policies.readiness([], 0)) == "0"
