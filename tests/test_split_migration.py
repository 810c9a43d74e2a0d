"""The migration that moved models out of partnerships/ into tracks/, engagements/ and announcements/ keeps every row.

The database is taken back to the schema before the split, filled through the historical models with a row in
every moved table (relations, revisions, stage history with evidence, an audit entry and a group permission on a
moved model), then migrated forward: every table keeps its rows and their content, and the content types keep
their ids under the new app labels, so the audit entry and the permission still point at the same model.
"""

import hashlib

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from engagements.models import Engagement

BEFORE_SPLIT = [("tracks", None), ("partnerships", "0008_countrytrack_version_engagement_version")]
# The split itself (later migrations add columns, which change the rows' content).
SPLIT = [("partnerships", "0009_models_moved_to_their_apps"), ("announcements", "0002_initial")]
# Rewritten by the migration itself: its own bookkeeping, and the app label of the moved content types.
BOOKKEEPING = {"django_migrations", "django_content_type"}


def _tables() -> dict[str, tuple[int, str]]:
    """Each table's row count and a checksum of its rows (in an order that does not depend on the database)."""
    found = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            rows = sorted(repr(tuple(str(value) for value in row)) for row in cursor.fetchall())
            found[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return found


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    ContentType.objects.clear_cache()
    loader = MigrationExecutor(connection).loader
    # The models as the applied migrations left them. A squashed migration applied whole is recorded under its own
    # name and under each migration it replaces; only the squashed one stays in the graph.
    applied = [key for key in loader.applied_migrations if key in loader.graph.nodes]
    return loader.project_state(applied).apps


def _fill_the_old_schema(apps):
    now = timezone.now()
    today = timezone.localdate()
    User = apps.get_model("auth", "User")
    Country = apps.get_model("countries", "Country")
    Track = apps.get_model("partnerships", "Track")
    Stage = apps.get_model("partnerships", "Stage")
    ct_of = apps.get_model("contenttypes", "ContentType").objects.get_for_model

    staff = User.objects.create(username="split-staff")
    gb = Country.objects.get(iso2="GB")
    track = Track.objects.get(key="workforce")
    start, exploring = Stage.objects.get(track=track, key="not_started"), Stage.objects.get(track=track, key="exploring")
    apps.get_model("partnerships", "Partnership").objects.create(country=gb, started_on=today)
    cell = apps.get_model("partnerships", "CountryTrack").objects.create(
        country=gb, track=track, stage=exploring, ladder_stage=exploring, stage_changed_at=now
    )
    counterpart = apps.get_model("countries", "Counterpart").objects.create(country=gb, name="Ada Example")
    engagement = apps.get_model("partnerships", "Engagement").objects.create(
        country=gb, occurred_on=today, summary="Kick-off", logged_by=staff, sensitivity="confidential"
    )
    engagement.tracks.add(track)
    engagement.counterparts.add(counterpart)
    apps.get_model("partnerships", "FollowUp").objects.create(
        country=gb, engagement=engagement, track=track, description="Send the note", due_on=today, owner=staff
    )
    agreement = apps.get_model("partnerships", "Agreement").objects.create(
        country=gb, kind="mou", title="MoU", signed_on=today, created_by=staff
    )
    agreement.tracks.add(track)
    announcement = apps.get_model("partnerships", "Announcement").objects.create(
        title="Partnership", status="published", published_at=now, created_by=staff
    )
    announcement.countries.add(gb)
    announcement.tracks.add(track)
    announcement.agreements.add(agreement)
    apps.get_model("partnerships", "AnnouncementRevision").objects.create(
        announcement=announcement, number=1, title="Partnership"
    )
    apps.get_model("partnerships", "StageChange").objects.create(
        country_track=cell, from_stage=start, to_stage=exploring, actor=staff, changed_at=now,
        evidence_engagement=engagement, evidence_agreement=agreement, evidence_announcement=announcement,
    )  # fmt: skip
    apps.get_model("notifications", "Subscription").objects.create(user=staff, scope="track", track=track)
    engagement_type = ct_of(apps.get_model("partnerships", "Engagement"))
    apps.get_model("auditlog", "LogEntry").objects.create(
        content_type=engagement_type, object_pk=str(engagement.pk), object_repr="Kick-off", action=1, changes={}
    )
    permission = apps.get_model("auth", "Permission").objects.get(content_type=engagement_type, codename="change_engagement")
    apps.get_model("auth", "Group").objects.get_or_create(name="split-check")[0].permissions.add(permission)
    return engagement_type.pk


@pytest.mark.django_db(transaction=True)
def test_the_split_keeps_every_row_and_the_history_attached(reference_data):
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        old_apps = _migrate(BEFORE_SPLIT)
        assert ContentType.objects.filter(app_label="partnerships", model="engagement").exists()
        engagement_type_id = _fill_the_old_schema(old_apps)
        before = _tables()

        _migrate(SPLIT)
        after = _tables()
    finally:
        _migrate(latest)

    moved = {name: pair for name, pair in before.items() if name not in BOOKKEEPING}
    assert {name: after[name] for name in moved} == moved
    assert after["django_content_type"][0] == before["django_content_type"][0]  # relabelled, none added or lost
    assert not ContentType.objects.filter(app_label="partnerships", model__in=["engagement", "track", "announcement"])
    assert ContentType.objects.get_for_id(engagement_type_id).model_class() is Engagement

    from auditlog.models import LogEntry
    from django.contrib.auth.models import Group

    entry = LogEntry.objects.get(object_repr="Kick-off")
    assert entry.content_type.model_class() is Engagement
    assert Group.objects.get(name="split-check").permissions.get().content_type.app_label == "engagements"
    assert moved["partnerships_engagement"][0] == 1 and moved["partnerships_engagement_tracks"][0] == 1
    # Migrated on to the latest schema, the link to a track carries its engagement's country and date.
    from engagements.models import EngagementTrack

    link = EngagementTrack.objects.select_related("engagement").get()
    assert (link.country_id, link.occurred_on) == (link.engagement.country_id, link.engagement.occurred_on)
