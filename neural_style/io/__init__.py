"""Files and terminals: image I/O with atomic writes, animations, JSON reports, progress bars."""
