from neurocal.cli import main

main()
