import neurocal.cli
from neurocal.cli import main

neurocal.cli.AS_PROGRAM = True
main()
