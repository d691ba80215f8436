"""Analyze: parse and bind statements, generate index candidates, cost them, select."""
