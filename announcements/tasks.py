from celery import shared_task

# Task names are stable: beat entries and ETA release messages already queued carry them.


@shared_task(name="partnerships.tasks.release_announcement", acks_late=True)
def release_announcement(announcement_id: int) -> bool:
    """Publish a scheduled announcement at its embargo time (queued with an ETA; safe to run twice)."""
    from .services import announcement_release

    return announcement_release(announcement_id=announcement_id)


@shared_task(name="partnerships.tasks.release_due_announcements", acks_late=True)
def release_due_announcements() -> int:
    """Every minute: release what the ETA tasks missed (a broker outage, downtime at the embargo time)."""
    from .services import announcement_arm_releases, announcement_release_due

    released = announcement_release_due()
    announcement_arm_releases()
    return released
