"""`python -m cronbeat.cli`, the same as the `cronbeat` console script."""

import sys

from cronbeat.cli.main import main

sys.exit(main())
