"""pytest runs from the repository root (`python3 -m pytest onnx-models`): make the package and the
test helpers importable."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "tests")]
