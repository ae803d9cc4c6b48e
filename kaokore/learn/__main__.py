"""``python -m kaokore.learn``: learning commands on torch, torchvision, numpy and Pillow only."""

import sys

from kaokore.learn.cli import main

sys.exit(main())
