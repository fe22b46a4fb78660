"""Deterministic identifiers and simulator seeds: the same test gets the same ones on every run."""

from __future__ import annotations

import hashlib
import itertools
import json
import uuid
from collections import Counter
from typing import Any

from .memo import by_text

_ALPHABET = "0123456789abcdefghijklmnopqrstuv"
#: Each byte value's character: the alphabet's (value mod 32)th.
_CHARACTERS = bytes(ord(_ALPHABET[value % 32]) for value in range(256))

#: Encoded parts whose bytes differ from run to run (QPY and samplex JSON carry each
#: Parameter's random uuid), so a job's content is read without them: the RuntimeEncoder's
#: types (sampler, estimator) and the executor schema's fields.
_RUN_DEPENDENT_TYPES = frozenset({"QuantumCircuit", "Parameter", "Instruction"})
_RUN_DEPENDENT_KEYS = frozenset({"b64_data", "samplex_json"})


class IdFactory:
    """Makes ids shaped like the service's (20 characters for jobs, UUIDs for sessions), from
    the seed, a namespace and one counter.

    The namespace (the plugin passes the test's node id) keeps two platforms of one process
    apart: a job handle left over from another test cannot find a job here under its id.
    """

    def __init__(self, seed: int, namespace: str = "") -> None:
        self._seed = seed
        self._prefix = f"{seed}/{namespace}" if namespace else f"{seed}"
        self._counter = itertools.count(1)
        self._jobs_with_content: Counter[str] = Counter()

    def new(self, kind: str) -> str:
        n = next(self._counter)
        digest = hashlib.sha256(f"{self._prefix}/{kind}/{n}".encode()).digest()
        return digest[:20].translate(_CHARACTERS).decode()

    def new_uuid(self, kind: str) -> str:
        """A UUID (version 4 layout), the shape the service now gives session ids."""
        n = next(self._counter)
        digest = hashlib.sha256(f"{self._prefix}/{kind}/{n}".encode()).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))

    def job_seed(self, program_id: str, backend: str, tags: list[str], params_text: str) -> int:
        """A 32-bit simulator seed from what the job asks for and how many asked the same before.

        Not from the job id or the submission order, which threads interleave: a thread that
        tags its jobs, or sends its own parameter values, gets the same shot noise on every run.
        ``params_text`` is the job's params as JSON.
        """
        parts = (program_id, backend, sorted(tags))
        content = ",".join([*map(_compact, parts), _content_of(params_text)])
        key = hashlib.sha256(f"[{content}]".encode()).hexdigest()
        before = self._jobs_with_content[key]
        self._jobs_with_content[key] += 1
        digest = hashlib.sha256(f"{self._seed}/{key}/{before}".encode()).digest()
        return int.from_bytes(digest[:4], "big")


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


@by_text
def _content_of(params_text: str) -> str:
    """The params as `job_seed` reads them: without run-dependent bytes, keys sorted."""
    return _compact(_without_run_dependent_bytes(json.loads(params_text)))


def _without_run_dependent_bytes(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get("__type__") in _RUN_DEPENDENT_TYPES:
            return value["__type__"]
        return {
            key: "..." if key in _RUN_DEPENDENT_KEYS else _without_run_dependent_bytes(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_without_run_dependent_bytes(item) for item in value]
    return value
