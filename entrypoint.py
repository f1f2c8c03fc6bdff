"""Process entry for the Docker action, act and plain shells alike."""

import sys

from echo_notify.main import main

if __name__ == "__main__":
    sys.exit(main(argv=sys.argv[1:]))  # `watchdog`: the watchdog action's run
