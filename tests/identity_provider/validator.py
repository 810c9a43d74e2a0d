import json
import os

from oauth2_provider.oauth2_validators import OAuth2Validator


class ClaimsFromFile(OAuth2Validator):
    """E-mail and names from the user; groups, countries and amr from IDP_CLAIMS_FILE (by user name)."""

    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "groups": "openid", "countries": "openid", "amr": "openid"}

    def get_additional_claims(self, request):
        with open(os.environ["IDP_CLAIMS_FILE"]) as handle:
            extra = json.load(handle).get(request.user.username, {})
        return {
            "email": request.user.email,
            "given_name": request.user.first_name,
            "family_name": request.user.last_name,
            "preferred_username": request.user.username,
            **extra,
        }
