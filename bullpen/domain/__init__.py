"""The pure domain: game logs, teams, features, Elo, models, metrics, odds. No I/O.

Frames and arrays in, frames and arrays out; nothing here reads a file, a
database or a network, so every function is testable on its own.
"""
