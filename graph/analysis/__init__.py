"""The analyst's questions as pure functions over a GraphView (DOMAIN.md section 2)."""
