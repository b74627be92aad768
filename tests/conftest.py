import os

import jax
import pytest
from hypothesis import HealthCheck, settings

jax.config.update("jax_enable_x64", True)

settings.register_profile("dev", max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")

#: compiled vs exact, by dtype (STYLE.md tolerance policy)
RTOL = {"float64": 1e-12, "float32": 1e-5}


@pytest.fixture
def rtol():
    return RTOL
