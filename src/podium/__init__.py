"""podium: conduct a crew of LLM agents from the terminal."""

__version__ = "0.1.0"
