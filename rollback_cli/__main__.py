"""``python -m rollback_cli``: the same as the ``rollback`` script."""

import sys

from rollback_cli.main import main

sys.exit(main())
