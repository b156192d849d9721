"""Start the Fine-Tune Studio web UI: python app.py [--host 127.0.0.1] [--port 7860] [--workspace DIR] [--auth U:P]"""

import sys

from studio.cli import main

if __name__ == "__main__":
    sys.exit(main(["ui", *sys.argv[1:]]))
