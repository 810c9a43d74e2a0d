from .models import ImportJob, ImportRowResult
from .policies import visible_jobs_q


def job_list(user):
    return ImportJob.objects.filter(visible_jobs_q(user)).select_related("uploaded_by")[:50]


def job_results(job: ImportJob, *, applied: bool, action: str = ""):
    results = ImportRowResult.objects.filter(job=job, applied=applied)
    return results.filter(action=action) if action else results


def failed_rows(job: ImportJob):
    """The refused rows of the latest run (the apply's once applied), in file order."""
    applied = job.state == ImportJob.State.APPLIED
    return ImportRowResult.objects.filter(job=job, applied=applied, action=ImportRowResult.Action.ERROR).order_by("line")
