"""`python -m consumers RECIPIENT`: see consumers/cli.py."""

import sys

from consumers.cli import main

sys.exit(main())
