"""Market data: CSV bar import and the replay feed."""
