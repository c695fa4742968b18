from icbmap.cli import main

raise SystemExit(main())
