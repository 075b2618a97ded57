"""replayweb."""
