"""Tools for unroot's developers; those that use the test helpers run as modules from the repository root."""
