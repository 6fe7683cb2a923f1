"""Run by `make test` with the built wheel installed in a fresh virtualenv:
catches packaging mistakes (missing files, wrong module name, no stubs)."""

import importlib.resources
import shutil
import sys

# The user's machine has no Rust toolchain; neither has this test's PATH.
assert shutil.which("cargo") is None and shutil.which("rustc") is None, "a Rust toolchain is on PATH"

import friendgate
from friendgate.testing import sample_body, signed_query

reply = friendgate.CallbackHandler(app_ids=[1400000000], tokens=["t"]).handle(signed_query(1400000000, "t"), sample_body())
assert reply.status == 200, reply
files = {f.name for f in importlib.resources.files("friendgate").iterdir()}
missing = {"py.typed", "_native.pyi", "errors.py", "flask.py", "starlette.py", "django.py"} - files
assert not missing, f"wheel lacks {missing}"
assert "site-packages" in friendgate.__file__, friendgate.__file__
native = next(importlib.resources.files("friendgate").glob("_native*.so"))
assert native.name == "_native.abi3.so", native.name
print(f"wheel ok: friendgate {friendgate.__version__} on Python {sys.version.split()[0]}")
