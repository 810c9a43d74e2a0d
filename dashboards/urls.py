from django.urls import path

from . import views

urlpatterns = [
    path("", views.pipeline, name="dashboard"),
    path("funnels/", views.funnels, name="dashboard-funnels"),
    path("attention/", views.attention, name="dashboard-attention"),
    path("infrastructure/", views.infrastructure, name="dashboard-infrastructure"),
    path("map/", views.world_map, name="dashboard-map"),
    path("history/", views.history, name="dashboard-history"),
]
