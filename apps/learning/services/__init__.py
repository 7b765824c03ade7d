"""Writes for learners' study data, split by sub-domain."""
