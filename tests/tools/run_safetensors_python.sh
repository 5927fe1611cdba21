#!/bin/sh
# CTest driver for io.safetensors_python: writes a sample file with latent, then checks it
# with the independent numpy reader. Exits 77 (CTest's skip) when python3 or numpy is missing.
# usage: run_safetensors_python.sh WRITER READER_SCRIPT OUT_FILE [reader arguments...]
set -u
writer=$1 script=$2 out=$3
shift 3
python=/usr/bin/python3
if [ ! -x "$python" ]; then
    echo "SKIP: $python not found"
    exit 77
fi
if ! "$python" -c "import numpy" 2>/dev/null; then
    echo "SKIP: numpy is not installed for $python (Debian: python3-numpy)"
    exit 77
fi
rm -f "$out"
"$writer" "$out" || { echo "FAIL: $writer exited with $?"; exit 1; }
exec "$python" "$script" "$out" "$@"
