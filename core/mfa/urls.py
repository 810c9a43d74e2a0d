"""The second-factor pages, under /account/second-factors/ (and the security keys' JSON endpoints below them)."""

from django.urls import include, path

from . import views, webauthn

urlpatterns = [
    path("", views.second_factors, name="second-factors"),
    path("app/", views.totp_enrol, name="second-factor-totp"),
    path("security-key/", views.security_key_enrol, name="second-factor-key"),
    path("recovery-codes/", views.recovery_codes, name="second-factor-recovery-codes"),
    path("verify/", views.verify, name="second-factor-verify"),
    path("<str:kind>/<int:pk>/remove/", views.second_factor_remove_view, name="second-factor-remove"),
    path("webauthn/", include((webauthn.urlpatterns, "otp_webauthn"))),
]
