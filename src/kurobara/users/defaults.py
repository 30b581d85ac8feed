"""Account defaults shared by the CLI, the admin bootstrap and the service (no imports, so the
CLI can name them in its help without loading the database layer)."""

from __future__ import annotations

# An admin created without an address (``create-admin``, ``KUROBARA_ADMIN_*``) gets
# USERNAME@ this: a domain that passes e-mail validation (``localhost`` alone has no dot) and
# delivers nowhere.
DEFAULT_EMAIL_DOMAIN = "localhost.localdomain"


def default_admin_email(username: str) -> str:
    return f"{username.lower()}@{DEFAULT_EMAIL_DOMAIN}"
