"""Catalog: manga, their source links (provider + external id), import and routes."""
