from xunshi.cli import main

main()
