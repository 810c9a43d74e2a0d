"""Pages that read across the apps: the home page, the search box in the header, the page of an engagement."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from announcements.policies import can_write_announcements
from announcements.selectors import announcement_list
from core import roles
from core.audit import audit_entries, describe
from core.i18n import name_order
from countries.models import Country
from countries.policies import user_can_write_country
from countries.selectors import assigned_country_ids, counterpart_list, country_status_list
from engagements import policies as engagement_policies
from engagements.forms import VoidForm
from engagements.selectors import engagement_list, follow_up_list, open_follow_ups
from infrastructure.selectors import facility_list
from partnerships.models import StageChange
from partnerships.policies import next_step_is_overdue
from partnerships.selectors import country_track_list
from tracks.models import Stage

# Each sort of the home page's pipeline, then by name in the reader's language ("NAME").
PIPELINE_ORDERING = {
    "name": ("NAME",),
    "-readiness": ("-readiness", "NAME"),
    "region": ("country__region", "NAME"),
    "-last_engagement": ("-last_engagement_on", "NAME"),
}


@login_required
def home(request):
    """The page a signed-in user lands on: their countries, their follow-ups, and the pipeline."""
    user = request.user
    if not roles.can_read(user):
        return render(request, "core/no_role.html", status=403)

    my_ids = assigned_country_ids(user)
    my_cells = []
    if my_ids:
        my_cells = list(
            country_track_list()
            .filter(country_id__in=my_ids, track__is_active=True)
            .order_by(name_order("country__"), "track__position")
        )
    my_countries = {}
    today = timezone.localdate()
    for cell in my_cells:
        cell.next_step_overdue = next_step_is_overdue(cell, today)
        my_countries.setdefault(cell.country, []).append(cell)

    follow_ups = list(open_follow_ups(user=user, owner=user)[:10])
    latest_engagements = []
    if my_ids:
        latest_engagements = list(
            engagement_list(user=user)
            .filter(country_id__in=my_ids)
            .prefetch_related(None)  # the home page shows no tracks or people of an engagement
            .order_by("-occurred_on", "-id")[:10]
        )

    q = (request.GET.get("q") or "").strip()[:100]
    order = request.GET.get("order") or "name"
    if order not in PIPELINE_ORDERING:
        order = "name"
    by_name = name_order("country__")
    statuses = country_status_list().order_by(*(by_name if key == "NAME" else key for key in PIPELINE_ORDERING[order]))
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
        "portal/home.html",
        {
            "my_countries": my_countries,
            "follow_ups": follow_ups,
            "latest_engagements": latest_engagements,
            "today": timezone.localdate(),
            "page": page,
            "q": q,
            "order": order,
        },
    )


SEARCH_LIMIT = 10
SEARCH_PAGE = 25
SEARCH_SECTIONS = ("countries", "engagements", "counterparts", "announcements", "facilities")


def _search_querysets(user, q: str) -> dict:
    """What matches ``q`` in each section, among what ``user`` may see (the selectors apply the rules)."""
    return {
        "countries": Country.objects.filter(
            Q(name_en__icontains=q) | Q(name_fr__icontains=q) | Q(iso2__iexact=q) | Q(iso3__iexact=q)
        ).order_by(name_order()),
        "engagements": engagement_list(user=user)
        .filter(Q(summary__icontains=q) | Q(outcome__icontains=q))
        .order_by("-occurred_on", "-id"),
        "counterparts": counterpart_list()
        .filter(Q(name__icontains=q) | Q(title__icontains=q) | Q(organisation__icontains=q))
        .order_by("name", "id"),
        "announcements": announcement_list(user=user)
        .filter(Q(title__icontains=q) | Q(body__icontains=q))
        .order_by("-created_at", "-id"),
        "facilities": facility_list().filter(Q(name__icontains=q) | Q(city__icontains=q)).order_by("name", "id"),
    }


@login_required
def search(request):
    """One search box in the header: countries, engagements, counterparts, announcements and facilities the user may
    see, with the number found in each; one section can be read in full, page by page."""
    user = request.user
    if not roles.can_read(user):
        return render(request, "core/no_role.html", status=403)
    q = (request.GET.get("q") or "").strip()[:100].replace("\x00", "")
    section = request.GET.get("section") or ""
    if section not in SEARCH_SECTIONS:
        section = ""
    results, counts, page = {}, {}, None
    if len(q) >= 2:
        querysets = _search_querysets(user, q)
        if section:
            page = Paginator(querysets[section], SEARCH_PAGE).get_page(request.GET.get("page"))
            results = {section: list(page.object_list)}
            counts = {section: page.paginator.count}
        else:
            counts = {name: qs.count() for name, qs in querysets.items()}
            results = {name: list(qs[:SEARCH_LIMIT]) for name, qs in querysets.items() if counts[name]}
    for person in results.get("counterparts", ()):
        person.can_edit = user_can_write_country(user, person.country_id)
    return render(
        request,
        "portal/search.html",
        {
            "q": q,
            "section": section,
            "results": results,
            "counts": counts,
            "found": sum(counts.values()),
            "page": page,
            "limit": SEARCH_LIMIT,
            "writes_announcements": can_write_announcements(user),
            "staff": roles.is_programme_staff(user),
        },
    )


@login_required
def engagement_detail(request, pk):
    """One engagement: what, when, with whom, on which tracks; the follow-ups it left, the stage moves that cite it
    as evidence, and who changed what (for those who see the country's confidential matters)."""
    user = request.user
    if not roles.can_read(user):
        return render(request, "core/no_role.html", status=403)
    engagement = get_object_or_404(engagement_list(user=user, include_voided=True), pk=pk)  # one they may not see: 404
    country = engagement.country
    insider = engagement_policies.can_see_confidential(user, country.pk)
    history = []
    if insider:
        # The history may hold what the engagement said while it was confidential: only for those who could read it.
        history = describe(list(audit_entries({"model": "engagements.engagement", "object": str(engagement.pk)})[:50]))
    cited_by = list(
        StageChange.objects.filter(evidence_engagement=engagement)
        .select_related("country_track__track", "from_stage", "to_stage", "actor")
        .order_by("-changed_at", "-id")
    )
    return render(
        request,
        "portal/engagement_detail.html",
        {
            "engagement": engagement,
            "country": country,
            "follow_ups": list(follow_up_list(user=user).filter(engagement=engagement).order_by("done_at", "due_on", "id")),
            "cited_by": cited_by,
            "history": history,
            "can_write": user_can_write_country(user, country) and not engagement.is_voided,
            "can_void": user_can_write_country(user, country) and not engagement.is_voided,
            "can_restore": engagement.is_voided and roles.is_programme_staff(user),
            "void_form": VoidForm(),
            "today": timezone.localdate(),
        },
    )
