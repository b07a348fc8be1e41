"""The asyncio service that makes a production: plans, schedules, runs agents, keeps the log."""
