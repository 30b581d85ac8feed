"""The provider catalog: theme sites shipped as data and community index URLs, browsed on the
Sources page and enabled by admins one by one (docs/catalog.md)."""
