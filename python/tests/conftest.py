import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PKG_ROOT = os.path.dirname(HERE)
REPO = os.path.dirname(PKG_ROOT)
SAMPLES = os.path.join(REPO, "Samples", "Python")
VECTORS = os.path.join(REPO, "Tests", "Vectors", "python")
sys.path.insert(0, HERE)
if os.environ.get("CANCELTRACE_TEST_SOURCE"):
    sys.path.insert(0, PKG_ROOT)
