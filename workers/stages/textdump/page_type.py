"""What kind of page a dump is (the 7 WCXB page types), from page-wide shares of its lines.

The line classifier needs it: a list of dated headlines is the content of a listing page and the
chrome of an article page; replies are the content of a forum thread and the chrome under a news
story. The page-type probabilities are columns of every line's features (``PAGE_TYPE_COLUMNS``).
"""

from __future__ import annotations

import numpy as np

from workers.stages.textdump.features import LINE_FEATURES

__all__ = ["PAGE_TYPES", "PAGE_FEATURES", "PAGE_TYPE_COLUMNS", "page_features"]

PAGE_TYPES = ("article", "collection", "documentation", "forum", "listing", "product", "service")
PAGE_TYPE_COLUMNS = tuple(f"page_is_{t}" for t in PAGE_TYPES)

_F = {name: i for i, name in enumerate(LINE_FEATURES)}
_SHARES = ("bullet", "numbered", "has_date", "title_case", "sent_end", "has_url", "ellipsis", "blank_before",
           "kind_section", "kind_comments", "kind_legal", "kind_furniture", "kind_social", "kind_caption",
           "kind_byline", "kind_reldate", "quote", "colon_end")
PAGE_FEATURES: tuple[str, ...] = (
    ("lines_log", "units_log", "mean_units", "p90_units", "long_share", "short_share", "long_units_share",
     "bullet_units_share", "stop_mean", "run_units_share", "run_share", "headers_log", "slug_cover_max",
     "dup_share", "table_share", "glued_share", "digit_mean", "cap_mean")
    + tuple(f"share_{c}" for c in _SHARES)
)


def page_features(x: np.ndarray) -> np.ndarray:
    """One row of ``PAGE_FEATURES`` from a page's line-feature matrix (columns ``LINE_FEATURES``)."""
    n = len(x)
    if n == 0:
        return np.zeros(len(PAGE_FEATURES))
    units = np.expm1(x[:, _F["units_log"]])
    total = max(units.sum(), 1e-9)
    long = units >= 30
    slug = x[:, _F["slug_cover"]]
    row = [
        np.log1p(n), np.log1p(total), units.mean(), float(np.percentile(units, 90)), long.mean(), (units < 8).mean(),
        units[long].sum() / total, (units * x[:, _F["bullet"]]).sum() / total,
        (units * x[:, _F["stop_ratio"]]).sum() / total, (units * x[:, _F["in_best_run"]]).sum() / total,
        x[0, _F["run_share"]], np.log1p((x[:, _F["since_header_log"]] == 0).sum()),
        np.nan if np.isnan(slug).all() else float(np.nanmax(slug)),
        (x[:, _F["dup_log"]] > 0).mean(), (x[:, _F["columns"]] >= 2).mean(), (x[:, _F["glued"]] > 0).mean(),
        x[:, _F["digit_ratio"]].mean(), x[:, _F["cap_ratio"]].mean(),
    ]
    row += [float(x[:, _F[c]].mean()) for c in _SHARES]
    return np.array(row, dtype=np.float64)
