// parallel_for: split [0, n) into one contiguous chunk per hardware thread and run fn(begin, end)
// on each, the calling thread taking the first chunk.
//
// Why this and not a pool: the kernels here are memory-bound loops over millions of elements that
// run on a libuv worker thread (inside a Napi::AsyncWorker), so starting a few std::threads per call
// (~20-50 us) is noise next to the work, and there is no shared state to manage. Small inputs
// (n < 2 * minChunk) run inline on the calling thread, where thread start-up would cost more than
// the loop itself. Chunks of 1,024 or more are rounded to 64 elements so that threads never write
// the same cache line (for 4-byte elements, 64 elements = 4 cache lines) and the inner loops stay
// vectorisable; smaller n is a count of blocks or rows, split as evenly as it comes.
//
// fn must not throw: it runs on threads that have no one to catch for them. If a thread cannot be
// started, its chunk runs on the calling thread instead.
#pragma once

#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

namespace rewardkit {

inline size_t hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<size_t>(n);
}

template <typename F>
void parallel_for(size_t n, size_t minChunk, F&& fn) {
  if (n == 0) return;
  if (minChunk == 0) minChunk = 1;
  const size_t hw = hardware_threads();
  if (hw <= 1 || n < minChunk * 2) {
    fn(size_t{0}, n);
    return;
  }
  const size_t maxThreads = std::max<size_t>(1, n / minChunk);
  const size_t threads = std::min(hw, maxThreads);
  if (threads <= 1) {
    fn(size_t{0}, n);
    return;
  }
  size_t chunk = (n + threads - 1) / threads;
  // Round to 64 only when chunks are large: for a count of blocks or rows (n of a few dozen),
  // rounding a chunk of 32 up to 64 would hand everything to one thread.
  if (chunk >= 1024) chunk = (chunk + 63) & ~static_cast<size_t>(63);

  std::vector<std::thread> workers;
  workers.reserve(threads - 1);
  std::vector<std::pair<size_t, size_t>> inlineChunks;  // chunks whose thread failed to start
  inlineChunks.reserve(threads);  // allocate before any thread starts: nothing below may throw
  for (size_t begin = chunk; begin < n; begin += chunk) {
    const size_t end = std::min(n, begin + chunk);
    try {
      workers.emplace_back([&fn, begin, end]() { fn(begin, end); });
    } catch (...) {
      inlineChunks.emplace_back(begin, end);
    }
  }
  fn(size_t{0}, std::min(n, chunk));
  for (const auto& c : inlineChunks) fn(c.first, c.second);
  for (auto& w : workers) w.join();
}

}  // namespace rewardkit
