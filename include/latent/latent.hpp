// The umbrella header: everything in latent except the CUDA backend and the interop headers
// (they bring their own dependencies and compile cost).
#pragma once

#include "config.hpp"

#include "core/arena.hpp"
#include "core/buffer.hpp"
#include "core/diagnostics.hpp"
#include "core/errors.hpp"
#include "core/mode.hpp"
#include "core/random.hpp"
#include "core/shape.hpp"
#include "core/spatial.hpp"
#include "core/tensor.hpp"

#include "backend/backend.hpp"
#include "backend/cpu/reference.hpp"
#include "backend/default.hpp"
#include "backend/ops.hpp"

#include "layers/activation.hpp"
#include "layers/conv.hpp"
#include "layers/dense.hpp"
#include "layers/dropout.hpp"
#include "layers/layer.hpp"
#include "layers/merge.hpp"
#include "layers/noise.hpp"
#include "layers/norm.hpp"
#include "layers/padding.hpp"
#include "layers/pool.hpp"
#include "layers/regularization.hpp"
#include "layers/reshape.hpp"
#include "layers/sampling.hpp"
#include "layers/upsample.hpp"

#include "graph/functional.hpp"
#include "graph/model.hpp"
#include "graph/sequential.hpp"
#include "graph/summary.hpp"
#include "graph/validate.hpp"

#include "loss/binary_crossentropy.hpp"
#include "loss/categorical_crossentropy.hpp"
#include "loss/mean_squared_error.hpp"
#include "loss/sparse_categorical_crossentropy.hpp"

#include "optim/adam.hpp"
#include "optim/rmsprop.hpp"
#include "optim/sgd.hpp"

#include "metrics/accuracy.hpp"

#include "train/checkpoint.hpp"
#include "train/fit.hpp"
#include "train/fit_outputs.hpp"
#include "train/history.hpp"
#include "train/interrupt.hpp"
#include "train/options.hpp"

#include "io/idx.hpp"
#include "io/npy.hpp"
#include "io/safetensors.hpp"

#include "data/batching.hpp"
#include "data/datasets.hpp"
#include "data/one_hot.hpp"
#include "repr/autoencoder.hpp"
#include "repr/corruption.hpp"
#include "repr/linear_probe.hpp"
#include "repr/vae.hpp"
