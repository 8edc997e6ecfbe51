// The rewardkit addon: grpoAdvantages(obj), copy(dst, src), buildInfo(), and every op registered
// with REWARDKIT_OP (native/common/op.h) in its own file.
//
// Errors: every argument problem (wrong type, wrong length, an index out of range) is thrown
// synchronously by the call as a TypeError (wrong type) or RangeError (wrong size/value), before
// any work is queued, so nothing is ever read or written out of bounds. The returned promise only
// rejects (with a plain Error) when the work itself fails, e.g. out of memory. The TypeScript
// wrapper (lib/advantage/grpo.native.ts) validates first and turns either into a RewardkitError.
//
// The kernels run on the libuv thread pool (Napi::AsyncWorker), which splits them further over the
// pool of common/parallel.h; the worker holds references to every typed array until it completes.
// Calls with at most OpArgs::kInlineBytes of arrays run on the JS thread instead (common/op.h).
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/op.h"
#include "common/parallel.h"
#include "common/views.h"
#include "grpo.h"

#ifndef REWARDKIT_BUILD_SYSTEM
#define REWARDKIT_BUILD_SYSTEM "unknown"
#endif
#ifndef NAPI_VERSION
#error "NAPI_VERSION must be defined by the build (8)"
#endif

namespace rewardkit {

Napi::Value Copy(const Napi::CallbackInfo& info);  // copy.cc

namespace {

class GrpoWorker : public Napi::AsyncWorker {
 public:
  explicit GrpoWorker(Napi::Env env)
      : Napi::AsyncWorker(env, "rewardkit:grpoAdvantages"), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  /** Keep a typed array alive until the work completes. */
  void Hold(const Napi::Value& v) {
    if (!v.IsEmpty()) refs_.push_back(Napi::Persistent(v.As<Napi::Object>()));
  }

  GrpoArgs args;
  // Private copies of the index arrays checked on the main thread: JS cannot change them under
  // the kernel after validation (the other arrays only hold values, never positions).
  std::vector<uint32_t> offsets, groupIds;

  void Execute() override {
    try {
      status_ = grpo_advantages(args);
    } catch (const std::exception& e) {
      SetError(std::string("rewardkit native: grpoAdvantages failed: ") + e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object result = Napi::Object::New(env);
    result.Set("badRow", Napi::Number::New(env, static_cast<double>(status_.badRow)));
    result.Set("badValue", Napi::Number::New(env, status_.badValue));
    deferred_.Resolve(result);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> refs_;
  GrpoStatus status_;
};

std::string num(uint64_t v) { return std::to_string(v); }

/**
 * grpoAdvantages({ rows, cols, tokens, mask, offsets, scores, tokenScores, sumMasked, groupIds,
 * numGroups, trl, scale, epsilon, outTokens, outRows }) → Promise<{ badRow, badValue }>.
 */
Napi::Value GrpoAdvantages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject() || info[0].IsTypedArray() || info[0].IsArray()) {
    throwType(env, std::string("grpoAdvantages(problem) expects an options object, got ") +
                       (info.Length() < 1 ? "nothing" : describeValue(info[0])));
  }
  Napi::Object o = info[0].As<Napi::Object>();

  const uint64_t rows = getSize(o, "rows", kMaxU32);
  const uint64_t cols = getSize(o, "cols", kMaxU32);
  const uint64_t tokens = getSize(o, "tokens", kMaxU32);
  if (rows < 1) throwRange(env, "expected 'rows' >= 1, got 0");

  // Layout: padded (mask, cols) or packed (offsets), exactly one.
  Napi::Value maskValue = o.Get("mask");
  View<uint8_t> maskU8;
  View<float> maskF32;
  MaskKind maskKind = MaskKind::None;
  if (isTypedArrayOf<uint8_t>(maskValue)) {
    maskU8 = viewOf<uint8_t>(maskValue, "mask");
    maskKind = MaskKind::U8;
  } else if (isTypedArrayOf<float>(maskValue)) {
    maskF32 = viewOf<float>(maskValue, "mask");
    maskKind = MaskKind::F32;
  } else if (!maskValue.IsNull() && !maskValue.IsUndefined()) {
    throwType(env, "expected 'mask' to be a Uint8Array, Float32Array or null, got " + describeValue(maskValue));
  }
  View<uint32_t> offsets = getArray<uint32_t>(o, "offsets", true);

  auto* worker = new GrpoWorker(env);
  // From here on, a throw must delete the worker (it is not queued yet).
  try {
    GrpoArgs& a = worker->args;
    a.rows = rows;
    a.tokens = tokens;
    if (offsets.present()) {
      if (maskKind != MaskKind::None) throwType(env, "expected either 'mask' (padded) or 'offsets' (packed), got both");
      if (offsets.length != rows + 1) {
        throwRange(env, "expected 'offsets' of length rows + 1 = " + num(rows + 1) + ", got " + num(offsets.length));
      }
      worker->offsets.assign(offsets.data, offsets.data + offsets.length);
      const std::vector<uint32_t>& off = worker->offsets;
      for (uint64_t i = 0; i < rows; i++) {
        if (off[i] > off[i + 1]) {
          throwRange(env, "expected 'offsets' non-decreasing, got offsets[" + num(i) + "] = " + num(off[i]) +
                              " > offsets[" + num(i + 1) + "] = " + num(off[i + 1]));
        }
      }
      if (off[rows] != tokens) {
        throwRange(env, "expected offsets[rows] = tokens = " + num(tokens) + ", got " + num(off[rows]));
      }
      a.cols = 0;
      a.offsets = off.data();
      worker->Hold(offsets.owner);
    } else {
      if (maskKind == MaskKind::None) throwType(env, "expected 'mask' (padded) or 'offsets' (packed), got neither");
      if (cols < 1) throwRange(env, "expected 'cols' >= 1 for the padded layout, got 0");
      if (rows * cols != tokens) {  // rows, cols < 2^32: the product cannot overflow 64 bits
        throwRange(env, "expected tokens = rows * cols = " + num(rows) + " * " + num(cols) + ", got " + num(tokens));
      }
      const size_t maskLength = maskKind == MaskKind::U8 ? maskU8.length : maskF32.length;
      if (maskLength != tokens) {
        throwRange(env, "expected 'mask' of length rows * cols = " + num(tokens) + ", got " + num(maskLength));
      }
      a.cols = cols;
      a.maskKind = maskKind;
      a.maskU8 = maskU8.data;
      a.maskF32 = maskF32.data;
      worker->Hold(maskKind == MaskKind::U8 ? maskU8.owner : maskF32.owner);
    }

    a.tokenScores = getBool(o, "tokenScores");
    a.sumMasked = getBool(o, "sumMasked");
    View<float> scores = getArray<float>(o, "scores");
    const uint64_t wantScores = a.tokenScores ? tokens : rows;
    if (scores.length != wantScores) {
      throwRange(env, std::string("expected 'scores' of length ") + (a.tokenScores ? "tokens = " : "rows = ") +
                          num(wantScores) + ", got " + num(scores.length));
    }
    a.scores = scores.data;
    worker->Hold(scores.owner);

    const uint64_t numGroups = getSize(o, "numGroups", kMaxU32);
    if (numGroups < 1 || numGroups > rows) {
      throwRange(env, "expected 'numGroups' in [1, rows = " + num(rows) + "], got " + num(numGroups));
    }
    View<uint32_t> groupIds = getArray<uint32_t>(o, "groupIds");
    if (groupIds.length != rows) {
      throwRange(env, "expected 'groupIds' of length rows = " + num(rows) + ", got " + num(groupIds.length));
    }
    worker->groupIds.assign(groupIds.data, groupIds.data + groupIds.length);
    for (uint64_t i = 0; i < rows; i++) {
      if (worker->groupIds[i] >= numGroups) {
        throwRange(env, "expected groupIds[" + num(i) + "] < numGroups = " + num(numGroups) + ", got " +
                            num(worker->groupIds[i]));
      }
    }
    a.groupIds = worker->groupIds.data();
    a.numGroups = numGroups;

    a.trl = getBool(o, "trl");
    const uint64_t scale = getSize(o, "scale", 2);  // 0 = group, 1 = batch, 2 = none
    a.scale = static_cast<GrpoScale>(scale);
    a.epsilon = getNumber(o, "epsilon");

    View<float> outTokens = getArray<float>(o, "outTokens");
    if (outTokens.length != tokens) {
      throwRange(env, "expected 'outTokens' of length tokens = " + num(tokens) + ", got " + num(outTokens.length));
    }
    View<float> outRows = getArray<float>(o, "outRows");
    if (outRows.length != rows) {
      throwRange(env, "expected 'outRows' of length rows = " + num(rows) + ", got " + num(outRows.length));
    }
    a.outTokens = outTokens.data;
    a.outRows = outRows.data;
    worker->Hold(outTokens.owner);
    worker->Hold(outRows.owner);
  } catch (const Napi::Error&) {
    delete worker;
    throw;
  } catch (const std::exception& e) {  // e.g. std::bad_alloc copying the index arrays
    delete worker;
    throw Napi::Error::New(env, std::string("rewardkit native: grpoAdvantages: ") + e.what());
  }
  const GrpoArgs& a = worker->args;
  const uint64_t bytes = a.tokens * (4 + (a.tokenScores ? 4 : 0) + (maskKind == MaskKind::F32 ? 4 : 1)) + a.rows * 16;
  if (bytes <= OpArgs::kInlineBytes) {  // small: run here, as OpArgs::queue does
    std::unique_ptr<GrpoWorker> owned(worker);
    GrpoStatus status;
    try {
      status = grpo_advantages(a);
    } catch (const std::exception& e) {  // rejected, as the queued path does
      Napi::Promise::Deferred failed = Napi::Promise::Deferred::New(env);
      failed.Reject(Napi::Error::New(env, std::string("rewardkit native: grpoAdvantages failed: ") + e.what()).Value());
      return failed.Promise();
    }
    return settledPromise(env, {{"badRow", static_cast<double>(status.badRow)}, {"badValue", status.badValue}});
  }
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("buildSystem", REWARDKIT_BUILD_SYSTEM);
#ifdef __VERSION__
  o.Set("compiler", __VERSION__);
#else
  o.Set("compiler", "unknown");
#endif
  o.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  o.Set("threads", Napi::Number::New(env, static_cast<double>(hardware_threads())));
  o.Set("version", "0.1.0");
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("grpoAdvantages", Napi::Function::New(env, GrpoAdvantages, "grpoAdvantages"));
  exports.Set("copy", Napi::Function::New(env, Copy, "copy"));
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo, "buildInfo"));
  exportOps(env, exports);  // every op registered with REWARDKIT_OP in its own file
  return exports;
}

}  // namespace
}  // namespace rewardkit

// NODE_API_MODULE pastes the function name into an identifier: it needs an unqualified one.
static Napi::Object InitRewardkit(Napi::Env env, Napi::Object exports) { return rewardkit::Init(env, exports); }
NODE_API_MODULE(rewardkit, InitRewardkit)
