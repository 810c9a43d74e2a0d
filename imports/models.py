"""Spreadsheet imports: the uploaded file (in the database, so every host reads it and backups hold it), the result
of each row of its dry run or apply, and the ledger of what earlier imports wrote (so a second import changes
nothing)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportJob(models.Model):
    """One uploaded spreadsheet of one kind, its column mapping, and where its dry run or apply stands."""

    class Kind(models.TextChoices):
        ENGAGEMENTS = "engagements", _("Engagements")
        COUNTERPARTS = "counterparts", _("Counterparts")
        STAGES = "stages", _("Current stage of country tracks")
        FOLLOW_UPS = "follow-ups", _("Follow-ups")
        AGREEMENTS = "agreements", _("Agreements")
        FACILITIES = "facilities", _("Facilities with capacity phases and partners")

    class State(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded: match the columns")
        CHECKING = "checking", _("Dry run under way")
        CHECKED = "checked", _("Dry run done: nothing written yet")
        APPLYING = "applying", _("Being applied")
        APPLIED = "applied", _("Applied")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.UPLOADED)
    filename = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    file_format = models.CharField(_("format"), max_length=4)
    encoding = models.CharField(_("encoding"), max_length=16, blank=True)
    header = models.JSONField(_("header row"), default=list)
    mapping = models.JSONField(_("column of each field"), default=dict)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    # {"create": n, "update": n, "unchanged": n, "error": n} of the dry run, then of the apply.
    checked_counts = models.JSONField(_("dry run counts"), default=dict)
    applied_counts = models.JSONField(_("applied counts"), default=dict)
    error = models.TextField(_("error"), blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who started the running dry run or apply (its writes are theirs), and its last sign of life: a run that shows
    # none for IMPORT_STALLED_MINUTES (never handed to a worker while the broker was down, or its worker lost) is
    # handed over again by the sweep (``imports.tasks.resume_stalled_imports``).
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("started by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    progress_at = models.DateTimeField(_("last progress at"), null=True, blank=True)
    # Each hand-over of a run to a worker carries a new token; a message whose token is not the job's any more (the
    # sweep handed the run over again since) does nothing. ``handovers``: how many times the sweep did, this run.
    run_token = models.PositiveIntegerField(_("run token"), default=0)
    handovers = models.PositiveSmallIntegerField(_("hand-overs"), default=0)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.filename}"

    @property
    def is_running(self) -> bool:
        return self.state in (self.State.CHECKING, self.State.APPLYING)

    @property
    def progress_percent(self) -> int:
        return min(100, round(100 * self.rows_done / self.row_count)) if self.row_count else 0


class ImportFileChunk(models.Model):
    """A piece of an uploaded file (at most a megabyte): the file is read back a chunk at a time."""

    job = models.ForeignKey(ImportJob, verbose_name=_("import"), on_delete=models.CASCADE, related_name="chunks")
    position = models.PositiveIntegerField(_("position"))
    data = models.BinaryField(_("data"))

    class Meta:
        verbose_name = _("file chunk")
        verbose_name_plural = _("file chunks")
        ordering = ["job", "position"]
        constraints = [models.UniqueConstraint(fields=["job", "position"], name="import_chunk_position_unique")]

    def __str__(self):
        return f"{self.job_id}/{self.position}"


class ImportRowResult(models.Model):
    """What the dry run (or the apply) did or would do with one row: create, update, leave unchanged, or refuse it
    (with the column and the reason). The row's cells are kept for the report of failed rows."""

    class Action(models.TextChoices):
        CREATE = "create", _("Create")
        UPDATE = "update", _("Update")
        UNCHANGED = "unchanged", _("Unchanged")
        ERROR = "error", _("Error")

    job = models.ForeignKey(ImportJob, verbose_name=_("import"), on_delete=models.CASCADE, related_name="results")
    applied = models.BooleanField(_("from the apply"), default=False)
    line = models.PositiveIntegerField(_("line"))
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    column = models.CharField(_("column"), max_length=255, blank=True)
    message = models.TextField(_("message"), blank=True)
    cells = models.JSONField(_("cells"), default=list)

    class Meta:
        verbose_name = _("row result")
        verbose_name_plural = _("row results")
        ordering = ["job", "applied", "line"]
        indexes = [models.Index(fields=["job", "applied", "action", "line"], name="import_result_action_idx")]

    def __str__(self):
        return f"{self.job_id}:{self.line} {self.action}"


class ImportedRecord(models.Model):
    """The ledger: a row's key (its external id, or its natural key) and the record an import wrote for it.

    The key is kept as a keyed digest (HMAC with the secret key), never as text: after a person is erased the ledger
    still recognises their row, so a re-import does not bring them back, yet it holds nothing that names them."""

    kind = models.CharField(_("kind"), max_length=20, choices=ImportJob.Kind.choices)
    key_digest = models.CharField(_("key digest"), max_length=64)
    object_id = models.PositiveBigIntegerField(_("record id"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("imported record")
        verbose_name_plural = _("imported records")
        ordering = ["kind", "key_digest"]
        constraints = [models.UniqueConstraint(fields=["kind", "key_digest"], name="imported_record_key_unique")]

    def __str__(self):
        return f"{self.kind}:{self.object_id}"
