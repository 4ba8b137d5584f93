from nsexplorer.cli import main

raise SystemExit(main())
