from rednet.cli import main

raise SystemExit(main())
