"""Ainur: lyrics + style + session timing → a song as stems and a mastered mix, offline."""

__version__ = "0.1.0"
