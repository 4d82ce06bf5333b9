"""MLB Stats API team ids and the Retrosheet codes the platform keys teams by.

Only the 30 current clubs: the Stats API feed is for live game days, and a
historical id (Montreal, 1990s Florida, ...) showing up there would be a feed
error worth quarantining rather than a team to map.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# Stats API `team.id` → Retrosheet code. Read-only so no caller can patch a
# mapping that every schedule read depends on.
MLB_TEAMS: Mapping[int, str] = MappingProxyType(
    {
        108: "ANA", 109: "ARI", 110: "BAL", 111: "BOS", 112: "CHN",
        113: "CIN", 114: "CLE", 115: "COL", 116: "DET", 117: "HOU",
        118: "KCA", 119: "LAN", 120: "WAS", 121: "NYN", 133: "OAK",
        134: "PIT", 135: "SDN", 136: "SEA", 137: "SFN", 138: "SLN",
        139: "TBA", 140: "TEX", 141: "TOR", 142: "MIN", 143: "PHI",
        144: "ATL", 145: "CHA", 146: "MIA", 147: "NYA", 158: "MIL",
    }
)  # fmt: skip


def retro_team(mlb_id: int) -> str | None:
    """The Retrosheet code of a Stats API team id, or None for an id that is not a current club."""
    # bool is an int (True == 1): a JSON `true` must not pass for a team id.
    if isinstance(mlb_id, bool) or not isinstance(mlb_id, int):
        return None
    return MLB_TEAMS.get(mlb_id)
