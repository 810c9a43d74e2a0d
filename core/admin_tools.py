from django.contrib import admin
from django.db import transaction

from . import catalogue
from .events import emit


class OutboxAdmin(admin.ModelAdmin):
    """Admin edits of reference rows go through the outbox: the activity log records them and the
    countries they touch are recomputed. Subclasses say which countries a row touches."""

    def country_ids_of(self, obj) -> list[int]:
        country_id = getattr(obj, "country_id", None)
        return [country_id] if country_id else []

    def _emit(self, request, obj, kind, payload):
        ids = self.country_ids_of(obj)
        emit(
            kind=kind,
            subject=obj,
            actor=request.user,
            country_id=ids[0] if len(ids) == 1 else None,
            # Ids and field names only: events travel on to notifications, their content must not.
            payload={**payload, "country_ids": ids} if len(ids) > 1 else payload,
        )

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        if change and form.changed_data and hasattr(obj, "version"):
            # A versioned row (core.conflicts) changed here is a new version too: a portal form opened before
            # this edit is then refused instead of silently writing over it.
            obj.version += 1
        super().save_model(request, obj, form, change)
        self._emit(
            request, obj, catalogue.ADMIN_CHANGED if change else catalogue.ADMIN_ADDED, {"fields": sorted(form.changed_data)}
        )

    @transaction.atomic
    def delete_model(self, request, obj):
        self._emit(request, obj, catalogue.ADMIN_DELETED, {"id": obj.pk})
        super().delete_model(request, obj)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self._emit(request, obj, catalogue.ADMIN_DELETED, {"id": obj.pk})
        super().delete_queryset(request, queryset)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For rows whose rules live in services (engagements, stage moves, announcements...): the admin
    shows them, searchable and filterable; changes are made in the portal or through the API."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
