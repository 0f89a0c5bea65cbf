"""The journal (append-only, source of truth), its projector and the read models."""
