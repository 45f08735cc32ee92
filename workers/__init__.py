"""Gleaner: raw web pages in, clean, entity-tagged, searchable documents in Elasticsearch out."""

__version__ = "0.1.0"
