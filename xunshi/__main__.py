from xunshi.entry import main

main()
