log() { echo "[build] $*"; }
