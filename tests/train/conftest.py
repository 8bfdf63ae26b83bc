import sys
from pathlib import Path

# The helpers in _tiny.py are shared with the 2-process worker script.
sys.path.insert(0, str(Path(__file__).parent))
