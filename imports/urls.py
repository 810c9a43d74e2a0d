from django.urls import path

from . import views

urlpatterns = [
    path("", views.import_start, name="imports"),
    path("templates/<slug:kind>.<slug:fmt>", views.import_template, name="import-template"),
    path("<int:pk>/", views.import_detail, name="import-detail"),
    path("<int:pk>/apply/", views.import_apply, name="import-apply"),
    path("<int:pk>/progress/", views.import_progress, name="import-progress"),
    path("<int:pk>/failed-rows.csv", views.import_failed_rows, name="import-failed-rows"),
]
