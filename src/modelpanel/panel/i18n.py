"""The panel's words in English and Simplified Chinese: one catalog, shared with the views.

The catalogs are ``modelpanel/strings/<language>.json``; the widget bundles the same files
(js/src/core/i18n.ts), so the static snapshot (panel/html.py) and the live views say the same
things. A message is looked up by key and its ``{placeholders}`` filled in; English keeps its
singulars under ``<key>_one``, used when ``n`` is 1. Exception messages stay English, as
torch's do: only what the panel shows around them is translated.

    normalize_language("zh_CN")                 # "zh-CN"
    translate("zh-CN", "tabs.model")            # "模型"
    with use_language("zh-CN"):
        t("tree.count", n=3)                    # "3 个模块"
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import re
from collections.abc import Iterator
from functools import cache
from importlib.resources import files
from typing import Any

from ..errors import InputError

__all__ = ["SUPPORTED", "normalize_language", "translate", "t", "use_language", "catalog"]

#: The languages with a catalog, as BCP 47 tags.
SUPPORTED = ("en", "zh-CN")

# What each spelling means: BCP 47 tags and POSIX locales, lower-cased, "_" read as "-". The
# same rule as normalizeLanguage in js/src/core/i18n.ts. Traditional Chinese (zh-TW, zh-Hant)
# has no catalog: it is refused rather than shown in the other script.
_ALIASES = {"zh": "zh-CN", "zh-cn": "zh-CN", "zh-sg": "zh-CN", "zh-hans": "zh-CN",
            "zh-hans-cn": "zh-CN", "zh-hans-sg": "zh-CN"}

_current: contextvars.ContextVar[str] = contextvars.ContextVar("modelpanel_language", default="en")


def _match(tag: str) -> str | None:
    spelt = tag.strip().lower().replace("_", "-")
    if spelt == "en" or spelt.startswith("en-"):
        return "en"
    return _ALIASES.get(spelt)


def normalize_language(language: Any) -> str | None:
    """``"en"`` or ``"zh-CN"`` for a spelling of either (``"zh"``, ``"zh_CN"``, ``"en-US"``, ...);
    None for None (follow the front end's display language).

    Raises:
        InputError: a language without a catalog, or not a string; the message lists the
            supported ones.
    """
    if language is None:
        return None
    found = _match(language) if isinstance(language, str) else None
    if found is None:
        raise InputError(
            f"language={language!r} is not supported; use one of {', '.join(map(repr, SUPPORTED))} "
            "(also spelt 'zh', 'zh_CN', 'en-US', ...), or None to follow JupyterLab's display language"
        )
    return found


@cache
def catalog(language: str) -> dict[str, str]:
    """The messages of ``language`` (one of :data:`SUPPORTED`), key -> text."""
    text = (files("modelpanel") / "strings" / f"{language}.json").read_text(encoding="utf-8")
    return json.loads(text)


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def translate(language: str, key: str, **values: Any) -> str:
    """The message ``key`` in ``language`` with its ``{placeholders}`` filled; the key itself
    when no catalog has it (a missing word must not hide the panel)."""
    messages = catalog(language)
    text = None
    if values.get("n") in (1, "1"):
        text = messages.get(f"{key}_one")
    if text is None:
        text = messages.get(key, key)
    return _PLACEHOLDER.sub(lambda m: str(values[m[1]]) if m[1] in values else m[0], text)


def t(key: str, **values: Any) -> str:
    """:func:`translate` in the language of the enclosing :func:`use_language` (English outside)."""
    return translate(_current.get(), key, **values)


@contextlib.contextmanager
def use_language(language: str | None) -> Iterator[str]:
    """Make :func:`t` speak ``language`` (None: English) inside the block; yields the language."""
    token = _current.set(language or "en")
    try:
        yield language or "en"
    finally:
        _current.reset(token)
