"""Process entry for the Docker action, act and plain shells alike."""

import sys

from echo_notify import cancel

if __name__ == "__main__":
    cancel.install()  # first: a cancel during the imports below is kept, not lost (cancel.py)
    from echo_notify.main import main

    code = main(argv=sys.argv[1:])  # `watchdog`: the watchdog action's run
    cancel.exiting()
    sys.exit(code)
