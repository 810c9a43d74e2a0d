from celery import shared_task

# Task names are stable: beat entries and messages already queued carry them.


@shared_task(name="partnerships.tasks.rollup_country", acks_late=True)
def rollup_country(country_id: int) -> None:
    """Recompute one country's status (safe to run twice)."""
    from .rollup import rollup_countries

    rollup_countries([country_id])


@shared_task(name="partnerships.tasks.rollup_requested", acks_late=True)
def rollup_requested() -> int:
    """Recompute every country whose status was requested by events since the last run (coalesced)."""
    from .rollup import run_requested_rollups

    return run_requested_rollups()


@shared_task(name="partnerships.tasks.rollup_all_countries", acks_late=True)
def rollup_all_countries() -> int:
    """Nightly: recompute every country, so health follows the passing of time alone."""
    from .rollup import rollup_countries

    return rollup_countries()
