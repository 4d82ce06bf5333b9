"""Tests for bullpen.sources."""
