"""Test doubles shared by several test packages (a fake OpenAI-compatible server, …)."""
