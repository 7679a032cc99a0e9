from bcm_local.cli import main

raise SystemExit(main())
