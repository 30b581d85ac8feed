"""Provider definitions: the data that describes one source site.

A definition is a mapping (from the built-in YAML shipped in the package, or the user's
``KUROBARA_PROVIDERS_FILE``). Common fields are validated here; any other key is a parameter of
the provider's *kind*, validated by that kind's ``Params`` model.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

ProviderId = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_-]*$")
]


RedirectHost = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=255,
        pattern=r"^(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$",
    ),
]  # fmt: skip


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return value.rstrip("/")


class ProbeSpec(BaseModel):
    """A full probe: what a reader does, stage by stage (``providers/probe.py``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The search whose first result is opened.
    query: str = Field(min_length=1, max_length=200)
    # End with a GET of the chapter's first page image (as the image proxy sends it).
    image: bool = True


class HealthSpec(BaseModel):
    """How to tell that a provider works. All optional: by default a GET of the site's URL that
    must answer 2xx within the timeout."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str | None = Field(default=None, max_length=1000)
    keyword: str | None = Field(default=None, min_length=1, max_length=200)
    canary_query: str | None = Field(default=None, min_length=1, max_length=200)
    probe: ProbeSpec | None = None
    timeout: float | None = Field(default=None, gt=0, le=600)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value)


class ProviderDefinition(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    id: ProviderId
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    kind: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    url: Annotated[str, StringConstraints(max_length=255)]
    nsfw: bool = False
    language: str = Field(default="en", min_length=2, max_length=10)
    # Requests per second this server sends to the site (MangaDex publishes 5/s per IP).
    rate_limit: float = Field(default=2.0, gt=0, le=100)
    enabled: bool = True
    # Minutes between checks as if an admin had set it; like ``enabled``, it only seeds the
    # monitor's row when the provider is first registered (the admin's later choice wins).
    check_interval: int | None = Field(default=None, ge=1, le=43200)
    health: HealthSpec = HealthSpec()
    # Hosts outside the site that its redirects may lead to (a CDN, a mirror):
    # "cdn.example.org", "cdn.example.org:8443" or "*.example.org".
    redirect_hosts: list[RedirectHost] = Field(default_factory=list, max_length=50)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return _http_url(value)

    @property
    def params(self) -> dict[str, Any]:
        """The kind-specific keys of the definition."""
        return dict(self.model_extra or {})

    @property
    def health_url(self) -> str:
        return self.health.url or self.url
