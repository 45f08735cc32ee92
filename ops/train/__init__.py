"""Training and cross-validation of Gleaner's learned components (dev data only)."""
