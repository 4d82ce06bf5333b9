"""Capacity planning for the online tier: a game day replayed through the HPA (a tool).

`simulate` models the HorizontalPodAutoscaler and the pods; `cli` is
`bullpen-capacity`. Nothing in `bullpen/` imports it.
"""
