"""FastAPI dependencies for the provider layer: the registry built at start-up."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from kurobara.providers.registry import ProviderRegistry


def get_registry(request: Request) -> ProviderRegistry:
    registry: ProviderRegistry = request.app.state.registry
    return registry


RegistryDep = Annotated[ProviderRegistry, Depends(get_registry)]
