"""Plain-text dumps of pages that still carry menus and footers: main content and metadata (pure)."""
