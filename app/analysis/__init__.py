"""Analysis of mentions: tokens and topic queries, sentiment, needs-response rules, spikes, trending.

Pure Python, no Qt: it runs on the store's writer thread and in headless polling.
"""
