"""Fast reads of a running Frotz emulator's memory, shared by the game envs."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

#: The standard alphabets A0, A1, A2 (Z-machine standard 3.5.3); A2's first two z-chars (6: the
#: ZSCII escape, 7: newline) are handled apart. Version 1 has its own A2.
_ALPHABETS = (
    "abcdefghijklmnopqrstuvwxyz",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    " \n0123456789.,!?_#'\"/\\-:()",
)
_ALPHABET_A2_V1 = " 0123456789.,!?_#'\"/\\<-:()"
#: ZSCII 155-223 in the default Unicode translation table (standard 3.8.5.3).
_EXTRA_ZSCII = "äöüÄÖÜß»«ëïÿËÏáéíóúýÁÉÍÓÚÝàèìòùÀÈÌÒÙâêîôûÂÊÎÔÛåÅøØãñõÃÑÕæÆçÇþðÞÐ£œŒ¡¿"


#: Children from which a top-level object counts as a container of rooms (ZIL's ``ROOMS``); the
#: rooms of Inform games, at the top of the tree, hold at most 16 objects in the Jericho suite,
#: the ``ROOMS`` objects of sherlock and trinity 92 and 134.
ROOMS_CONTAINER_MIN = 32


class FrotzMemory:
    """Fast reads of the emulator's RAM: one copy per step into a reused buffer.

    Gives globals, the player's room, objects' short names and a world hash without jericho's
    per-object Python objects (its ``get_world_state_hash`` costs ~3 ms a step on zork1; this
    costs ~10 us).

    Args:
        frotz: The running ``jericho.FrotzEnv``.
        header: The story's :class:`~s2b_env.games.StoryHeader`.
        objects: Whether jericho knows the game's objects (player object, object count): enables
            :meth:`world_hash`.
    """

    def __init__(self, frotz: Any, header: Any, *, objects: bool) -> None:
        from numpy.ctypeslib import as_ctypes

        self._frotz = frotz
        self._lib = frotz.frotz_lib
        self.ram = np.zeros(self._lib.getRAMSize(), dtype=np.uint8)
        self._ram_c = as_ctypes(self.ram)
        self._view = memoryview(self.ram)
        self._globals = header.globals_address
        self.stale = True
        self._objects = objects
        self._names: dict[int, str | None] = {}
        self._version = header.version
        small = header.version <= 3
        self._lib.getRAM(self._ram_c)
        table = (int(self.ram[0x0A]) << 8) | int(self.ram[0x0B])
        self._entry = 9 if small else 14
        self._first = table + (31 if small else 63) * 2
        self._parent_at = 4 if small else 6
        self._small = small
        self._story: bytes | None = None  # the story file, read on the first name decoded
        self._decoded: dict[int, tuple[bytes, str]] = {}  # property table -> (text, name)
        self._last_object = 255 if small else 65535
        self._rooms_containers: dict[int, bool] = {}
        self._room_names: dict[int, tuple[int, str | None]] = {}
        if objects:
            self.special = np.zeros(self._lib.get_special_ram_size(), dtype=np.uint8)
            self._special_c = as_ctypes(self.special)
            self._end = self._first + self._lib.get_num_world_objs() * self._entry
            self._player = int(frotz.player_obj_num)

    def refresh(self) -> np.ndarray:
        if self.stale:
            self._lib.getRAM(self._ram_c)
            self.stale = False
        return self.ram

    def word(self, address: int) -> int:
        """The signed 16-bit word (big-endian, as the Z-machine stores it) at byte ``address``."""
        if self.stale:
            self.refresh()
        ram = self._view  # memoryview: plain ints, ~5x faster to index than the array
        value = (ram[address] << 8) | ram[address + 1]
        return value - 0x10000 if value >= 0x8000 else value

    def global_value(self, index: int) -> int:
        """Signed Z-machine global variable ``index`` (0 is the first)."""
        return self.word(self._globals + 2 * index)

    def world_hash(self) -> str:
        """Hash of the object table (tree and attributes) and jericho's special addresses."""
        self.refresh()
        self._lib.get_special_ram(self._special_c)
        digest = hashlib.blake2b(self._view[self._first : self._end], digest_size=16)
        digest.update(self.special.data)
        return digest.hexdigest()

    def player_room(self, player: int) -> int | None:
        """The room object holding object ``player`` (``None`` if it has no parent).

        The top-level ancestor of the player (Inform keeps rooms at the top of the tree), or
        the child of it on the way down when the top-level object is a container of rooms
        (ZIL's ``ROOMS``: :data:`ROOMS_CONTAINER_MIN` children or more).
        """
        chain: list[int] = []
        obj = self.object_parent(player)
        while obj and len(chain) < 64:  # a cycle in a corrupt tree ends too
            chain.append(obj)
            obj = self.object_parent(obj)
        if not chain:
            return None
        top = chain[-1]
        if len(chain) >= 2 and self._holds_rooms(top):
            return chain[-2]
        return top

    def _holds_rooms(self, obj: int) -> bool:
        found = self._rooms_containers.get(obj)
        if found is None:
            count, child = 0, self._link(obj, 4)
            while child and count < ROOMS_CONTAINER_MIN:
                count += 1
                child = self._link(child, 2)
            found = self._rooms_containers[obj] = count >= ROOMS_CONTAINER_MIN
        return found

    def _link(self, obj: int, offset: int) -> int:
        """Object ``obj``'s parent (``offset`` 0), sibling (2) or child (4); 0 if none."""
        at = self._entry_address(obj)
        if at is None:
            return 0
        self.refresh()
        ram = self._view
        at += self._parent_at + (offset // 2 if self._small else offset)
        return ram[at] if self._small else (ram[at] << 8) | ram[at + 1]

    def object_parent(self, obj: int) -> int | None:
        """The parent of object ``obj`` (0: none), or ``None`` if ``obj`` is not in the table."""
        at = self._entry_address(obj)
        if at is None:
            return None
        self.refresh()
        ram = self._view
        at += self._parent_at
        return ram[at] if self._small else (ram[at] << 8) | ram[at + 1]

    def object_name(self, obj: int) -> str | None:
        """The short name of object ``obj``, as the game prints it, decoded from memory.

        Exact for every version: the encoded text is read from the live memory each call (games
        may rename an object) and decoded once per distinct text (a few microseconds a call).

        Returns:
            The name, or ``None`` if ``obj`` is 0 or lies outside the object table.
        """
        if obj <= 0 or obj > self._last_object:
            return None
        at = self._first + obj * self._entry - 2  # the entry's property-table address
        if self.stale:
            self.refresh()
        ram = self._view
        if at + 2 > len(ram):
            return None
        props = (ram[at] << 8) | ram[at + 1]
        if props + 1 > len(ram):
            return None
        encoded = ram[props + 1 : props + 1 + 2 * ram[props]]
        known = self._decoded.get(props)
        if known is not None and known[0] == encoded:
            return known[1]
        name = self._decode(props + 1, limit=props + 1 + len(encoded))
        self._decoded[props] = (encoded.tobytes(), name)
        return name

    def room_name(self, obj: int) -> str | None:
        """:meth:`object_name` for ``info["location"]``, once per step: cached by object and
        property-table address, so a name the game rewrites in place keeps its first text (the
        games we know never do; ``object_name`` reads the live text every call).
        """
        if obj <= 0 or obj > self._last_object:
            return None
        at = self._first + obj * self._entry - 2
        if self.stale:
            self.refresh()
        ram = self._view
        if at + 2 > len(ram):
            return None
        props = (ram[at] << 8) | ram[at + 1]
        known = self._room_names.get(obj)
        if known is not None and known[0] == props:
            return known[1]
        name = self.object_name(obj)
        self._room_names[obj] = (props, name)
        return name

    def _entry_address(self, obj: int) -> int | None:
        if obj <= 0 or obj > (255 if self._small else 65535):
            return None
        at = self._first + (obj - 1) * self._entry
        return at if at + self._entry <= len(self.ram) else None

    def _byte(self, address: int) -> int:
        """A byte of the whole memory: dynamic memory live, the rest from the story file."""
        if address < len(self.ram):
            return int(self.ram[address])
        if self._story is None:
            self._story = Path(self._frotz.story_file.decode()).read_bytes()
        return self._story[address] if address < len(self._story) else 0

    def _word(self, address: int) -> int:
        return (self._byte(address) << 8) | self._byte(address + 1)

    def _decode(self, address: int, *, limit: int | None = None, nested: bool = False) -> str:
        """The Z-encoded string at ``address`` (standard section 3), up to its end bit."""
        version = self._version
        alphabets = self._alphabet_table()
        zchars: list[int] = []
        end = limit if limit is not None else address + 2 * 1024
        while address < end:
            word = self._word(address)
            zchars += ((word >> 10) & 31, (word >> 5) & 31, word & 31)
            address += 2
            if word & 0x8000:
                break
        out: list[str] = []
        lock, shift = 0, -1  # lock: the alphabet in use; shift: the next z-char's (-1: none)
        i = 0
        while i < len(zchars):
            z = zchars[i]
            i += 1
            alphabet = lock if shift < 0 else shift
            shift = -1
            if z == 0:
                out.append(" ")
            elif z == 1 and version == 1:
                out.append("\n")
            elif z <= 3 and (version >= 3 or (version == 2 and z == 1)):
                if i < len(zchars) and not nested:
                    index = 32 * (z - 1) + zchars[i]
                    table = (self._byte(0x18) << 8) | self._byte(0x19)
                    out.append(self._decode(2 * self._word(table + 2 * index), nested=True))
                i += 1
            elif z <= 5:
                if version >= 3:
                    shift = z - 3  # 4: A1, 5: A2
                elif z <= 3:
                    shift = (lock + z - 1) % 3  # 2: up, 3: down
                else:
                    lock = (lock + z - 3) % 3  # 4: up, 5: down, for good
            elif alphabet == 2 and z == 6:
                if i + 1 < len(zchars):
                    out.append(_zscii((zchars[i] << 5) | zchars[i + 1]))
                i += 2
            elif alphabet == 2 and z == 7 and version >= 2:
                out.append("\n")
            else:
                out.append(alphabets[alphabet][z - 6])
        return "".join(out)

    def _alphabet_table(self) -> tuple[str, str, str]:
        if self._version == 1:
            return (_ALPHABETS[0], _ALPHABETS[1], _ALPHABET_A2_V1)
        custom = self._word(0x34) if self._version >= 5 else 0
        if not custom:
            return _ALPHABETS
        rows = tuple(
            "".join(_zscii(self._byte(custom + 26 * row + k)) for k in range(26))
            for row in range(3)
        )
        return rows[0], rows[1], rows[2]


def _zscii(code: int) -> str:
    """The character of ZSCII output code ``code`` (default Unicode table; ``?`` if none)."""
    if 32 <= code <= 126:
        return chr(code)
    if code == 13:
        return "\n"
    if 155 <= code < 155 + len(_EXTRA_ZSCII):
        return _EXTRA_ZSCII[code - 155]
    return "?"
