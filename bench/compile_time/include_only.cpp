// Compile-time benchmark (d): the cost of including the umbrella header and nothing else.
#include <latent/latent.hpp>
