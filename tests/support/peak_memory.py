"""Peak resident memory of one call, measured by the kernel (Linux): ``peak_rss_growth(fn)``.

``ru_maxrss`` is a high-water mark for the whole process life, so an allocation below an earlier
peak (building the model) would not show. Writing 5 to ``/proc/self/clear_refs`` resets the
peak (``VmHWM``) to the current RSS (Linux >= 4.0, see proc(5)); the growth is then the peak
during the call minus the RSS before it. It counts every allocation: torch's, numpy's, Python's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        return int(re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.MULTILINE).group(1))


def peak_rss_growth(fn: Callable[[], Any]) -> tuple[int, Any]:
    """``(bytes the peak RSS rose above the RSS before the call, fn's result)``."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = _status_kib("VmRSS")
    result = fn()
    return (_status_kib("VmHWM") - before) * 1024, result
