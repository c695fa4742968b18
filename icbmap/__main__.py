from icbmap.main import main

raise SystemExit(main())
