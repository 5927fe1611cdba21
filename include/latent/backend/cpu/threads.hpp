// How many threads cpu::simd's kernels use: OpenMP's team when the program is built with
// OpenMP (-fopenmp; OMP_NUM_THREADS sets the start value), one thread otherwise. A runtime
// setting of the process, as OpenMP's own is.
#pragma once

#include <algorithm>
#include <atomic>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace latent::cpu {

namespace detail {
inline std::atomic<int>& thread_setting() {
#if defined(_OPENMP)
    static std::atomic<int> setting{omp_get_max_threads()};
#else
    static std::atomic<int> setting{1};
#endif
    return setting;
}

// Runs work(id, team) on `team` threads (ids 0 .. team - 1), or inline when team is 1 or when
// called from a thread of a team already (a kernel that calls another on each thread).
template <class Work>
void parallel_for_threads(int team, const Work& work) {
#if defined(_OPENMP)
    if (team > 1 && !omp_in_parallel()) {
#pragma omp parallel num_threads(team)
        work(omp_get_thread_num(), omp_get_num_threads());
        return;
    }
#endif
    (void)team;
    work(0, 1);
}
}  // namespace detail

// The thread count of cpu::simd (at least 1; without OpenMP there is only one).
inline void set_threads(int threads) { detail::thread_setting().store(std::max(1, threads)); }
inline int threads() {
#if defined(_OPENMP)
    return detail::thread_setting().load();
#else
    return 1;
#endif
}

}  // namespace latent::cpu
