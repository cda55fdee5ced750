from fwload.cli.main import main

if __name__ == "__main__":  # not when a spawned helper process (analysis charts) imports it
    main()
