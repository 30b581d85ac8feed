"""Who holds a lease: a stable replica id, plus this process's life.

A lease owner reads ``<replica id>/<role>:<pid>:<random>``. The replica id survives restarts:
``KUROBARA_REPLICA_ID`` when set, else a random id written once to ``<data dir>/replica-id``.
So a process that starts again recognises leases its previous life left behind (same replica
id and role, another pid or random part) and hands them back at once instead of leaving those
providers ``testing`` until the leases expire. Only a life whose process has ended is one:
the workers of ``kurobara serve --workers N`` share the data dir, so the lineage, and a worker
starting beside running ones leaves their leases alone (``earlier_life``). The role keeps a web
replica and a ``kurobara monitor`` process that share a data dir from taking each other's live
leases; processes on different machines that share a data dir need their own
``KUROBARA_REPLICA_ID``.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import uuid
from pathlib import Path

from kurobara.config import Settings

logger = logging.getLogger("kurobara.monitoring")

ID_FILE = "replica-id"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def replica_id(settings: Settings) -> str:
    """The configured id, else the one stored in the data dir (created on first use); the host
    name when the data dir cannot be written."""
    if settings.replica_id:
        return _SAFE.sub("-", settings.replica_id)[:40]
    path = Path(settings.data_dir) / ID_FILE
    try:
        stored = path.read_text().strip()
        if stored:
            return _SAFE.sub("-", stored)[:40]
    except FileNotFoundError:
        pass
    except OSError:
        logger.warning("cannot read %s; using the host name as replica id", path)
        return _SAFE.sub("-", socket.gethostname())[:40]
    new = uuid.uuid4().hex[:16]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(new + "\n")
    except OSError:
        logger.warning("cannot write %s; using the host name as replica id", path)
        return _SAFE.sub("-", socket.gethostname())[:40]
    return new


def lineage(replica: str, role: str) -> str:
    """The owner prefix every life of this replica's process of ``role`` shares."""
    return f"{replica}/{role}:"


def process_owner(replica: str, role: str) -> str:
    """This process's lease owner (at most 64 characters, the column's width)."""
    return f"{lineage(replica, role)}{os.getpid()}:{uuid.uuid4().hex[:8]}"


def earlier_life(owner: str, lineage_prefix: str) -> bool:
    """Whether ``owner`` (of ``lineage_prefix``) is a process of this machine that has ended,
    or an earlier run inside this very process: its leases can be handed back at once. A
    process still running (another worker, or one of another user) keeps them."""
    pid_text = owner.removeprefix(lineage_prefix).partition(":")[0]
    if not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
