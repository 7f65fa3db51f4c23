"""Built-in archivers, one per module; ``loading`` builds the site's enabled archivers."""
