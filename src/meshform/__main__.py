from meshform.cli import main

main()
