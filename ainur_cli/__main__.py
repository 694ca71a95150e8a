from ainur_cli.cli import main

main()
