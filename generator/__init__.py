"""protocmc: protocol (ICH M11) and Module 3 (ICH M4Q) drafts from framework and product YAML."""

__version__ = "1.0.0"
