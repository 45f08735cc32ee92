"""HTML pages: main content, page type and metadata (pure, no I/O)."""
