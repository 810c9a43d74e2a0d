"""The second-factor column of the users list and the section of the account page read one function.

PLACEHOLDER: two-factor authentication is built separately; when it lands, ``second_factor_status`` is replaced by
its own (what the user has enrolled). Until then it says nothing is known, which the pages show as "—".
"""


def second_factor_status(user) -> str | None:
    """A short description of the user's second factors ("Authenticator app, 2 security keys"), or None when
    there is nothing to say (shown as "—")."""
    return None
