"""Podcast mastering: per-track clean-up, pause shortening, music ducking, loudness, export.

Everything here is Qt-free plain data in, plain data out, so the CLI (`timbre podcast
master`) and the studio's podcast panel render the same episode.
"""
