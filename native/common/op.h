// The pattern every op binding follows (see native/ops.cc for the implementation):
//
//   Napi::Value GaeAdvantages(const Napi::CallbackInfo& info) {
//     OpArgs a(info, "gaeAdvantages");              // info[0] must be an options object
//     const uint64_t rows = a.size("rows");
//     const uint32_t* offsets = a.offsets("offsets", rows, tokens);   // private, checked copy
//     const float* values = a.array<float>("values", tokens);         // exact length, kept alive
//     float* out = a.array<float>("out", tokens);
//     return a.queue([=](Outputs& r) { gae(...); r.emplace_back("mean", m); });
//   }
//   REWARDKIT_OP("gaeAdvantages", GaeAdvantages);
//
// Every argument problem throws a TypeError/RangeError naming the property, synchronously, before
// any work is queued, so a wrong call from plain JS never reads or writes out of bounds. The work
// runs on the libuv pool (Napi::AsyncWorker), or at once for small calls (queue()), while every
// typed array it reads stays referenced; the promise resolves with an object of the numbers the
// work put in `Outputs`, and rejects (plain
// Error) only when the work itself throws (e.g. std::bad_alloc). The TypeScript side validates first
// and turns either into a RewardkitError (lib/backends/native.ts callNative).
#pragma once

#include <napi.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/views.h"

namespace rewardkit {

/** Named numbers an op's work returns to JS (status codes, scalar losses, metrics). */
using Outputs = std::vector<std::pair<std::string, double>>;
using Work = std::function<void(Outputs&)>;

constexpr uint64_t kMaxU32 = 0xFFFFFFFFull;

class OpWorker;

class OpArgs {
 public:
  OpArgs(const Napi::CallbackInfo& info, const char* op);
  ~OpArgs();  // deletes the worker unless queue() handed it to libuv
  OpArgs(const OpArgs&) = delete;
  OpArgs& operator=(const OpArgs&) = delete;

  Napi::Env env() const { return env_; }
  const Napi::Object& object() const { return obj_; }

  /** An integer in [0, max]. */
  uint64_t size(const char* name, uint64_t max = kMaxU32);
  /** Any number (NaN included). */
  double number(const char* name);
  /** Strictly true or false. */
  bool flag(const char* name);
  /** An integer in [0, count): enum codes. */
  int choice(const char* name, int count);

  /** A typed array of exactly `length` elements, kept alive until the work completes. */
  template <typename T>
  T* array(const char* name, uint64_t length) {
    View<T> v = getArray<T>(obj_, name);
    return keep(v, name, length);
  }
  /** As array(), but null/undefined give nullptr. */
  template <typename T>
  T* optional(const char* name, uint64_t length) {
    View<T> v = getArray<T>(obj_, name, true);
    if (!v.present()) return nullptr;
    return keep(v, name, length);
  }
  /** A private copy of an index array of `length` values, each < bound (JS cannot move them later). */
  const uint32_t* indices(const char* name, uint64_t length, uint64_t bound);
  /** CSR offsets [rows+1] (private copy): non-decreasing, offsets[rows] == tokens. */
  const uint32_t* offsets(const char* name, uint64_t rows, uint64_t tokens);

  /**
   * Queue the work; returns the promise. Call last. A call whose arrays hold at most kInlineBytes
   * runs at once on the JS thread instead (the promise is settled when it returns): below that the
   * libuv round trip (queue, wake a pool thread, post the completion back) costs more than the work.
   * Measured on the 2-core VM: a 1,024-token policy loss 43–54 µs → 12–19 µs per call.
   */
  Napi::Value queue(Work work);
  static constexpr uint64_t kInlineBytes = uint64_t{1} << 16;

  [[noreturn]] void range(const std::string& message) const;

 private:
  template <typename T>
  T* keep(const View<T>& v, const char* name, uint64_t length) {
    if (v.length != length) {
      range(std::string("expected '") + name + "' of length " + std::to_string(length) + ", got " + std::to_string(v.length));
    }
    hold(v.owner);
    bytes_ += v.length * sizeof(T);
    return v.data;
  }
  void hold(const Napi::Value& v);

  Napi::Env env_;
  Napi::Object obj_;
  std::string op_;
  OpWorker* worker_;
  uint64_t bytes_ = 0;  // of the arrays the work reads and writes
};

/** A promise settled now with `outputs` as an object of numbers (the inline path of queue()). */
Napi::Value settledPromise(Napi::Env env, const Outputs& outputs);

using OpFunction = Napi::Value (*)(const Napi::CallbackInfo&);

/** Adds an op to the table addon.cc exports (static registration: one line per op, in its own file). */
struct OpRegistration {
  OpRegistration(const char* name, OpFunction fn);
};
void exportOps(Napi::Env env, Napi::Object exports);

#define REWARDKIT_OP(name, fn) static const ::rewardkit::OpRegistration rewardkit_op_##fn(name, fn)

}  // namespace rewardkit
