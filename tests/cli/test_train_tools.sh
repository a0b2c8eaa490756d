#!/usr/bin/env bash
# The training tools outside C (models/train/): augment.py's own checks (measured RT60 of
# its room responses, AGC level spread, mix SNR, codec length and alignment, FLAC writer,
# determinism across --jobs, the cache). They need Debian's python3 with numpy and ffmpeg.
set -u
SRC=${CM_SOURCE_DIR:?}
/usr/bin/python3 -c "import numpy" 2>/dev/null || { echo "python3-numpy not installed (make check installs it)" >&2; exit 1; }
command -v ffmpeg >/dev/null || { echo "ffmpeg not installed (make check installs it)" >&2; exit 1; }
cd "$SRC" && /usr/bin/python3 models/train/test_augment.py
