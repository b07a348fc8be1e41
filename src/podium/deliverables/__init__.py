"""The assembled deliverables and their figures: shared by the export's report and the engine's
checks, so a figure is computed one way wherever it is read (imports `domain` and `export`'s
pure layout; `domain` never imports it)."""
