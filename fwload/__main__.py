from fwload.cli.main import main

main()
