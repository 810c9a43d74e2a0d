from celery import shared_task

# Task names are stable: beat entries and messages already queued carry them.


@shared_task(name="engagements.tasks.apply_retention", acks_late=True)
def apply_retention() -> dict:
    """Nightly: empty what passed its retention period (voided engagements, erasure records); safe to run twice."""
    from countries.services import counterpart_apply_retention

    from .services import engagement_apply_retention

    return {"voided_engagements": engagement_apply_retention(), "erased_counterparts": counterpart_apply_retention()}
