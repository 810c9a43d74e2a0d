from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone

from core import roles
from countries.selectors import assigned_country_ids, country_status_list

from . import selectors
from .models import Stage

PIPELINE_ORDERING = {
    "name": ("country__name_en",),
    "-readiness": ("-readiness", "country__name_en"),
    "region": ("country__region", "country__name_en"),
    "-last_engagement": ("-last_engagement_on", "country__name_en"),
}


@login_required
def home(request):
    """The page a signed-in user lands on: their countries, their follow-ups, and the pipeline."""
    user = request.user
    if not roles.can_read(user):
        return render(request, "partnerships/no_role.html", status=403)

    my_ids = assigned_country_ids(user)
    my_cells = []
    if my_ids:
        my_cells = list(
            selectors.country_track_list()
            .filter(country_id__in=my_ids, track__is_active=True)
            .order_by("country__name_en", "track__position")
        )
    my_countries = {}
    for cell in my_cells:
        my_countries.setdefault(cell.country, []).append(cell)

    follow_ups = list(selectors.open_follow_ups(user=user, owner=user)[:10])

    q = (request.GET.get("q") or "").strip()[:100]
    order = request.GET.get("order") or "name"
    if order not in PIPELINE_ORDERING:
        order = "name"
    statuses = country_status_list().order_by(*PIPELINE_ORDERING[order])
    if q:
        statuses = statuses.filter(
            Q(country__name_en__icontains=q) | Q(country__name_fr__icontains=q) | Q(country__iso2__iexact=q)
        )
    page = Paginator(statuses, 50).get_page(request.GET.get("page"))
    # The rollup stores stage keys; show their names in the reader's language.
    stage_names = {stage.key: stage.name for stage in Stage.objects.filter(kind=Stage.Kind.LADDER).order_by("-track__position")}
    for status in page.object_list:
        status.furthest_stage_label = stage_names.get(status.furthest_stage_key, status.furthest_stage_name)
    return render(
        request,
        "partnerships/home.html",
        {
            "my_countries": my_countries,
            "follow_ups": follow_ups,
            "today": timezone.localdate(),
            "page": page,
            "q": q,
            "order": order,
        },
    )
