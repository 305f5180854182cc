"""Audiobooks: chapters from a book, ACX checks and fix-up, M4B/MP3 with chapters and cover."""
