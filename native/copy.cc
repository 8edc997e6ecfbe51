// copy(dst, src): a multi-threaded memcpy of one typed array's bytes into another of the same byte
// length, off the main thread. A bench reference only: it moves the bytes a memory-bound kernel
// reads and writes, so kernel time / copy time says how close to the memory bandwidth it runs.
#include <napi.h>

#include <cstring>
#include <exception>
#include <string>

#include "common/parallel.h"
#include "common/views.h"

namespace rewardkit {
namespace {

class CopyWorker : public Napi::AsyncWorker {
 public:
  CopyWorker(Napi::Env env, Napi::TypedArray dst, Napi::TypedArray src)
      : Napi::AsyncWorker(env, "rewardkit:copy"),
        deferred_(Napi::Promise::Deferred::New(env)),
        dstRef_(Napi::Persistent(dst)),
        srcRef_(Napi::Persistent(src)),
        dst_(static_cast<char*>(dst.ArrayBuffer().Data()) + dst.ByteOffset()),
        src_(static_cast<const char*>(src.ArrayBuffer().Data()) + src.ByteOffset()),
        bytes_(dst.ByteLength()) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      char* dst = dst_;
      const char* src = src_;
      parallel_for(bytes_, size_t{1} << 18, [dst, src](size_t begin, size_t end) {
        std::memmove(dst + begin, src + begin, end - begin);  // memmove: the two may share a buffer
      });
    } catch (const std::exception& e) {
      SetError(std::string("rewardkit native: copy failed: ") + e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::TypedArray> dstRef_, srcRef_;  // keep both arrays alive until done
  char* dst_;
  const char* src_;
  size_t bytes_;
};

}  // namespace

/** copy(dst, src) → Promise<void>. Throws (synchronously) a TypeError or RangeError on bad arguments. */
Napi::Value Copy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsTypedArray()) {
    throwType(env, "copy(dst, src) expects two typed arrays, got " +
                       (info.Length() < 1 ? std::string("nothing") : describeValue(info[0])) + " and " +
                       (info.Length() < 2 ? std::string("nothing") : describeValue(info[1])));
  }
  Napi::TypedArray dst = info[0].As<Napi::TypedArray>(), src = info[1].As<Napi::TypedArray>();
  for (const Napi::TypedArray* ta : {&dst, &src}) {
    if (ta->ArrayBuffer().Get("resizable").ToBoolean().Value()) {
      throwType(env, std::string("copy(dst, src): '") + (ta == &dst ? "dst" : "src") +
                         "' must be backed by a fixed-length ArrayBuffer, got a resizable one");
    }
  }
  if (dst.ByteLength() != src.ByteLength()) {
    throwRange(env, "copy(dst, src) needs the same byte length, got " + std::to_string(dst.ByteLength()) + " and " +
                        std::to_string(src.ByteLength()));
  }
  auto* worker = new CopyWorker(env, dst, src);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace rewardkit
