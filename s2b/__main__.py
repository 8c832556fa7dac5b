"""``python -m s2b`` runs the ``s2b`` command."""

import sys

from s2b.cli import main

sys.exit(main())
