from django.contrib import admin
from django.urls import include, path, register_converter

from accounts import views as account_views
from announcements import feeds, public_views
from announcements import views as announcement_views
from core import views as core_views
from core.country_codes import CountryCodeConverter
from countries import views as country_views
from engagements import views as engagement_views
from notifications import views as notification_views
from partnerships import pack_views
from partnerships import views as partnership_views
from portal import identity
from portal import views as portal_views

register_converter(CountryCodeConverter, "country")

urlpatterns = [
    path("", portal_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("countries/<country:code>/", partnership_views.country_detail, name="country-detail"),
    path("countries/<country:code>/briefing/", partnership_views.country_briefing, name="country-briefing"),
    path("countries/<country:code>/briefing/pdf/", partnership_views.country_briefing_pdf, name="country-briefing-pdf"),
    path("countries/<country:code>/briefing/word/", partnership_views.country_briefing_word, name="country-briefing-word"),
    path("briefing-packs/", pack_views.pack_request_view, name="briefing-packs"),
    path("briefing-packs/<int:pk>/", pack_views.pack_detail, name="briefing-pack"),
    path("briefing-packs/<int:pk>/pdf/", pack_views.pack_pdf, name="briefing-pack-pdf"),
    path("briefing-packs/<int:pk>/retry/", pack_views.pack_retry_view, name="briefing-pack-retry"),
    path("groupings/", country_views.grouping_list_view, name="groupings"),
    path("groupings/new/", country_views.grouping_new, name="grouping-new"),
    path("groupings/<int:pk>/", country_views.grouping_edit, name="grouping-edit"),
    path("groupings/<int:pk>/delete/", country_views.grouping_delete_view, name="grouping-delete"),
    path("countries/<country:code>/tracks/<slug:track>/", partnership_views.country_track_change, name="country-track-change"),
    path(
        "countries/<country:code>/tracks/<slug:track>/next-step/", partnership_views.country_next_step, name="country-next-step"
    ),
    path("countries/<country:code>/engagements/new/", engagement_views.engagement_new, name="engagement-new"),
    path(
        "countries/<country:code>/engagements/new/counterpart/",
        engagement_views.engagement_counterpart_add,
        name="engagement-counterpart-add",
    ),
    path(
        "countries/<country:code>/engagements/new/follow-up-row/",
        engagement_views.engagement_follow_up_row,
        name="engagement-follow-up-row",
    ),
    path("engagements/<int:pk>/", portal_views.engagement_detail, name="engagement-detail"),
    path("engagements/<int:pk>/calendar.ics", engagement_views.engagement_calendar, name="engagement-calendar"),
    path("engagements/<int:pk>/edit/", engagement_views.engagement_edit, name="engagement-edit"),
    path("engagements/<int:pk>/void/", engagement_views.engagement_void, name="engagement-void"),
    path("engagements/<int:pk>/restore/", engagement_views.engagement_restore, name="engagement-restore"),
    path("countries/<country:code>/counterparts/", country_views.counterpart_list_view, name="counterparts"),
    path("countries/<country:code>/counterparts/new/", country_views.counterpart_new, name="counterpart-new"),
    path("countries/<country:code>/counterparts/merge/", country_views.counterpart_merge_view, name="counterpart-merge"),
    path("countries/<country:code>/counterparts/<int:pk>/", country_views.counterpart_edit, name="counterpart-edit"),
    path("countries/<country:code>/counterparts/<int:pk>/left/", country_views.counterpart_leave, name="counterpart-leave"),
    path(
        "countries/<country:code>/counterparts/<int:pk>/personal-data/",
        country_views.counterpart_personal_data_view,
        name="counterpart-personal-data",
    ),
    path("countries/<country:code>/counterparts/<int:pk>/erase/", country_views.counterpart_erase_view, name="counterpart-erase"),
    path("dashboard/", include("dashboards.urls")),
    path("imports/", include("imports.urls")),
    path("announcements/", public_views.announcement_list, name="public-announcements"),
    path("announcements/<int:pk>/", public_views.announcement_detail, name="public-announcement"),
    path("announcements/feed/", feeds.AnnouncementFeed(), name="announcement-feed"),
    path("announcements/manage/", announcement_views.manage, name="announcements-manage"),
    path("announcements/manage/new/", announcement_views.new, name="announcement-new"),
    path("announcements/manage/<int:pk>/", announcement_views.edit, name="announcement-edit"),
    path("announcements/manage/<int:pk>/schedule/", announcement_views.schedule, name="announcement-schedule"),
    path("announcements/manage/<int:pk>/publish/", announcement_views.publish, name="announcement-publish"),
    path("announcements/manage/<int:pk>/withdraw/", announcement_views.withdraw, name="announcement-withdraw"),
    path("announcements/feed/countries/<country:code>/", feeds.CountryAnnouncementFeed(), name="announcement-feed-country"),
    path("announcements/feed/tracks/<slug:key>/", feeds.TrackAnnouncementFeed(), name="announcement-feed-track"),
    path("follow-ups/", engagement_views.follow_up_list, name="follow-ups"),
    path("search/", portal_views.search, name="search"),
    path("follow-ups/<int:pk>/done/", engagement_views.follow_up_done, name="follow-up-done"),
    path("follow-ups/<int:pk>/reopen/", engagement_views.follow_up_reopen, name="follow-up-reopen"),
    path("follow-ups/<int:pk>/calendar.ics", engagement_views.follow_up_calendar, name="follow-up-calendar"),
    path("follow-ups/<int:pk>/edit/", engagement_views.follow_up_edit, name="follow-up-edit"),
    path("follow-ups/new/", engagement_views.follow_up_new_for, name="follow-up-new-for"),
    path("follow-ups/bulk/", engagement_views.follow_up_bulk, name="follow-up-bulk"),
    path("countries/<country:code>/follow-ups/new/", engagement_views.follow_up_new, name="follow-up-new"),
    path("accounts/login/", identity.SignInView.as_view(), name="login"),
    path("accounts/logout/", identity.sign_out, name="logout"),
    # Single sign-on (portal/identity.py): /oidc/authenticate/ (to the provider) and /oidc/callback/ (back).
    path("oidc/authenticate/", identity.SignInStartView.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", identity.SignInCallbackView.as_view(), name="oidc_authentication_callback"),
    # The users of the portal (programme staff), invitation links and each user's own account (accounts/).
    path("users/", account_views.user_list, name="users"),
    path("users/invite/", account_views.user_invite, name="user-invite"),
    path("users/<int:pk>/", account_views.user_detail, name="user-detail"),
    path("users/<int:pk>/access/", account_views.user_access, name="user-access"),
    path("users/<int:pk>/deactivate/", account_views.user_deactivate, name="user-deactivate"),
    path("users/<int:pk>/reactivate/", account_views.user_reactivate, name="user-reactivate"),
    path("users/<int:pk>/invitation/", account_views.user_invitation_resend, name="user-invitation-resend"),
    path("invitations/<str:token>/", account_views.invitation_accept, name="invitation-accept"),
    path("account/", account_views.account, name="account"),
    path("account/sessions/sign-out-others/", account_views.account_sign_out_others, name="account-sign-out-others"),
    path("account/api-tokens/", core_views.api_tokens, name="api-tokens"),
    path("account/api-tokens/<str:key>/revoke/", core_views.api_token_revoke_view, name="api-token-revoke"),
    path("account/second-factors/", include("core.mfa.urls")),
    path("account/calendar-feeds/", notification_views.calendar_feeds, name="calendar-feeds"),
    path("account/calendar-feeds/<int:pk>/revoke/", notification_views.calendar_feed_revoke_view, name="calendar-feed-revoke"),
    # The secret is the credential (no session): calendar servers fetch it. notifications/calendars.py: what it holds.
    path("calendar/<str:secret>.ics", notification_views.calendar_feed, name="calendar-feed"),
    path("notifications/", include("notifications.urls")),
    path("audit/", include("core.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api")),
]
