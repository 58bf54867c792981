"""Link kinds, one definition: the names are what the data files and ``Link.kind`` say, the values are the
codes the network arrays, the optimizer and the compiled simulation kernel use."""
from __future__ import annotations

from enum import IntEnum


class LinkKind(IntEnum):
    """FS start after the predecessor ends, SS after it starts, FF end after it ends, SF end after it starts."""

    FS = 0
    SS = 1
    FF = 2
    SF = 3


LINK_TYPES = tuple(kind.name for kind in LinkKind)

__all__ = ["LINK_TYPES", "LinkKind"]
