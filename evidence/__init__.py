"""Evidence: capturing what a hit's page showed (WARC, screenshot, manifest) as write-once files, and
checking that nothing changed since."""
