"""HTML pages: main content, page type and metadata (pure, no I/O but the model files).

``clean_html`` (``extract.py``) is the stage's entry; ``dom`` parses, ``segment`` cuts the page
into text blocks, ``features`` and ``page_type`` describe them, ``model`` scores and keeps them,
``render`` writes the body.
"""

from workers.stages.html.extract import MainContent, clean_html, extract_main_content

__all__ = ["MainContent", "clean_html", "extract_main_content"]
