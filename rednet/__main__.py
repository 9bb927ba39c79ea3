from rednet.cli.main import main

raise SystemExit(main())
