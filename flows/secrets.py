"""SECRET values: encrypted at rest, shown as ``******``, read in clear by tasks only.

A SECRET flow input or answer is stored as the JSON value ``{"$secret": "<Fernet
token>"}`` (a *sealed* value) wherever it lands: Execution.inputs, a token's
response, the Pause's outputs, an approvals Answer. The marker travels with the
value, so showing a row needs no input definitions: ``mask()`` turns every sealed
value into ``******``, whatever the path. Definitions are used once, by ``seal()``,
when validated values are first stored.

- ``seal(defs, values)``: the SECRET paths of validated values, encrypted.
- ``reveal(value)``: every sealed value decrypted; only for rendering expressions.
- ``mask(value)``: every sealed value as ``******``; for every page, API body,
  audit event, answer snapshot and admin view.
- ``scrub(value, known)`` / ``seal_derived(value, known)``: a task's logs, errors
  and messages with the known plaintexts replaced by ``******``, and its outputs
  with every string that holds one sealed (later tasks still read it in clear).

The key is SIGNOFF_ENCRYPTION_KEY: a Fernet key, or several separated by commas
(MultiFernet: the first encrypts, all of them decrypt, so a new key goes first and
the old ones stay until no row needs them). With DEBUG on and no key, a key
derived from SECRET_KEY is used; with DEBUG off and no key, storing a secret is
refused (KeyMissing, a validation error saying what to set).
"""

import base64
import hashlib
import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from flows.inputs import InputDef, InputValidationError

MARK = "$secret"
MASK = "******"
# Shorter secrets are not scrubbed out of free text: they would blank out words.
MIN_SCRUB_LENGTH = 4
KEY_HELP = (
    "set SIGNOFF_ENCRYPTION_KEY to a Fernet key (make one with: python -c "
    '"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())")'
)
_SECRET_TYPES = {"SECRET"}


class KeyMissing(InputValidationError):
    """No encryption key: a SECRET value cannot be stored (refused like bad input)."""

    def __init__(self, field: str = "__all__"):
        message = f"This server cannot store SECRET values: {KEY_HELP}."
        super().__init__({field: [message]})


class KeyInvalid(ValueError):
    """SIGNOFF_ENCRYPTION_KEY is set but one of its keys is not a Fernet key."""


class Unreadable:
    """A sealed value no configured key decrypts: using it fails the task run."""

    def __str__(self) -> str:
        raise ValueError(
            "a SECRET value cannot be decrypted with SIGNOFF_ENCRYPTION_KEY "
            "(keep the key it was stored with in the list)"
        )

    def __repr__(self) -> str:
        return "<unreadable secret>"


# -- keys ------------------------------------------------------------------------


def configured_keys() -> list[str]:
    """The keys in SIGNOFF_ENCRYPTION_KEY, first the one that encrypts."""
    raw = getattr(settings, "SIGNOFF_ENCRYPTION_KEY", "") or ""
    return [key.strip() for key in raw.split(",") if key.strip()]


def has_key() -> bool:
    return bool(configured_keys()) or settings.DEBUG


def new_key() -> str:
    """A fresh Fernet key (the demo writes one under var/)."""
    return Fernet.generate_key().decode()


def check_keys(keys: list[str]) -> None:
    """Raise KeyInvalid naming the first key that is not a Fernet key (not its text)."""
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise KeyInvalid(
                f"SIGNOFF_ENCRYPTION_KEY: key {number} of {len(keys)} is not a Fernet "
                "key (32 url-safe base64-encoded bytes)"
            ) from None


def _cipher() -> MultiFernet:
    keys = configured_keys()
    if not keys and settings.DEBUG:
        digest = hashlib.sha256(f"signoff-secrets:{settings.SECRET_KEY}".encode())
        keys = [base64.urlsafe_b64encode(digest.digest()).decode()]
    if not keys:
        raise KeyMissing()
    return _multi(tuple(keys))


@lru_cache(maxsize=8)
def _multi(keys: tuple[str, ...]) -> MultiFernet:
    check_keys(list(keys))
    return MultiFernet([Fernet(key) for key in keys])


# -- sealed values -----------------------------------------------------------------


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and MARK in value


def encrypt(text: str) -> dict:
    """A sealed value: {"$secret": "<Fernet token>"}."""
    return {MARK: _cipher().encrypt(text.encode("utf-8", "surrogatepass")).decode()}


def decrypt(sealed: dict) -> str | Unreadable:
    try:
        token = str(sealed[MARK]).encode()
        return _cipher().decrypt(token).decode("utf-8", "surrogatepass")
    except (InvalidToken, KeyMissing, KeyInvalid, ValueError):
        return Unreadable()


def needs_key(definition: Any) -> str | None:
    """The id of a SECRET input anywhere in a flow (inputs, onResume, Approval)."""
    if isinstance(definition, dict):
        if _is_secret_def(definition):
            return str(definition.get("id") or definition.get("name") or "__all__")
        found = (needs_key(value) for value in definition.values())
    elif isinstance(definition, list):
        found = (needs_key(item) for item in definition)
    else:
        return None
    return next((name for name in found if name), None)


def _is_secret_def(item: dict) -> bool:
    kind = str(item.get("type", "")).upper()
    return "id" in item and (
        kind in _SECRET_TYPES
        or (kind == "ARRAY" and str(item.get("itemType", "")).upper() in _SECRET_TYPES)
    )


def require_key(definition: dict) -> None:
    """Refuse (KeyMissing) a flow that holds a SECRET input when there is no key.

    The error names a flow input first (a JSONB definition has no key order).
    """
    field = needs_key(definition.get("inputs")) or needs_key(definition)
    if field and not has_key():
        raise KeyMissing(field)


def seal(defs: list[InputDef], values: dict) -> dict:
    """Validated nested values with each SECRET one sealed (sealed ones kept).

    A sealed-looking value anywhere else (a JSON input holding {"$secret": ...})
    is refused: only Signoff seals, so nobody can hand a flow a ciphertext to open.
    """
    secret = [d for d in defs if _is_secret(d)]
    _refuse_markers(values, "", {d.id for d in secret}, defs)
    sealed = values
    for defn in secret:
        sealed = _seal_path(sealed, defn.id.split("."), defn)
    return sealed


def _is_secret(defn: InputDef) -> bool:
    return defn.type in _SECRET_TYPES or (
        defn.type == "ARRAY" and defn.item_type in _SECRET_TYPES
    )


def _refuse_markers(value: Any, path: str, allowed: set[str], defs) -> None:
    if path in allowed:
        return
    if is_sealed(value):
        owner = next((d.id for d in defs if f"{path}.".startswith(f"{d.id}.")), path)
        message = f'The key "{MARK}" is reserved for encrypted values.'
        raise InputValidationError({owner or "__all__": [message]})
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, item in items:
        _refuse_markers(item, f"{path}.{key}" if path else str(key), allowed, defs)


def _seal_path(node: Any, path: list[str], defn: InputDef) -> Any:
    if not isinstance(node, dict) or path[0] not in node:
        return node
    head, rest = path[0], path[1:]
    value = node[head]
    if rest:
        changed = _seal_path(value, rest, defn)
    elif isinstance(value, str):
        changed = _encrypt_for(defn, value)
    elif isinstance(value, list):
        changed = [
            _encrypt_for(defn, item) if isinstance(item, str) else item
            for item in value
        ]
    else:
        changed = value
    return node if changed is value else {**node, head: changed}


def _encrypt_for(defn: InputDef, text: str) -> dict:
    try:
        return encrypt(text)
    except KeyMissing:
        raise KeyMissing(defn.id) from None


# -- walking JSON ------------------------------------------------------------------


def _walk(value: Any, on_sealed, on_text=None) -> Any:
    """A copy of `value` with sealed values and strings replaced; unchanged parts
    are the same objects, so a value without secrets is returned as it is."""
    if is_sealed(value):
        return on_sealed(value)
    if isinstance(value, str):
        return on_text(value) if on_text else value
    if isinstance(value, dict):
        items = {key: _walk(item, on_sealed, on_text) for key, item in value.items()}
        same = all(items[key] is item for key, item in value.items())
        return value if same else items
    if isinstance(value, list | tuple):
        items = [_walk(item, on_sealed, on_text) for item in value]
        same = all(new is old for new, old in zip(items, value, strict=True))
        return value if same else items
    return value


def mask(value: Any) -> Any:
    """`value` with every sealed value shown as ******: what people and APIs see."""
    return _walk(value, lambda sealed: MASK)


def reveal(value: Any, known: set[str] | None = None) -> Any:
    """`value` with every sealed value decrypted; `known` collects the plaintexts."""

    def open_(sealed: dict):
        text = decrypt(sealed)
        if known is not None and isinstance(text, str):
            known.add(text)
        return text

    return _walk(value, open_)


def _scrubbable(known) -> list[str]:
    """The plaintexts to look for, also as they appear inside JSON text."""
    texts = {text for text in known if len(text) >= MIN_SCRUB_LENGTH}
    texts |= {json.dumps(text)[1:-1] for text in texts}
    return sorted(texts, key=len, reverse=True)  # a longer secret before its parts


def scrub(value: Any, known) -> Any:
    """Text (or JSON) with every known plaintext replaced by ******."""
    texts = _scrubbable(known)
    if not texts:
        return mask(value)

    def replace(text: str) -> str:
        for secret in texts:
            text = text.replace(secret, MASK)
        return text

    return _walk(value, lambda sealed: MASK, replace)


def seal_derived(value: Any, known) -> Any:
    """A task's outputs with each string holding a known plaintext sealed whole."""
    texts = _scrubbable(known)
    if not texts:
        return value

    def hide(text: str):
        return encrypt(text) if any(secret in text for secret in texts) else text

    return _walk(value, lambda sealed: sealed, hide)


def mask_schema(rows: list[dict]) -> list[dict]:
    """Field descriptions (inputs.to_schema) with a SECRET's default not shown."""
    return [
        {**row, "defaults": MASK}
        if _is_secret_def(row) and row.get("defaults") is not None
        else row
        for row in rows
    ]


# -- system checks ---------------------------------------------------------------


def check_key_setting(app_configs=None, **kwargs) -> list:
    """At startup: a malformed key is an error (its text is never shown)."""
    from django.core.checks import Error

    try:
        check_keys(configured_keys())
    except KeyInvalid as exc:
        return [Error(str(exc), hint=KEY_HELP, id="signoff.E010")]
    return []


def check_key_deployed(app_configs=None, **kwargs) -> list:
    """`check --deploy`: without a key, flows with SECRET inputs are refused."""
    from django.core.checks import Warning

    if configured_keys():
        return []
    return [
        Warning(
            "SIGNOFF_ENCRYPTION_KEY is not set: flows with SECRET inputs cannot "
            "be started and SECRET answers cannot be stored.",
            hint=KEY_HELP,
            id="signoff.W010",
        )
    ]
