"""Helpers and scripts for the tests that are not tests themselves."""
