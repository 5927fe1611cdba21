// A callback type with none of Keras' hooks (here a misspelt on_epoch_end) in FitOptions::callbacks.
// EXPECT: latent: a callback needs at least one of the hooks on_train_begin, on_epoch_begin
#include <latent/latent.hpp>
using namespace latent;
struct Misspelt {
    void on_epoch_ended(std::size_t, Logs&) {}
};
struct Spelt {
    void on_epoch_end(std::size_t, Logs&) {}
};
#ifdef LATENT_EXPECT_FAIL
using Counter = Misspelt;
#else
using Counter = Spelt;
#endif
int main() {
    Counter counter;
    FitOptions options;
    options.callbacks = {counter};
    return static_cast<int>(options.callbacks.size());
}
