from kurobara.cli import main

main()
