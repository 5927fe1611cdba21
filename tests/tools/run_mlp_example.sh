#!/bin/sh
# Runs examples/mlp_fashion_mnist for one epoch on the real Fashion-MNIST when it is present
# ($LATENT_DATA/fashion-mnist or Debian's /usr/share/datasets/fashion-mnist); skips (77) otherwise.
# Usage: run_mlp_example.sh EXAMPLE WORKDIR
example=$1
workdir=$2
data=${LATENT_DATA:-}
if [ -z "$data" ] || [ ! -e "$data/fashion-mnist/t10k-labels-idx1-ubyte.gz" ]; then
  if [ ! -e /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz ]; then
    echo "Fashion-MNIST is not installed (scripts/fetch-data installs it); skipping"
    exit 77
  fi
fi
mkdir -p "$workdir" && cd "$workdir" || exit 1
out=$("$example" 1 2>&1)
status=$?
echo "$out"
[ $status -eq 0 ] || exit $status
# One epoch already gets past 0.80 on the real test set.
echo "$out" | grep -Eq "test accuracy 0\.(8[0-9]|9[0-9])" || { echo "accuracy below 0.80"; exit 1; }
