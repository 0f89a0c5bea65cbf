"""MongoDB connection: an external server, or the embedded SecantusDB child process."""
