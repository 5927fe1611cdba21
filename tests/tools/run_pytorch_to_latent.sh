#!/bin/sh
# Runs examples/pytorch_to_latent end to end (PyTorch trains one epoch, latent scores the same
# weights) when Fashion-MNIST and python3-torch are present; skips (77) otherwise.
# Usage: run_pytorch_to_latent.sh EXAMPLE SOURCE_DIR WORKDIR
example=$1
source_dir=$2
workdir=$3
for candidate in "${LATENT_DATA:-}" "$source_dir/data" /usr/share/datasets; do
  if [ -n "$candidate" ] && [ -e "$candidate/fashion-mnist/t10k-labels-idx1-ubyte.gz" ]; then
    LATENT_DATA=$candidate
    break
  fi
done
if [ -z "${LATENT_DATA:-}" ] || [ ! -e "$LATENT_DATA/fashion-mnist/t10k-labels-idx1-ubyte.gz" ]; then
  echo "Fashion-MNIST is not installed (scripts/fetch-data installs it); skipping"
  exit 77
fi
/usr/bin/python3 -c "import torch" 2>/dev/null || { echo "python3-torch is not installed; skipping"; exit 77; }
export LATENT_DATA
/usr/bin/python3 "$source_dir/examples/pytorch_to_latent/train_torch.py" "$workdir" 1 || exit 1
out=$("$example" "$workdir" 2>&1)
status=$?
echo "$out"
[ $status -eq 0 ] || exit $status
echo "$out" | grep -q "(identical)" || { echo "the accuracies differ"; exit 1; }
