"""The users pages of programme staff, the invitation link, and each user's own account page."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from core.forms import add_service_errors

from . import policies, selectors, services
from .forms import AccessForm, InviteForm, UserFilterForm
from .second_factor import second_factor_status
from .sessions import describe_user_agent

PAGE_SIZE = 50


def _staff_only(request) -> None:
    if not policies.can_manage_users(request.user):
        raise PermissionDenied(_("Managing users is for programme staff."))


def _user_or_404(pk):
    try:
        return selectors.user_get(pk)
    except selectors.User.DoesNotExist as exc:
        raise Http404 from exc


@login_required
def user_list(request):
    _staff_only(request)
    form = UserFilterForm(request.GET or None)
    if form.is_bound:
        form.is_valid()  # errors are shown; the valid filters still apply
    filters = form.filters()
    page = Paginator(selectors.user_list(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/user_list.html",
        {"form": form, "page": page, "users": selectors.with_details(page.object_list), "filtered": form.is_filtered()},
    )


@login_required
def user_invite(request):
    _staff_only(request)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            invitation, _token = services.user_invite(
                actor=request.user,
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                role=data["role"],
                countries=list(data["countries"]),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Invitation sent to %(email)s. The link works once, for %(days)s days.")
                % {"email": invitation.email, "days": settings.INVITATION_EXPIRY_DAYS},
            )
            return redirect("user-detail", pk=invitation.user_id)
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request, "accounts/user_invite.html", {"form": form, "expiry_days": settings.INVITATION_EXPIRY_DAYS}, status=status
    )


def _detail_context(request, user, access_form=None):
    return {
        "person": user,
        "access_form": access_form
        or AccessForm(initial={"role": user.role, "countries": [c.pk for c in user.countries]}, prefix="access"),
        "tokens": selectors.live_tokens(user),
        "invitation": selectors.latest_invitation(user),
        "deactivation_refusal": policies.deactivation_refusal(request.user, user),
        "role_change_refusal": policies.role_change_refusal(request.user, user),
        "may_change": not user.is_superuser or request.user.is_superuser,
        "sessions": len(selectors.sessions_of(user)),
    }


@login_required
def user_detail(request, pk):
    _staff_only(request)
    user = _user_or_404(pk)
    return render(request, "accounts/user_detail.html", _detail_context(request, user))


@login_required
@require_POST
def user_access(request, pk):
    _staff_only(request)
    user = _user_or_404(pk)
    form = AccessForm(request.POST, prefix="access")
    if form.is_valid():
        try:
            changed = services.user_access_change(
                actor=request.user, user=user, role=form.cleaned_data["role"], countries=list(form.cleaned_data["countries"])
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if changed:
                messages.success(request, _("Role and countries saved."))
            else:
                messages.info(request, _("Nothing changed."))
            return redirect("user-detail", pk=user.pk)
    return render(request, "accounts/user_detail.html", _detail_context(request, user, form), status=400)


def _refused(request, user, exc: ValidationError):
    for message in exc.messages:
        messages.error(request, message)
    return redirect("user-detail", pk=user.pk)


@login_required
@require_POST
def user_deactivate(request, pk):
    _staff_only(request)
    user = _user_or_404(pk)
    try:
        ended = services.user_deactivate(actor=request.user, user=user)
    except ValidationError as exc:
        return _refused(request, user, exc)
    counts = {"sessions": ended["sessions"], "tokens": ended["tokens"]}
    sessions = ngettext("%(sessions)s session ended", "%(sessions)s sessions ended", counts["sessions"]) % counts
    tokens = ngettext("%(tokens)s API token revoked", "%(tokens)s API tokens revoked", counts["tokens"]) % counts
    messages.success(
        request,
        _("%(name)s is deactivated: %(sessions)s, %(tokens)s, calendar feeds revoked.")
        % {"name": user.get_full_name() or user.get_username(), "sessions": sessions, "tokens": tokens},
    )
    return redirect("user-detail", pk=user.pk)


@login_required
@require_POST
def user_reactivate(request, pk):
    _staff_only(request)
    user = _user_or_404(pk)
    try:
        services.user_reactivate(actor=request.user, user=user)
    except ValidationError as exc:
        return _refused(request, user, exc)
    messages.success(request, _("%(name)s can sign in again.") % {"name": user.get_full_name() or user.get_username()})
    return redirect("user-detail", pk=user.pk)


@login_required
@require_POST
def user_invitation_resend(request, pk):
    _staff_only(request)
    user = _user_or_404(pk)
    try:
        invitation, _token = services.invitation_resend(actor=request.user, user=user)
    except ValidationError as exc:
        return _refused(request, user, exc)
    messages.success(
        request, _("A new invitation was sent to %(email)s; the earlier link no longer works.") % {"email": invitation.email}
    )
    return redirect("user-detail", pk=user.pk)


UNUSABLE_STATUS = {"unknown": 404, "used": 410, "expired": 410, "withdrawn": 410}


@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
def invitation_accept(request, token):
    """The link of an invitation e-mail: set a password, and be signed in. The link is the credential."""
    try:
        invitation = services.invitation_find(token)
    except services.InvitationUnusable as exc:
        return render(request, "accounts/invitation_unusable.html", {"reason": exc.reason}, status=UNUSABLE_STATUS[exc.reason])
    user = invitation.user
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(token=token, password=form.cleaned_data["new_password1"])
        except services.InvitationUnusable as exc:
            return render(
                request, "accounts/invitation_unusable.html", {"reason": exc.reason}, status=UNUSABLE_STATUS[exc.reason]
            )
        login(request, user, backend="core.security.LocalPasswordBackend")
        name = user.get_full_name() or user.get_username()
        messages.success(request, _("Welcome, %(name)s: your password is set.") % {"name": name})
        return redirect(settings.LOGIN_REDIRECT_URL)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "accounts/invitation_accept.html", {"form": form, "invitation": invitation}, status=status)


@login_required
def account(request):
    """The signed-in user's own account: their sessions, links to tokens and calendar feeds, second factors."""
    current = request.session.session_key
    sessions = selectors.sessions_of(request.user)
    for session in sessions:
        session.is_current = session.session_key == current
        session.browser = describe_user_agent(session.user_agent)
    sessions.sort(key=lambda s: not s.is_current)
    return render(
        request,
        "accounts/account.html",
        {
            "sessions": sessions,
            "other_sessions": sum(1 for s in sessions if not s.is_current),
            "second_factor": second_factor_status(request.user),
            "token_count": selectors.live_tokens(request.user).count(),
        },
    )


@login_required
@require_POST
def account_sign_out_others(request):
    ended = services.sessions_end_others(actor=request.user, current_session_key=request.session.session_key)
    if ended:
        message = ngettext("Signed out of %(count)s other session.", "Signed out of %(count)s other sessions.", ended)
        messages.success(request, message % {"count": ended})
    else:
        messages.info(request, _("You had no other session."))
    return redirect("account")
