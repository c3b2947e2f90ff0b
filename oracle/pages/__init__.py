"""Pages people read: the model card for auditors and voters, the daemon's status page for
operators. Both are single self-contained HTML documents (inline CSS and SVG, no script,
no network), rendered from the templates of this package with HTML escaping on."""
