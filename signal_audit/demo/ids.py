"""Random-looking identifiers drawn from the generator's seeded streams (never uuid4/os.urandom)."""

from __future__ import annotations

import random

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def token(rng: random.Random, length: int) -> str:
    return "".join(rng.choices(_ALNUM, k=length))
