"""Scrapy item pipelines, in the order set in crawler/settings.py: extract, normalise, images, score, dedupe,
store."""
