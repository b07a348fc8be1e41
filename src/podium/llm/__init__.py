"""One gateway to every model: the offline rehearsal model and real providers via litellm."""
