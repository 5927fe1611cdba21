// A pooling layer takes Padding::valid or Padding::same; Padding::causal is Conv1D's alone (Keras'
// MaxPooling1D has no causal padding either). One error, naming the rule.
// EXPECT: Padding::causal is Conv1D's alone, as in Keras: a pooling layer takes Padding::valid or Padding::same
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Pool = MaxPooling1D<2, 2, Padding::causal>;
#else
using Pool = MaxPooling1D<2, 2, Padding::same>;
#endif
int main() {
    Sequential<Input<9, 3>, Conv1D<4, 3, Padding::causal>, Pool, Flatten, Dense<2>> net;
    return static_cast<int>(net.parameters().values().size() == 0);
}
