"""The second-factor column of the users list and the section of the account page ask the second-factor rules
(core/mfa/policies.py) what each user has enrolled."""

from core.mfa.policies import second_factor_statuses


def _shown(status) -> str | None:
    return status.summary if status.enrolled else None


def second_factor_summaries(users) -> dict[int, str | None]:
    """By user id: a short description of each user's second factors ("Authenticator app, 2 security keys"), or
    None when they have none (shown as "—"); a fixed number of queries for a whole page of users."""
    return {pk: _shown(status) for pk, status in second_factor_statuses(users).items()}


def second_factor_status(user) -> str | None:
    """The same for one user."""
    return second_factor_summaries([user])[user.pk]
