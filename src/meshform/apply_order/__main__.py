from meshform.apply_order import main

raise SystemExit(main())
