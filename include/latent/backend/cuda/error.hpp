// latent::cuda_error and the checks that turn every failed CUDA runtime or cuBLAS call into it,
// naming the call, where it was made, and the library's own message.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include "../../core/errors.hpp"

namespace latent {

// A CUDA runtime or cuBLAS call failed; id() is "latent.cuda.<function>".
class cuda_error : public error {
public:
    using error::error;
};

namespace detail {

inline std::string cuda_call_name(const char* call) {
    std::string name(call);
    return name.substr(0, name.find('('));
}

inline void cuda_check(cudaError_t status, const char* call, const char* file, int line) {
    if (status == cudaSuccess) return;
    (void)cudaGetLastError();  // reset the last error, so that the next check does not see this one again
    throw cuda_error("latent.cuda." + cuda_call_name(call), std::string(call) + " failed at " + file + ":" +
                                                                std::to_string(line) + ": " + cudaGetErrorString(status) +
                                                                " (" + cudaGetErrorName(status) + ")");
}

inline void cuda_check(cublasStatus_t status, const char* call, const char* file, int line) {
    if (status == CUBLAS_STATUS_SUCCESS) return;
    throw cuda_error("latent.cuda." + cuda_call_name(call), std::string(call) + " failed at " + file + ":" +
                                                                std::to_string(line) + ": " + cublasGetStatusString(status) +
                                                                " (" + cublasGetStatusName(status) + ")");
}

}  // namespace detail
}  // namespace latent

// Checks a CUDA runtime or cuBLAS call: throws latent::cuda_error naming the call on failure.
#define LATENT_CUDA_CHECK(call) ::latent::detail::cuda_check((call), #call, __FILE__, __LINE__)
