"""Moved to ``workers.stages.html.metadata`` (the metadata modules of the HTML package); this
re-export keeps existing imports working until every importer uses the new place."""

from workers.stages.html.metadata import PageMetadata, clean_author, extract_metadata, strip_site_suffix

__all__ = ["PageMetadata", "clean_author", "extract_metadata", "strip_site_suffix"]
