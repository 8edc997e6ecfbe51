// parallel_for: split [0, n) into one contiguous chunk per hardware thread and run fn(begin, end)
// on each, the calling thread taking chunks too.
//
// The chunks run on a process-wide pool of hardware_threads() − 1 threads started on first use and
// parked on a condition variable between calls. Starting fresh std::threads per call (what this did
// before) cost 60–75 µs a thread and, worse, the kernel often placed the new thread on the caller's
// CPU: on the 2-core development VM a 9 ms logits call ran its two halves one after the other about
// half the time (measured: chunk times 4.5 ms alone, 8.5 ms when sharing). A woken thread is placed
// on an idle CPU instead. Several callers (libuv workers running different ops) may submit at once:
// each job is queued, any idle pool thread takes chunks from the oldest job that has some left, and
// every caller runs chunks of its own job until none is left, so a job never waits on another one
// (nested calls from inside fn are fine too). Small inputs (n < 2 * minChunk) run inline.
// Chunks of 1,024 or more are rounded to 64 elements so that threads never write the same cache line
// (for 4-byte elements, 64 elements = 4 cache lines) and the inner loops stay vectorisable; smaller n
// is a count of blocks or rows, split as evenly as it comes.
//
// fn must not throw: it runs on threads that have no one to catch for them. If the pool cannot be
// started, every chunk runs on the calling thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>
#include <type_traits>

namespace rewardkit {

// The threads the kernels split work over: REWARDKIT_THREADS when it is a positive integer (the
// loader, lib/backends/native.ts, refuses any other value before the addon loads), else every
// hardware thread. Read once: the pool is sized from it.
inline size_t hardware_threads() {
  static const size_t count = [] {
    if (const char* env = std::getenv("REWARDKIT_THREADS")) {
      char* end = nullptr;
      const unsigned long v = std::strtoul(env, &end, 10);
      if (*env != '\0' && *end == '\0' && v >= 1) return static_cast<size_t>(std::min<unsigned long>(v, 9999));
    }
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? size_t{1} : static_cast<size_t>(n);
  }();
  return count;
}

namespace detail {

// One parallel_for call: `count` chunks of `chunk` elements over [0, n), claimed by index.
struct Job {
  void (*run)(void* fn, size_t begin, size_t end);
  void* fn;
  size_t n, chunk, count;
  std::atomic<size_t> next{0}, finished{0};
  size_t users = 0;  // pool threads holding this job (guarded by the pool's mutex)

  // Runs chunks until none is left to claim.
  void work() {
    for (size_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < count;) {
      const size_t begin = c * chunk;
      run(fn, begin, std::min(n, begin + chunk));
      finished.fetch_add(1, std::memory_order_release);
    }
  }
};

class Pool {
 public:
  // Null when no thread could be started (the caller then runs everything itself).
  static Pool* get() {
    // Never destroyed: parked threads must not outlive a destructor run at process exit.
    static Pool* pool = start();
    return pool;
  }

  void run(Job& job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(&job);
    }
    wake_.notify_all();
    job.work();
    std::unique_lock<std::mutex> lock(mutex_);
    queue_.erase(std::find(queue_.begin(), queue_.end(), &job));  // no pool thread can take it now
    done_.wait(lock, [&] { return job.users == 0 && job.finished.load(std::memory_order_acquire) == job.count; });
  }

 private:
  static Pool* start() {
    const size_t threads = hardware_threads() - 1;
    if (threads == 0) return nullptr;
    Pool* pool = new Pool();
    size_t started = 0;
    for (size_t i = 0; i < threads; i++) {
      try {
        std::thread([pool] { pool->loop(); }).detach();
        started++;
      } catch (...) {
        break;
      }
    }
    if (started == 0) {
      delete pool;
      return nullptr;
    }
    return pool;
  }

  void loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      Job* job = nullptr;
      wake_.wait(lock, [&] {
        for (Job* j : queue_) {
          if (j->next.load(std::memory_order_relaxed) < j->count) { job = j; return true; }
        }
        return false;
      });
      job->users++;
      lock.unlock();
      job->work();
      lock.lock();
      job->users--;
      done_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::deque<Job*> queue_;
};

template <typename F>
void runChunk(void* fn, size_t begin, size_t end) {
  (*static_cast<F*>(fn))(begin, end);
}

}  // namespace detail

template <typename F>
void parallel_for(size_t n, size_t minChunk, F&& fn) {
  if (n == 0) return;
  if (minChunk == 0) minChunk = 1;
  const size_t hw = hardware_threads();
  const size_t threads = hw <= 1 || n < minChunk * 2 ? 1 : std::min(hw, std::max<size_t>(1, n / minChunk));
  detail::Pool* pool = threads > 1 ? detail::Pool::get() : nullptr;
  if (pool == nullptr) {
    fn(size_t{0}, n);
    return;
  }
  size_t chunk = (n + threads - 1) / threads;
  // Round to 64 only when chunks are large: for a count of blocks or rows (n of a few dozen),
  // rounding a chunk of 32 up to 64 would hand everything to one thread.
  if (chunk >= 1024) chunk = (chunk + 63) & ~static_cast<size_t>(63);
  typedef typename std::remove_reference<F>::type Fn;
  detail::Job job;
  job.run = &detail::runChunk<Fn>;
  job.fn = const_cast<void*>(static_cast<const void*>(&fn));
  job.n = n;
  job.chunk = chunk;
  job.count = (n + chunk - 1) / chunk;
  pool->run(job);
}

}  // namespace rewardkit
