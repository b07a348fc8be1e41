"""Writers of deliverables over the store: Fountain, CSV, Markdown and JSONL."""
