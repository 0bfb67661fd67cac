"""``python -m openworkshop_steam.fake``: the same as ``openworkshop fake-steam``."""

import sys

from openworkshop_steam.fake.cli import main

sys.exit(main())
