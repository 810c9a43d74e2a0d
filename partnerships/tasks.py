from celery import shared_task


@shared_task(acks_late=True)
def rollup_country(country_id: int) -> None:
    """Recompute one country's status (safe to run twice)."""
    from .rollup import rollup_countries

    rollup_countries([country_id])


@shared_task(acks_late=True)
def rollup_requested() -> int:
    """Recompute every country whose status was requested by events since the last run (coalesced)."""
    from .rollup import run_requested_rollups

    return run_requested_rollups()


@shared_task(acks_late=True)
def release_announcement(announcement_id: int) -> bool:
    """Publish a scheduled announcement at its embargo time (queued with an ETA; safe to run twice)."""
    from .services import announcement_release

    return announcement_release(announcement_id=announcement_id)


@shared_task(acks_late=True)
def release_due_announcements() -> int:
    """Every minute: release what the ETA tasks missed (a broker outage, downtime at the embargo time)."""
    from .services import announcement_arm_releases, announcement_release_due

    released = announcement_release_due()
    announcement_arm_releases()
    return released


@shared_task(acks_late=True)
def rollup_all_countries() -> int:
    """Nightly: recompute every country, so health follows the passing of time alone."""
    from .rollup import rollup_countries

    return rollup_countries()
