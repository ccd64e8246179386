import sys

from kohalint.cli import main

sys.exit(main())
