from student_runtime.cli import main

raise SystemExit(main())
