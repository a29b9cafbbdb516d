"""Helm charts: judged on what Helm renders, findings placed on the values or template line a person edits."""
