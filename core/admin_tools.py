from django.contrib import admin
from django.db import transaction

from .events import emit


class OutboxAdmin(admin.ModelAdmin):
    """Admin edits of domain rows also go through the outbox, so the activity log records them and
    the country's status is recomputed. Subclasses say which country a row belongs to."""

    def country_id_of(self, obj):
        return getattr(obj, "country_id", None)

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        emit(
            kind=f"admin.{'changed' if change else 'added'}",
            subject=obj,
            actor=request.user,
            country_id=self.country_id_of(obj),
            payload={"fields": sorted(form.changed_data)},
        )

    @transaction.atomic
    def delete_model(self, request, obj):
        emit(
            kind="admin.deleted", subject=obj, actor=request.user, country_id=self.country_id_of(obj), payload={"repr": str(obj)}
        )
        super().delete_model(request, obj)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for obj in queryset:
            emit(
                kind="admin.deleted",
                subject=obj,
                actor=request.user,
                country_id=self.country_id_of(obj),
                payload={"repr": str(obj)},
            )
        super().delete_queryset(request, queryset)
