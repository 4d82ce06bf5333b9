"""Full club names, as odds feeds write them, to the Retrosheet codes the platform keys by.

Renames and moves map to the code the schedule uses for the club in those years:
"Cleveland Indians" and "Cleveland Guardians" are both CLE, "Oakland Athletics" and
plain "Athletics" (the club's name since leaving Oakland) both OAK, the Florida
Marlins FLO and the Miami Marlins MIA (Retrosheet changed the code with the name),
every spelling of the Angels ANA. A name not here is not guessed at: the caller
quarantines the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

TEAM_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "arizona diamondbacks": "ARI", "atlanta braves": "ATL", "baltimore orioles": "BAL",
        "boston red sox": "BOS", "chicago cubs": "CHN", "chicago white sox": "CHA",
        "cincinnati reds": "CIN", "cleveland guardians": "CLE", "cleveland indians": "CLE",
        "colorado rockies": "COL", "detroit tigers": "DET", "houston astros": "HOU",
        "kansas city royals": "KCA", "los angeles angels": "ANA",
        "los angeles angels of anaheim": "ANA", "anaheim angels": "ANA",
        "los angeles dodgers": "LAN", "miami marlins": "MIA", "florida marlins": "FLO",
        "milwaukee brewers": "MIL", "minnesota twins": "MIN", "new york mets": "NYN",
        "new york yankees": "NYA", "oakland athletics": "OAK", "athletics": "OAK",
        "sacramento athletics": "OAK", "philadelphia phillies": "PHI",
        "pittsburgh pirates": "PIT", "san diego padres": "SDN", "san francisco giants": "SFN",
        "seattle mariners": "SEA", "st. louis cardinals": "SLN", "st louis cardinals": "SLN",
        "tampa bay rays": "TBA", "tampa bay devil rays": "TBA", "texas rangers": "TEX",
        "toronto blue jays": "TOR", "washington nationals": "WAS", "montreal expos": "MON",
    }
)  # fmt: skip


def team_code(name: object) -> str | None:
    """The Retrosheet code of a full club name (case and spacing ignored), else None."""
    if not isinstance(name, str):
        return None
    return TEAM_NAMES.get(" ".join(name.split()).lower())
