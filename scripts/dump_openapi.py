"""Print the backend's OpenAPI schema as JSON, without starting the app.

    python scripts/dump_openapi.py > frontend/openapi.json

The app's lifespan (store, engine, feed) never runs: ``openapi()`` only reads
the routes. ENVIRONMENT defaults to development so that the placeholder
SECRET_KEY is accepted. The app is imported from this checkout (not from
whichever copy of ``live_trading`` the environment has installed).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    os.environ.setdefault("ENVIRONMENT", "development")
    sys.path.insert(0, str(ROOT))
    from live_trading.api.app import create_app

    json.dump(create_app().openapi(), sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
