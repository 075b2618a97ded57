"""Spiders and page extraction: the generic site spider, charset detection, visible text, links and images."""
