"""Fake external services used by the tests."""
