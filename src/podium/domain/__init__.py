"""Pure models and functions: no I/O, no asyncio, no Textual."""
