"""Crawl control: configuration loading, Scrapy settings, the command line, run control (one child process
per crawl), the scorer assembly, and the item contract spiders and pipelines share."""
