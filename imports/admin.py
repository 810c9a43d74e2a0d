from django.contrib import admin

from core.admin_tools import ReadOnlyAdmin

from .models import ImportedRecord, ImportFileChunk, ImportJob, ImportRowResult


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = ("filename", "kind", "state", "row_count", "uploaded_by", "created_at")
    list_filter = ("kind", "state")
    search_fields = ("filename",)


@admin.register(ImportRowResult)
class ImportRowResultAdmin(ReadOnlyAdmin):
    list_display = ("job", "line", "action", "column", "message")
    list_filter = ("action",)


@admin.register(ImportFileChunk)
class ImportFileChunkAdmin(ReadOnlyAdmin):
    list_display = ("job", "position")
    exclude = ("data",)


@admin.register(ImportedRecord)
class ImportedRecordAdmin(ReadOnlyAdmin):
    list_display = ("kind", "object_id", "created_at")
    list_filter = ("kind",)
