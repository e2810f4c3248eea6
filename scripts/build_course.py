"""Build the course (see ``autograder/build.py``): ``python scripts/build_course.py --release``."""

from autograder.build import main

if __name__ == "__main__":
    raise SystemExit(main())
