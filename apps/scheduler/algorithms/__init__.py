"""Scheduling algorithms: plain functions on dataclasses and numpy arrays. No Django here."""
