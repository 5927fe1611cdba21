// dlib side of the peer runtime comparison (latent vs PyTorch vs dlib): trains or runs the
// reference networks (rows W2-W5) with dlib 19.24 on the CPU and prints one tab-separated
// line per repetition, `<row>\t<threads>\t<value>\t<unit>`, on stdout.
//
// Build (one file, no -j):
//   g++ -std=c++17 -O3 -march=native -DNDEBUG bench/peers/dlib_peer.cpp \
//       $(pkg-config --libs --cflags dlib-1) -o /tmp/dlib_peer
// Run:
//   OPENBLAS_NUM_THREADS=T OMP_NUM_THREADS=T /tmp/dlib_peer --threads T --reps R [--rows W2.b64,...]
// The program cannot set the BLAS thread count itself; it only echoes T.
//
// Training rows use dlib's low-level API (no dnn_trainer and so no asynchronous trainer
// thread): the batch is converted with net.to_tensor() once, then every iteration is
//   net.compute_parameter_gradients(x, labels.begin());
//   net.update_parameters(make_sstack(solvers), lr);
//
// Where the dlib networks differ from the (Keras-notation) specification:
//  * Batch normalisation (all rows with BN): dlib's bn_ uses eps = 1e-4 (DEFAULT_BATCH_NORM_EPS;
//    Keras: 1e-3) and a running-statistics window of 100 updates (~ Keras momentum 0.99).
//    dlib stores only gamma and beta as parameters (the running mean/variance live outside
//    get_layer_params()), so count_parameters() reports 2 fewer numbers per BN channel than
//    Keras: 1,677,674 for MiniVGG instead of 1,679,082.
//  * W3 (MiniVGG): dlib's `dropout` alias has no rate parameter (always 0.5); the two 0.25
//    dropouts are set by assigning dropout_(0.25) to those layers after construction, so
//    the rates are as specified.
//  * W4 (autoencoder): dlib's upsample<2> is BILINEAR (tt::resize_bilinear), not nearest-
//    neighbour like Keras' UpSampling2D default; dlib has no nearest-neighbour upsampling
//    layer. The reshape to 7x7x8 is extract<0,8,7,7> (a copy of the 392 values into a
//    k=8, 7x7 tensor, channel-major, i.e. NCHW order rather than Keras' NHWC order, which
//    only permutes the meaning of the Dense(392) outputs; likewise the
//    implicit Flatten before Dense(2) reads NCHW). Loss: loss_mean_squared_per_pixel
//    (mean over batch and pixels, as Keras' MSE).
//  * W5.mlp: the "network in inference" is the MLP with a softmax layer on top and no loss
//    layer, run with net.forward(tensor) on a tensor built once by net.to_tensor().
//  * W5.tiny: the subnet of loss_mean_squared<fc<1,htan<fc<16,htan<fc<16,input>>>>>>, run
//    with net.subnet().forward(tensor).
//  * Input images are matrix<float> 28x28 (input<matrix<float>> gives k=1, 28x28 tensors;
//    fc flattens them, so the MLPs see 784 inputs). Convolutions are con<N,3,3,1,1>, whose
//    default padding for stride 1 is nr/2 = 1, i.e. 'same'; max_pool<2,2,2,2> has padding 0.

#include <dlib/dnn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

using namespace dlib;

namespace {

// ---------------------------------------------------------------------------------------
// Networks (dlib types read from the output back to the input).

using image = matrix<float>;  // one 28x28x1 image (or an 8x1 vector for the tiny MLP)

// W2: MLP 784-256-128-10, softmax cross-entropy.
using mlp_train = loss_multiclass_log<
    fc<10, relu<fc<128, relu<fc<256, input<image>>>>>>>;

// W5.mlp: the same MLP in inference, with the softmax applied.
using mlp_infer = softmax<fc<10, relu<fc<128, relu<fc<256, input<image>>>>>>>;

// W5.tiny: 8-16-16-1 with tanh after the first two layers.
using tiny_net = loss_mean_squared<fc<1, htan<fc<16, htan<fc<16, input<image>>>>>>>;

// W3: MiniVGG. Keras order conv -> ReLU -> BN, so in dlib bn_con<relu<con<...>>>.
template <long N, typename SUBNET>
using conv_relu_bn = bn_con<relu<con<N, 3, 3, 1, 1, SUBNET>>>;

using minivgg = loss_multiclass_log<
    fc<10,
    dropout<                                      // 0.5 (dlib default)
    bn_fc<relu<fc<512,
    dropout<                                      // set to 0.25 after construction
    max_pool<2, 2, 2, 2,
    conv_relu_bn<64, conv_relu_bn<64,
    dropout<                                      // set to 0.25 after construction
    max_pool<2, 2, 2, 2,
    conv_relu_bn<32, conv_relu_bn<32,
    input<image>>>>>>>>>>>>>>>;

// W4: convolutional autoencoder, MSE against the input image.
using autoencoder = loss_mean_squared_per_pixel<
    sig<con<1, 3, 3, 1, 1,                        // Conv 1, Sigmoid
    conv_relu_bn<32,                              // Conv 32, ReLU, BN
    upsample<2, conv_relu_bn<32,                  // Conv 32, ReLU, BN, UpSampling 2x
    upsample<2, conv_relu_bn<16,                  // Conv 16, ReLU, BN, UpSampling 2x
    conv_relu_bn<8,                               // Conv 8, ReLU, BN
    extract<0, 8, 7, 7,                           // Reshape to 7x7x8
    relu<fc<392,                                  // Dense 392, ReLU
    fc<2,                                         // Dense 2 (Flatten is implicit in fc)
    conv_relu_bn<8,                               // Conv 8, ReLU, BN
    max_pool<2, 2, 2, 2, conv_relu_bn<16,         // Conv 16, ReLU, BN, MaxPool 2
    conv_relu_bn<32,                              // Conv 32, ReLU, BN
    max_pool<2, 2, 2, 2, conv_relu_bn<32,         // Conv 32, ReLU, BN, MaxPool 2
    input<image>>>>>>>>>>>>>>>>>>>>;

// ---------------------------------------------------------------------------------------
// Synthetic data (fixed seed).

std::vector<image> random_images(std::mt19937& rng, size_t n, long nr, long nc) {
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<image> out(n);
  for (auto& m : out) {
    m.set_size(nr, nc);
    for (long r = 0; r < nr; ++r)
      for (long c = 0; c < nc; ++c) m(r, c) = u(rng);
  }
  return out;
}

std::vector<unsigned long> random_labels(std::mt19937& rng, size_t n, unsigned long classes) {
  std::uniform_int_distribution<unsigned long> u(0, classes - 1);
  std::vector<unsigned long> out(n);
  for (auto& l : out) l = u(rng);
  return out;
}

// ---------------------------------------------------------------------------------------
// Timing.

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

constexpr double kMinSeconds = 0.3;  // warm-up and every timed block last at least this
constexpr long kMinIters = 3;        // ... and at least this many iterations

// Warms `step` up, then prints `reps` lines. Each timed block runs `step` in chunks sized
// from the warm-up (about 1 ms each, so the clock is read rarely for tiny steps) until it
// has lasted kMinSeconds and done kMinIters iterations. `per_iter` is how many samples one
// step processes; `latency` selects ns/sample instead of samples/s.
template <typename Step>
void bench_row(const std::string& id, int threads, int reps, long per_iter, bool latency,
               Step&& step) {
  long warm_iters = 0;
  const auto w0 = clock_type::now();
  while (warm_iters < kMinIters || seconds_since(w0) < kMinSeconds) {
    step();
    ++warm_iters;
  }
  const double est = seconds_since(w0) / static_cast<double>(warm_iters);
  const long chunk = std::max<long>(1, static_cast<long>(1e-3 / est));

  for (int r = 0; r < reps; ++r) {
    long iters = 0;
    double secs = 0.0;
    const auto t0 = clock_type::now();
    do {
      for (long i = 0; i < chunk; ++i) step();
      iters += chunk;
      secs = seconds_since(t0);
    } while (iters < kMinIters || secs < kMinSeconds);

    const double samples = static_cast<double>(iters) * static_cast<double>(per_iter);
    if (latency)
      std::printf("%s\t%d\t%.1f\tns\n", id.c_str(), threads, secs * 1e9 / samples);
    else
      std::printf("%s\t%d\t%.1f\tsamples/s\n", id.c_str(), threads, samples / secs);
    std::fflush(stdout);
  }
}

// One training row: builds the batch tensor once, then times
// compute_parameter_gradients + update_parameters.
template <typename Net, typename Solver, typename Label>
void bench_train(const std::string& id, int threads, int reps, Net& net, Solver solver,
                 double lr, const std::vector<image>& inputs, const std::vector<Label>& labels) {
  resizable_tensor x;
  net.to_tensor(inputs.begin(), inputs.end(), x);
  std::vector<Solver> solvers(Net::num_computational_layers, solver);
  double loss = 0.0;
  bench_row(id, threads, reps, static_cast<long>(inputs.size()), false, [&] {
    loss = net.compute_parameter_gradients(x, labels.begin());
    net.update_parameters(make_sstack(solvers), lr);
  });
  std::cerr << id << ": final loss " << loss << ", " << count_parameters(net)
            << " parameters (dlib count)\n";
}

// ---------------------------------------------------------------------------------------
// Rows.

void row_w2(const std::string& id, long batch, int threads, int reps) {
  std::mt19937 rng(42);
  const auto images = random_images(rng, batch, 28, 28);
  const auto labels = random_labels(rng, batch, 10);
  mlp_train net;
  bench_train(id, threads, reps, net, sgd(0, 0.9), 0.01, images, labels);
}

void row_w3(const std::string& id, int threads, int reps) {
  std::mt19937 rng(43);
  const auto images = random_images(rng, 64, 28, 28);
  const auto labels = random_labels(rng, 64, 10);
  minivgg net;
  // dlib's dropout alias always has rate 0.5: the two dropouts after the pooling layers
  // get 0.25. Layers are visited from the output back, so the first dropout seen is the 0.5
  // one before the last Dense.
  int seen = 0;
  visit_computational_layers(net, [&](auto& l) {
    if constexpr (std::is_same_v<std::decay_t<decltype(l)>, dropout_>) {
      if (seen++ > 0) l = dropout_(0.25f);
    }
  });
  std::cerr << "W3 MiniVGG dropout rates (output first):";
  visit_computational_layers(net, [&](auto& l) {
    if constexpr (std::is_same_v<std::decay_t<decltype(l)>, dropout_>)
      std::cerr << ' ' << l.get_drop_rate();
  });
  std::cerr << '\n';
  bench_train(id, threads, reps, net, sgd(0, 0.9), 0.01, images, labels);
}

void row_w4(const std::string& id, int threads, int reps) {
  std::mt19937 rng(44);
  const auto images = random_images(rng, 64, 28, 28);
  autoencoder net;
  // The target of every sample is the image itself.
  bench_train(id, threads, reps, net, adam(0, 0.9, 0.999), 1e-3, images, images);
}

void row_w5_mlp(const std::string& id, int threads, int reps) {
  std::mt19937 rng(45);
  const auto sample = random_images(rng, 1, 28, 28);
  mlp_infer net;
  resizable_tensor x;  // built once, reused by every forward
  net.to_tensor(sample.begin(), sample.end(), x);
  volatile float sink = 0.0f;
  bench_row(id, threads, reps, 1, true, [&] { sink = net.forward(x).host()[0]; });
  (void)sink;
}

void row_w5_tiny(const std::string& id, int threads, int reps) {
  std::mt19937 rng(46);
  const auto sample = random_images(rng, 1, 8, 1);  // an 8-vector
  tiny_net net;
  resizable_tensor x;
  net.to_tensor(sample.begin(), sample.end(), x);
  volatile float sink = 0.0f;
  bench_row(id, threads, reps, 1, true,
            [&] { sink = net.subnet().forward(x).host()[0]; });
  (void)sink;
}

const std::vector<std::string> kAllRows = {"W2.b64", "W2.b256", "W3.b64", "W4.b64",
                                           "W5.mlp", "W5.tiny"};

void run_row(const std::string& id, int threads, int reps) {
  if (id == "W2.b64") row_w2(id, 64, threads, reps);
  else if (id == "W2.b256") row_w2(id, 256, threads, reps);
  else if (id == "W3.b64") row_w3(id, threads, reps);
  else if (id == "W4.b64") row_w4(id, threads, reps);
  else if (id == "W5.mlp") row_w5_mlp(id, threads, reps);
  else if (id == "W5.tiny") row_w5_tiny(id, threads, reps);
}

[[noreturn]] void usage(const char* msg) {
  std::cerr << "error: " << msg << "\nusage: dlib_peer --threads T --reps R [--rows "
               "W2.b64,W2.b256,W3.b64,W4.b64,W5.mlp,W5.tiny]\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1;
  int reps = 1;
  std::vector<std::string> rows = kAllRows;

  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) usage(("missing value after " + arg).c_str());
    const std::string val = argv[++i];
    if (arg == "--threads") {
      threads = std::atoi(val.c_str());
    } else if (arg == "--reps") {
      reps = std::atoi(val.c_str());
    } else if (arg == "--rows") {
      rows.clear();
      std::stringstream ss(val);
      for (std::string id; std::getline(ss, id, ',');) {
        if (id.empty()) continue;
        // A row id or a workload ("W2"); the workloads dlib has no part in (W1's GEMM, W7's
        // recurrent layers, which dlib lacks) select nothing here.
        for (const auto& row : kAllRows)
          if ((row == id || row.rfind(id + ".", 0) == 0) &&
              std::find(rows.begin(), rows.end(), row) == rows.end())
            rows.push_back(row);
      }
    } else {
      usage(("unknown option " + arg).c_str());
    }
  }
  if (threads < 1 || reps < 1) usage("--threads and --reps must be >= 1");

  try {
    for (const auto& id : rows) run_row(id, threads, reps);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
