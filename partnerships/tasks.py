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


# A pack of the whole programme lays out one brief per country (three small test briefs take about 1.3 s in all):
# a pack of every country may run past the default limits.
@shared_task(name="partnerships.tasks.build_briefing_pack", acks_late=True, soft_time_limit=1500, time_limit=1600)
def build_briefing_pack(pack_id: int) -> str:
    """Build one briefing pack (safe to run twice: a pack already built is left alone)."""
    from .packs import build_pack

    pack = build_pack(pack_id)
    return pack.status if pack else "missing"


@shared_task(name="partnerships.tasks.purge_briefing_packs")
def purge_briefing_packs() -> int:
    """Hourly: delete the briefing packs older than their keeping time."""
    from .packs import purge_expired_packs

    return purge_expired_packs()
