"""What every request body shares: unknown fields and loose types refused; the version spec's documentation."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class In(BaseModel):
    """A request body: unknown fields are refused, and so are ``true`` or ``"3"`` for a number."""

    model_config = ConfigDict(extra="forbid", strict=True)


SPEC_DOC = (
    "A version spec: image, flavor, instances, ports [{name, port, protocol}], env {NAME: value}, "
    "secret_env {NAME: value} (stored sealed, shown as <secret:...>), config_files {relative/path: content}, "
    "readiness/liveness {port, path, initial_delay_seconds, period_seconds}, pre_stop [command...], "
    "termination_grace_seconds, security (restricted | baseline), run_as_user."
)
